// The workbench's server side, without a browser: the static app (CSP, only files of the build, API 404s
// stay JSON), the overview and browser routes, the files named on the command line (picked by index, never
// by path), validation (4xx with a message), and the app served over a database that cannot be opened.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Store } from '../store/index.js';
import { createApp } from './app.js';
import { createUnavailableApp } from './routes/unavailable.js';
import { makeWorkbenchFixture, type WorkbenchFixture } from './workbench-fixture.test-helper.js';

let fx: WorkbenchFixture;
let store: Store;
let app: FastifyInstance;
let webRoot: string;

before(async () => {
  fx = await makeWorkbenchFixture({ bigGraph: false });
  // A stand-in build folder, so this test does not depend on `npm run build:web`.
  webRoot = path.join(fx.dir, 'web');
  fs.mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Loupe</title><script type="module" src="/assets/app-1.js"></script>');
  fs.writeFileSync(path.join(webRoot, 'assets', 'app-1.js'), 'console.log(1)');
  store = await Store.open(fx.db);
  app = (await createApp({ store, webRoot, artifacts: { graphs: [{ name: 'graph.json', path: fx.graph }], dynamics: [{ name: 'd.json', path: fx.dynamics }], dictionary: null, transcoders: [] } })).app;
});
after(async () => {
  await app.close();
  store.close();
  fx.cleanup();
});

test('GET / is the app with a strict CSP; assets are served; nothing outside the build is', async () => {
  const r = await app.inject({ method: 'GET', url: '/' });
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /text\/html/);
  assert.match(r.headers['content-security-policy'] as string, /script-src 'self'/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const js = await app.inject({ method: 'GET', url: '/assets/app-1.js' });
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.match(js.headers['cache-control'] as string, /immutable/);
  for (const url of ['/assets/../../f.duckdb', '/%2e%2e/f.duckdb', '/assets/nope.js', '/..%2Fgraph.json']) {
    const x = await app.inject({ method: 'GET', url });
    assert.ok(x.statusCode === 404 || x.statusCode === 400 || (x.statusCode === 200 && /<title>Loupe/.test(x.body)), `${url}: ${x.statusCode} ${x.body.slice(0, 80)}`);
    assert.doesNotMatch(x.body, /DUCK|"nodes"/);
  }
  const api = await app.inject({ method: 'GET', url: '/api/nope' });
  assert.equal(api.statusCode, 404);
  assert.equal(api.json().error.code, 'not_found');
  const health = await app.inject({ method: 'GET', url: '/api/health' });
  assert.deepEqual(health.json(), { ok: true });
});

test('model overview, browser table ordered by score and filtered, artifacts by index', async () => {
  const m = (await app.inject({ method: 'GET', url: '/api/model' })).json();
  assert.equal(m.database.nFeatures, 32);
  assert.equal(m.model, null); // synthetic source: no transformer
  assert.deepEqual(m.graphs, [{ id: 0, name: 'graph.json' }]);
  const page = (await app.inject({ method: 'GET', url: '/api/workbench/features?order=density&limit=5' })).json();
  assert.equal(page.total, 32);
  assert.equal(page.features.length, 5);
  for (let i = 1; i < 5; i++) assert.ok(page.features[i - 1].density >= page.features[i].density);
  const filtered = (await app.inject({ method: 'GET', url: '/api/workbench/features?explanation=%25_nothing' })).json();
  assert.equal(filtered.matching, 0);
  const g = await app.inject({ method: 'GET', url: '/api/graphs/0' });
  assert.equal(g.statusCode, 200);
  assert.equal(JSON.parse(g.body).nodes.length, 300);
  const d = (await app.inject({ method: 'GET', url: '/api/dynamics/0' })).json();
  assert.equal(d.checkpoints.length, 8);
});

test('bad parameters are refused with a message', async () => {
  for (const [url, status] of [
    ['/api/workbench/features?order=bogus', 400],
    ['/api/workbench/features?limit=0', 400],
    ['/api/workbench/features?sql=1', 400],
    ['/api/graphs/7', 404],
    ['/api/graphs/..%2F..%2Fetc%2Fpasswd', 400],
    ['/api/dynamics/-1', 400],
    ['/api/dictionaries/9/report', 404],
  ] as const) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, status, `${url}: ${r.body}`);
    assert.equal(typeof r.json().error.message, 'string');
  }
  const s = await app.inject({ method: 'POST', url: '/api/steer/stream', payload: { prompt: 'the cat', interventions: [{ feature: 1, mode: 'add', amount: 2 }] } });
  assert.equal(s.statusCode, 400);
  assert.match(s.json().error.message, /synthetic source/);
  const bad = await app.inject({ method: 'POST', url: '/api/steer/stream', payload: { prompt: 'x', interventions: [{ feature: 1, mode: 'explode' }] } });
  assert.equal(bad.statusCode, 400);
});

test('a database that cannot be opened: the app loads and every API call says why', async () => {
  const u = await createUnavailableApp('cannot open the feature database /nowhere.duckdb: no such file', { webRoot });
  try {
    assert.equal((await u.inject({ method: 'GET', url: '/' })).statusCode, 200);
    assert.deepEqual((await u.inject({ method: 'GET', url: '/api/health' })).json(), { ok: true });
    const r = await u.inject({ method: 'GET', url: '/api/model' });
    assert.equal(r.statusCode, 503);
    assert.match(r.json().error.message, /nowhere\.duckdb/);
  } finally {
    await u.close();
  }
});
