// The subgraph of pinned nodes, with supernodes (named groups drawn as one box); links between groups
// are the sums of the links between their members. Grouping state is the URL's (pinned, sn).
import { useState } from 'preact/hooks';
import { Panel } from '../../components/Status';
import { fmt } from '../../util';
import type { Graph } from './model';
import { rowLabel } from './render';

export function Subgraph({ graph, pinned, supernodes, onChange, onSelect }: { graph: Graph; pinned: string[]; supernodes: string[][]; onChange(pinned: string[], supernodes: string[][]): void; onSelect(id: string): void }) {
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [name, setName] = useState('');
  const grouped = new Map<string, number>();
  supernodes.forEach((s, k) => s.slice(1).forEach((id) => grouped.set(id, k)));
  // groups: supernodes first, then each ungrouped pinned node alone
  const groups: { key: string; label: string; members: number[]; supernode: number | null }[] = supernodes.map((s, k) => ({ key: `s${k}`, label: s[0]!, members: s.slice(1).map((id) => graph.byId.get(id)).filter((i): i is number => i !== undefined), supernode: k }));
  for (const id of pinned) {
    const i = graph.byId.get(id);
    if (i !== undefined && !grouped.has(id)) groups.push({ key: id, label: graph.nodes[i]!.label || id, members: [i], supernode: null });
  }
  const groupOf = new Map<number, number>();
  groups.forEach((g, k) => g.members.forEach((i) => groupOf.set(i, k)));
  const edges = new Map<string, { a: number; b: number; w: number }>();
  for (const [i, ga] of groupOf) {
    for (let j = graph.outStart[i]!; j < graph.outStart[i + 1]!; j++) {
      const li = graph.outIdx[j]!;
      const gb = groupOf.get(graph.dst[li]!);
      if (gb === undefined || gb === ga) continue;
      const k = `${ga}>${gb}`;
      const e = edges.get(k) ?? { a: ga, b: gb, w: 0 };
      e.w += graph.weight[li]!;
      edges.set(k, e);
    }
  }
  const W = 640;
  const H = Math.max(220, (graph.nLayers + 2) * 26);
  const pos = groups.map((g) => {
    const mx = g.members.reduce((s, i) => s + graph.nodes[i]!.pos, 0) / Math.max(1, g.members.length);
    const my = g.members.reduce((s, i) => s + graph.nodes[i]!.row, 0) / Math.max(1, g.members.length);
    return { x: 60 + ((mx + 0.5) / Math.max(1, graph.nPos)) * (W - 120), y: 20 + (1 - my / (graph.nLayers + 1)) * (H - 40) };
  });
  // nudge boxes that share a spot
  pos.forEach((p, k) => pos.slice(0, k).forEach((q) => Math.abs(q.x - p.x) < 70 && Math.abs(q.y - p.y) < 18 && (p.y += 20)));
  const maxW = Math.max(1e-9, ...[...edges.values()].map((e) => Math.abs(e.w)));

  const toggle = (id: string): void => {
    const s = new Set(checked);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setChecked(s);
  };
  const group = (): void => {
    const ids = [...checked].filter((id) => !grouped.has(id));
    if (ids.length < 1) return;
    onChange(pinned, [...supernodes, [name.trim() || `group ${supernodes.length + 1}`, ...ids]]);
    setChecked(new Set());
    setName('');
  };

  return (
    <Panel title={`Subgraph (${pinned.length} pinned, ${supernodes.length} supernodes)`} id="subgraph">
      {pinned.length === 0 ? (
        <p class="muted">Pin nodes (click a node, then “pin to subgraph”, or shift-click it) to build a subgraph; group pinned nodes into supernodes.</p>
      ) : (
        <>
          <svg class="subgraph" width={W} height={H} data-testid="subgraph-svg">
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280" />
              </marker>
            </defs>
            {[...edges.values()].map((e) => (
              <line key={`${e.a}>${e.b}`} x1={pos[e.a]!.x} y1={pos[e.a]!.y} x2={pos[e.b]!.x} y2={pos[e.b]!.y} stroke={e.w >= 0 ? '#2563eb' : '#dc2626'} stroke-opacity={0.7} stroke-width={1 + 5 * Math.sqrt(Math.abs(e.w) / maxW)} marker-end="url(#arrow)">
                <title>{`${groups[e.a]!.label} → ${groups[e.b]!.label}: ${fmt(e.w)}`}</title>
              </line>
            ))}
            {groups.map((g, k) => (
              <g key={g.key} transform={`translate(${pos[k]!.x},${pos[k]!.y})`} class={g.supernode !== null ? 'sn' : 'pn'} onClick={() => g.members.length === 1 && onSelect(graph.nodes[g.members[0]!]!.id)}>
                <rect x={-62} y={-10} width={124} height={20} rx={g.supernode !== null ? 10 : 3} />
                <text text-anchor="middle" y={4}>{(g.label.length > 20 ? g.label.slice(0, 19) + '…' : g.label) + (g.members.length > 1 ? ` ×${g.members.length}` : '')}</text>
                <title>{g.label}</title>
              </g>
            ))}
          </svg>
          <table class="list compact">
            <tbody>
              {pinned.map((id) => {
                const i = graph.byId.get(id);
                const n = i !== undefined ? graph.nodes[i]! : null;
                const sn = grouped.get(id);
                return (
                  <tr key={id}>
                    <td><input type="checkbox" disabled={sn !== undefined} checked={checked.has(id)} onChange={() => toggle(id)} aria-label={`select ${id}`} /></td>
                    <td><button class="link" onClick={() => onSelect(id)}>{n?.label || id}</button></td>
                    <td class="muted">{n ? `${rowLabel(graph, n.row)} @ ${n.pos}` : 'not in graph'}</td>
                    <td class="muted">{sn !== undefined ? supernodes[sn]![0] : ''}</td>
                    <td><button class="link" onClick={() => onChange(pinned.filter((p) => p !== id), supernodes.map((s) => s.filter((x, j) => j === 0 || x !== id)).filter((s) => s.length > 1))}>unpin</button></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div class="row">
            <input class="filter" placeholder="supernode name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            <button class="secondary" disabled={checked.size === 0} onClick={group}>Group {checked.size || ''} as supernode</button>
          </div>
          {supernodes.length > 0 && (
            <ul class="supernodes">
              {supernodes.map((s, k) => (
                <li key={k}>
                  <strong>{s[0]}</strong> <span class="muted">({s.length - 1} nodes)</span>{' '}
                  <button class="link" onClick={() => onChange(pinned, supernodes.filter((_, j) => j !== k))}>ungroup</button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Panel>
  );
}
