// Attribution-graph explorer: x = token position, y = layer (embeddings below, logits above). Hover a node
// to highlight its links, click it for its panel, pin nodes into a subgraph and group them into
// supernodes, prune with the sliders. The view state (graph, pruning, pins, supernodes, selection) lives
// in the URL, in circuit-tracer's qParams vocabulary.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, readReply } from '../../api';
import { ErrorBox, Loading, Panel } from '../../components/Status';
import { setParams, type Route } from '../../router';
import type { Overview } from '../../types';
import { GraphCanvas } from './GraphCanvas';
import { GraphFormatError, prune, readGraph, type Graph } from './model';
import { NodePanel } from './NodePanel';
import { Subgraph } from './Subgraph';

function parseSupernodes(s: string | null): string[][] {
  if (!s) return [];
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string[] => Array.isArray(x) && x.length > 1 && x.every((y) => typeof y === 'string')) : [];
  } catch {
    return [];
  }
}

export function GraphPage({ route, overview }: { route: Route; overview: Overview | null }) {
  const p = route.params;
  const gParam = p.get('g');
  const [graph, setGraph] = useState<Graph | null>(null);
  const [source, setSource] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(false);
  const nt = Math.min(1, Math.max(0, Number(p.get('nt') ?? 0.8)));
  const lf = Math.min(1, Math.max(0, Number(p.get('lf') ?? 1)));
  const pinnedList = (p.get('pinned') ?? '').split(',').filter(Boolean);
  const supernodes = parseSupernodes(p.get('sn'));
  const clicked = p.get('clicked');
  const pinnedKey = pinnedList.join(',');
  const pinned = useMemo(() => new Set(pinnedList), [pinnedKey]);

  const adopt = (g: Graph, name: string): void => {
    setGraph(g);
    setSource(name);
    setError(null);
    // a graph file's own qParams apply when the URL has none
    if (!p.get('pinned') && (g.pinnedIds.length || g.supernodes.length)) setParams({ pinned: g.pinnedIds.join(',') || null, sn: g.supernodes.length ? JSON.stringify(g.supernodes) : null });
  };

  useEffect(() => {
    if (gParam === null) return;
    if (!/^\d+$/.test(gParam)) {
      setError(new Error(`"${gParam}" is not a graph number`));
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    fetch(`/api/graphs/${gParam}`, { signal: ctl.signal })
      .then(async (res) => {
        if (!res.ok) await readReply(res);
        const text = await res.text();
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (e) {
          throw new GraphFormatError(`the graph file is not valid JSON (${(e as Error).message})`);
        }
        adopt(readGraph(raw), overview?.graphs.find((x) => String(x.id) === gParam)?.name ?? `graph ${gParam}`);
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e))
      .finally(() => setLoading(false));
    return () => ctl.abort();
  }, [gParam]);

  const openFile = async (f: File): Promise<void> => {
    setLoading(true);
    try {
      let raw: unknown;
      try {
        raw = JSON.parse(await f.text());
      } catch (e) {
        throw new GraphFormatError(`${f.name} is not valid JSON (${(e as Error).message})`);
      }
      setParams({ g: null, clicked: null });
      adopt(readGraph(raw), f.name);
    } catch (e) {
      setError(e as Error);
    } finally {
      setLoading(false);
    }
  };

  const pruned = useMemo(() => (graph ? prune(graph, nt, lf, pinned) : null), [graph, nt, lf, pinned]);
  const setPins = (list: string[], sn: string[][]): void => setParams({ pinned: list.join(',') || null, sn: sn.length ? JSON.stringify(sn) : null });
  const togglePin = (id: string): void => setPins(pinned.has(id) ? pinnedList.filter((x) => x !== id) : [...pinnedList, id], supernodes);

  return (
    <div class="page graph">
      <div class="graph-head">
        <h2>Attribution graph</h2>
        <label class="chip-select">
          graph{' '}
          <select value={gParam ?? ''} onChange={(e) => setParams({ g: (e.target as HTMLSelectElement).value || null, clicked: null, pinned: null, sn: null }, { push: true })}>
            <option value="">{source && gParam === null ? `file: ${source}` : '— choose —'}</option>
            {overview?.graphs.map((g) => (
              <option key={g.id} value={g.id}>{g.name}</option>
            ))}
          </select>
        </label>
        <label class="file">
          open GRAPH.json…{' '}
          <input type="file" accept=".json,application/json" data-testid="graph-file" onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) void openFile(f);
          }} />
        </label>
      </div>
      {error && <ErrorBox title={error instanceof GraphFormatError ? 'This is not a graph the explorer can read' : error instanceof ApiError ? 'Could not load the graph' : 'Something went wrong'} error={error} />}
      {loading && <Loading what="the graph" />}
      {!graph && !loading && !error && <p class="muted">Choose a graph this server was started with (<code>loupe serve --graph GRAPH.json</code>), or open a GRAPH.json written by <code>loupe attribute</code>.</p>}
      {graph && pruned && (
        <>
          <div class="graph-meta">
            <span class="prompt-line" data-testid="graph-prompt">{graph.prompt}</span>
            <span class="muted">
              {graph.slug} · showing {pruned.nodes.toLocaleString('en')} of {graph.nodes.length.toLocaleString('en')} nodes, {pruned.links.toLocaleString('en')} of {graph.src.length.toLocaleString('en')} links
            </span>
          </div>
          {graph.warnings.map((w) => <div key={w} class="warning">{w}</div>)}
          <div class="graph-controls">
            <label>
              node influence ≤ <strong>{nt.toFixed(2)}</strong>
              <input type="range" min={0} max={1} step={0.01} value={nt} data-testid="node-threshold" onInput={(e) => setParams({ nt: (e.target as HTMLInputElement).value })} />
            </label>
            <label>
              strongest links <strong>{Math.round(lf * 100)}%</strong>
              <input type="range" min={0} max={1} step={0.01} value={lf} data-testid="link-fraction" onInput={(e) => setParams({ lf: (e.target as HTMLInputElement).value })} />
            </label>
            <span class="legend">
              <i class="lg lg-feature" /> feature <i class="lg lg-error" /> error <i class="lg lg-embedding" /> token <i class="lg lg-logit" /> logit <i class="lg lg-pos" /> excites <i class="lg lg-neg" /> inhibits <i class="lg lg-pin" /> pinned
            </span>
          </div>
          <GraphCanvas graph={graph} nodeOn={pruned.nodeOn} linkOn={pruned.linkOn} pinned={pinned} selected={clicked} onSelect={(id, pin) => (pin && id ? togglePin(id) : setParams({ clicked: id }))} />
          <div class="grid2">
            {clicked ? <NodePanel graph={graph} id={clicked} overview={overview} pinned={pinned.has(clicked)} onSelect={(id) => setParams({ clicked: id })} onPin={() => togglePin(clicked)} /> : <Panel title="Node"><p class="muted">Hover a node to see its links; click it for its panel.</p></Panel>}
            <Subgraph graph={graph} pinned={pinnedList} supernodes={supernodes} onChange={setPins} onSelect={(id) => setParams({ clicked: id })} />
          </div>
        </>
      )}
    </div>
  );
}
