// Small SVG charts: a histogram (bars over bin edges) and line plots over a shared x axis.
import { fmt } from '../util';

export function Histogram({ edges, counts, width = 360, height = 120, xLabel, color = '#f59e0b', logY = false }: { edges: number[]; counts: number[]; width?: number; height?: number; xLabel?: string; color?: string; logY?: boolean }) {
  const pad = { l: 36, r: 8, t: 8, b: 28 };
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const y = (c: number): number => (logY ? Math.log10(1 + c) : c);
  const maxY = Math.max(1e-9, ...counts.map(y));
  const n = counts.length;
  const bw = W / Math.max(1, n);
  return (
    <svg class="chart" width={width} height={height} role="img" aria-label={xLabel ?? 'histogram'}>
      <g transform={`translate(${pad.l},${pad.t})`}>
        {counts.map((c, i) => {
          const h = (y(c) / maxY) * H;
          return (
            <rect key={i} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h} fill={color}>
              <title>{`${fmt(edges[i])} – ${fmt(edges[i + 1])}: ${c}`}</title>
            </rect>
          );
        })}
        <line x1={0} y1={H} x2={W} y2={H} stroke="#999" />
        <text x={0} y={H + 14} class="axis">{fmt(edges[0])}</text>
        <text x={W} y={H + 14} class="axis" text-anchor="end">{fmt(edges[edges.length - 1])}</text>
        <text x={-4} y={8} class="axis" text-anchor="end">{logY ? fmt(Math.pow(10, maxY) - 1) : fmt(maxY)}</text>
        {xLabel && <text x={W / 2} y={H + 24} class="axis" text-anchor="middle">{xLabel}</text>}
      </g>
    </svg>
  );
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

export function LinePlot({ series, width = 420, height = 200, xLabel, yLabel, logX = false }: { series: Series[]; width?: number; height?: number; xLabel?: string; yLabel?: string; logX?: boolean }) {
  const pad = { l: 48, r: 12, t: 10, b: 34 };
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const fx = (x: number): number => (logX ? Math.log10(Math.max(x, 1)) : x);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!pts.length) return <div class="muted">no data</div>;
  const x0 = Math.min(...pts.map((p) => fx(p[0])));
  const x1 = Math.max(...pts.map((p) => fx(p[0])));
  const y0 = Math.min(0, ...pts.map((p) => p[1]));
  const y1 = Math.max(...pts.map((p) => p[1]));
  const sx = (x: number): number => ((fx(x) - x0) / (x1 - x0 || 1)) * W;
  const sy = (y: number): number => H - ((y - y0) / (y1 - y0 || 1)) * H;
  return (
    <svg class="chart" width={width} height={height} role="img" aria-label={yLabel ?? 'plot'}>
      <g transform={`translate(${pad.l},${pad.t})`}>
        <line x1={0} y1={H} x2={W} y2={H} stroke="#999" />
        <line x1={0} y1={0} x2={0} y2={H} stroke="#999" />
        {series.map((s) => {
          const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
          return (
            <g key={s.name}>
              <polyline fill="none" stroke={s.color} stroke-width={2} points={ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')} />
              {ok.map(([x, y], i) => (
                <circle key={i} cx={sx(x)} cy={sy(y)} r={2.5} fill={s.color}>
                  <title>{`${s.name} @ ${fmt(x)}: ${fmt(y, 4)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
        <text x={-6} y={6} class="axis" text-anchor="end">{fmt(y1)}</text>
        <text x={-6} y={H} class="axis" text-anchor="end">{fmt(y0)}</text>
        <text x={0} y={H + 14} class="axis">{fmt(logX ? Math.pow(10, x0) : x0)}</text>
        <text x={W} y={H + 14} class="axis" text-anchor="end">{fmt(logX ? Math.pow(10, x1) : x1)}</text>
        {xLabel && <text x={W / 2} y={H + 28} class="axis" text-anchor="middle">{xLabel}</text>}
        {series.length > 1 &&
          series.map((s, i) => (
            <text key={s.name} x={W - 4} y={12 + i * 13} class="axis" text-anchor="end" style={{ fill: s.color }}>
              {s.name}
            </text>
          ))}
      </g>
    </svg>
  );
}
