// The shell: a top bar with the pages, a banner when the server cannot serve the database, and the page
// the URL hash names.
import { useApi } from './api';
import { ErrorBox } from './components/Status';
import { FeatureBrowser } from './pages/Browser';
import { FeaturePage } from './pages/Feature';
import { GraphPage } from './pages/graph/GraphPage';
import { Inspector } from './pages/Inspector';
import { OverviewPage } from './pages/Overview';
import { SteeringPage } from './pages/Steering';
import { TrainingPage } from './pages/Training';
import { href, useRoute } from './router';
import type { Overview } from './types';

const NAV: [string, string][] = [
  ['', 'Model'],
  ['features', 'Features'],
  ['inspect', 'Inspector'],
  ['steer', 'Steering'],
  ['graph', 'Graph'],
  ['training', 'Training'],
];

export function App() {
  const route = useRoute();
  const overview = useApi<Overview>('/api/model');
  const page = route.parts[0] ?? '';
  const ov = overview.state === 'ready' ? overview.value : null;
  let body;
  switch (page) {
    case '':
      body = <OverviewPage data={overview} />;
      break;
    case 'features':
      body = <FeatureBrowser route={route} />;
      break;
    case 'feature':
      body = <FeaturePage id={route.parts[1] ?? ''} route={route} overview={ov} />;
      break;
    case 'inspect':
      body = <Inspector route={route} overview={ov} />;
      break;
    case 'steer':
      body = <SteeringPage route={route} overview={ov} />;
      break;
    case 'graph':
      body = <GraphPage route={route} overview={ov} />;
      break;
    case 'training':
      body = <TrainingPage route={route} overview={ov} />;
      break;
    default:
      body = <ErrorBox title="No such page" error={`"#/${route.parts.join('/')}" is not a page of the workbench; pick one above.`} />;
  }
  const current = page === 'feature' ? 'features' : page;
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/">
          Loupe
        </a>
        <nav>
          {NAV.map(([p, label]) => (
            <a key={p} href={href(`/${p}`)} class={current === p ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="dbname" title={ov?.database.path}>
          {ov ? `${ov.database.identity.dictionary.architecture} · ${ov.database.nFeatures} features · ${ov.database.identity.dictionary.hookName}` : ''}
        </span>
      </header>
      {overview.state === 'error' && page !== '' && <ErrorBox title="The server cannot serve the feature database" error={overview.error} />}
      <main>{body}</main>
    </div>
  );
}
