// The clicked node: what it is, its strongest inputs and outputs, and for a feature of the database's
// dictionary, its feature panel (explanation, logits, top examples) with a link to the full page.
import { useApi } from '../../api';
import { Panel, Show } from '../../components/Status';
import { Tokens } from '../../components/Tokens';
import { href } from '../../router';
import type { FeatureRecord, Overview } from '../../types';
import { fmt, pct, showToken } from '../../util';
import type { Graph } from './model';
import { rowLabel } from './render';

export function NodePanel({ graph, id, overview, pinned, onSelect, onPin }: { graph: Graph; id: string; overview: Overview | null; pinned: boolean; onSelect(id: string): void; onPin(): void }) {
  const i = graph.byId.get(id);
  if (i === undefined) return <Panel title="Node"><p class="muted">No node “{id}” in this graph.</p></Panel>;
  const n = graph.nodes[i]!;
  const db = n.kind === 'feature' ? databaseFor(graph, n.layer!, overview) : null;
  const inDb = db?.ok === true && n.index !== null && n.index < overview!.database.nFeatures;
  const links = (start: Int32Array, idx: Int32Array, other: Int32Array) => {
    const out: { node: number; w: number }[] = [];
    for (let j = start[i]!; j < start[i + 1]!; j++) out.push({ node: other[idx[j]!]!, w: graph.weight[idx[j]!]! });
    return out.sort((a, b) => Math.abs(b.w) - Math.abs(a.w)).slice(0, 8);
  };
  const inputs = links(graph.inStart, graph.inIdx, graph.src);
  const outputs = links(graph.outStart, graph.outIdx, graph.dst);
  return (
    <Panel title={n.kind === 'feature' ? `Feature ${n.index} · ${rowLabel(graph, n.row)} @ ${n.pos}` : `${n.kind} · ${rowLabel(graph, n.row)} @ ${n.pos}`} right={<button class="secondary small" onClick={onPin}>{pinned ? 'unpin' : 'pin to subgraph'}</button>} id="node-panel">
      <div class="node-label" data-testid="node-label">{n.label || n.id}</div>
      <table class="kv compact">
        <tbody>
          <tr><th>node</th><td class="mono">{n.id}</td></tr>
          <tr><th>token</th><td><span class="tokchip">{showToken(graph.tokens[n.pos] ?? '')}</span> (position {n.pos})</td></tr>
          {n.activation !== null && <tr><th>activation</th><td>{fmt(n.activation)}</td></tr>}
          {n.influence !== null && <tr><th>influence</th><td>{fmt(n.influence)} (cumulative)</td></tr>}
          {n.kind === 'logit' && <tr><th>probability</th><td>{fmt(n.tokenProb)}{n.target ? ' · target' : ''}</td></tr>}
        </tbody>
      </table>
      <div class="grid2 tight">
        <LinkList title="strongest inputs" graph={graph} items={inputs} onSelect={onSelect} />
        <LinkList title="strongest outputs" graph={graph} items={outputs} onSelect={onSelect} />
      </div>
      {n.kind === 'feature' && (inDb ? <FeatureSummary feature={n.index!} /> : <p class="muted small" data-testid="node-no-feature">{db?.ok === false ? db.why : `No feature ${n.index} in this server's feature database.`}</p>)}
    </Panel>
  );
}

function hookLayer(hook: string): number | null {
  const m = /^blocks\.(\d+)\./.exec(hook);
  return m ? Number(m[1]) : null;
}

/**
 * Whether the server's feature database describes the dictionary of a graph's layer-L features. A graph
 * that names its transcoders (written by `loupe attribute`) needs the database's dictionary to be that
 * layer's transcoder (same input and output hooks, same size): an SAE at the same layer has other
 * latents under the same indices. A graph that does not say falls back to the layer of the hook.
 */
function databaseFor(graph: Graph, L: number, overview: Overview | null): { ok: true } | { ok: false; why: string } {
  if (!overview) return { ok: false, why: 'The server has no feature database.' };
  const d = overview.database.identity.dictionary;
  const t = graph.transcoders;
  if (t) {
    const same = t.kind === 'per-layer' && d.hookName === `blocks.${L}.${t.input}` && d.hookNameOut === `blocks.${L}.hook_mlp_out` && overview.database.nFeatures === t.features[L];
    if (same) return { ok: true };
    return {
      ok: false,
      why: `This feature is a latent of the graph's layer-${L} transcoder (${t.kind}, ${t.features[L] ?? '?'} latents, reading blocks.${L}.${t.input}); the server's feature database describes another dictionary (${d.architecture} on ${d.hookName}${d.hookNameOut ? ` → ${d.hookNameOut}` : ''}, ${overview.database.nFeatures} features), not this graph's, so no feature page is shown.`,
    };
  }
  const dictLayer = hookLayer(d.hookName);
  if (dictLayer === null || dictLayer === L) return { ok: true };
  return { ok: false, why: `No feature database for layer ${L}'s dictionary on this server (it serves layer ${dictLayer}).` };
}

function LinkList({ title, graph, items, onSelect }: { title: string; graph: Graph; items: { node: number; w: number }[]; onSelect(id: string): void }) {
  return (
    <div>
      <div class="muted small">{title}</div>
      {items.length === 0 ? (
        <div class="muted small">none</div>
      ) : (
        <ul class="linklist">
          {items.map(({ node, w }) => {
            const m = graph.nodes[node]!;
            return (
              <li key={node}>
                <span class={w >= 0 ? 'pos' : 'neg'}>{fmt(w)}</span>{' '}
                <button class="link" onClick={() => onSelect(m.id)}>{m.label || m.id}</button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function FeatureSummary({ feature }: { feature: number }) {
  const data = useApi<FeatureRecord>(`/api/features/${feature}`);
  return (
    <Show data={data} what={`feature ${feature}`}>
      {(f) => (
        <div class="feature-summary" data-testid="node-feature">
          <div>
            <strong>{f.explanations[0]?.text ?? 'not explained yet'}</strong> <span class="muted">· density {pct(f.density)} · max {fmt(f.max_activation)}</span>
          </div>
          <div class="small">
            promotes: {f.top_logits.slice(0, 6).map((l) => <span key={l.token_id} class="tokchip">{showToken(l.token)}</span>)}
          </div>
          {f.top_examples.slice(0, 3).map((e, k) => (
            <div key={k} class="example small">
              <Tokens tokens={e.tokens} values={e.activations} max={f.max_activation} mark={e.position} label={`feature ${feature}`} />
            </div>
          ))}
          <a href={href(`/feature/${feature}`)}>feature page →</a>
        </div>
      )}
    </Show>
  );
}
