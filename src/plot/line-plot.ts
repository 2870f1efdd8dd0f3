// Line plots as standalone SVG text: several named series on shared axes (linear or log), optional
// vertical/horizontal reference lines and a legend. Non-finite y values (and non-positive ones on a log
// axis) break a line instead of being drawn, so a diverged run shows as a gap, not a spike to infinity.
import { InputError } from '../errors.js';
import { extent, linearScale, logScale, niceDomain, type Scale } from './scale.js';
import { PALETTE, escapeXml, px, svgDocument } from './svg.js';

export type Point = readonly [x: number, y: number];

export interface Series {
  name: string;
  points: readonly Point[];
  /** CSS colour; default: the palette in series order. */
  color?: string;
  dashed?: boolean;
  /** Draw a dot at each point (useful for sparse series such as evaluations). */
  markers?: boolean;
  /** Stroke width in pixels (default 1.75). */
  width?: number;
}

export interface RefLine {
  /** Position on the axis the line crosses (x for vertical lines, y for horizontal ones). */
  at: number;
  label?: string;
  color?: string;
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  /** Fixed axis domains; default: the data's extent (linear axes rounded outwards to nice numbers). */
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  /** Vertical reference lines (e.g. the step of a phase change). */
  vLines?: readonly RefLine[];
  /** Horizontal reference lines (e.g. a threshold). */
  hLines?: readonly RefLine[];
  /** Show the legend (default: when more than one series has a name). */
  legend?: boolean;
  /** Pixels reserved right of the plot for the legend (default: fitted to the names). Give the same value
   *  to stacked panels so their x axes line up. */
  legendWidth?: number;
  width?: number;
  height?: number;
}

/** A whole SVG document with one plot. */
export function linePlot(series: readonly Series[], opts: LinePlotOptions = {}): string {
  const w = opts.width ?? 640;
  const h = opts.height ?? 360;
  return svgDocument(w, h, drawPlot(series, opts, w, h));
}

/**
 * The plot's drawing commands for a w x h box at the origin (no <svg> wrapper), for composing several
 * plots into one figure (see plotGrid). `id` must be unique within the final document.
 */
export function drawPlot(series: readonly Series[], opts: LinePlotOptions, w: number, h: number, id = 'plot'): string {
  for (const s of series) {
    for (const p of s.points) {
      if (!Array.isArray(p) || p.length !== 2) throw new InputError(`plot: series "${s.name}" has a point that is not an [x, y] pair`);
    }
  }
  const named = series.filter((s) => s.name);
  const showLegend = opts.legend ?? named.length > 1;
  const legendWidth = opts.legendWidth ?? (showLegend && named.length ? Math.min(220, 28 + 6.5 * Math.max(...named.map((s) => s.name.length))) : 0);
  const m = { top: opts.title ? 30 : 12, right: 16 + legendWidth, bottom: opts.xLabel ? 44 : 28, left: opts.yLabel ? 62 : 46 };
  const pw = Math.max(10, w - m.left - m.right);
  const ph = Math.max(10, h - m.top - m.bottom);

  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p[0])).map((p) => p[1]));
  for (const r of opts.vLines ?? []) xs.push(r.at);
  for (const r of opts.hLines ?? []) ys.push(r.at);
  const x = makeScale(opts.xDomain, xs, opts.logX ?? false, [m.left, m.left + pw], 'x');
  const y = makeScale(opts.yDomain, ys, opts.logY ?? false, [m.top + ph, m.top], 'y');

  const out: string[] = [];
  if (opts.title) out.push(`<text x="${px(w / 2)}" y="19" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(opts.title)}</text>`);
  out.push(axes(x, y, m.left, m.top, pw, ph));
  if (opts.xLabel) out.push(`<text x="${px(m.left + pw / 2)}" y="${px(h - 8)}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = m.top + ph / 2;
    out.push(`<text transform="translate(14 ${px(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  }

  // Everything in data space is clipped to the plot area (fixed domains may cut lines). The id must be
  // unique within the document: composed figures pass one per panel.
  const clipId = `${id}-clip`;
  out.push(`<clipPath id="${clipId}"><rect x="${px(m.left)}" y="${px(m.top)}" width="${px(pw)}" height="${px(ph)}"/></clipPath>`);
  const body: string[] = [];
  // Labels of successive vertical lines are staggered so that lines close together stay readable.
  for (const [li, r] of (opts.vLines ?? []).entries()) {
    if (!inDomain(x, r.at)) continue;
    const X = x.map(r.at);
    const c = r.color ?? '#888';
    body.push(`<line x1="${px(X)}" y1="${px(m.top)}" x2="${px(X)}" y2="${px(m.top + ph)}" stroke="${c}" stroke-dasharray="4 3"/>`);
    // Labels sit right of the line, or left of it near the right edge.
    const right = X > m.left + pw * 0.8;
    if (r.label) body.push(`<text x="${px(right ? X - 3 : X + 3)}" y="${px(m.top + 11 + 12 * li)}"${right ? ' text-anchor="end"' : ''} font-size="10" fill="${c}">${escapeXml(r.label)}</text>`);
  }
  for (const r of opts.hLines ?? []) {
    if (!inDomain(y, r.at)) continue;
    const Y = y.map(r.at);
    const c = r.color ?? '#888';
    body.push(`<line x1="${px(m.left)}" y1="${px(Y)}" x2="${px(m.left + pw)}" y2="${px(Y)}" stroke="${c}" stroke-dasharray="4 3"/>`);
    if (r.label) body.push(`<text x="${px(m.left + pw - 3)}" y="${px(Y - 3)}" text-anchor="end" font-size="10" fill="${c}">${escapeXml(r.label)}</text>`);
  }
  series.forEach((s, i) => body.push(drawSeries(s, s.color ?? PALETTE[i % PALETTE.length]!, x, y)));
  out.push(`<g clip-path="url(#${clipId})">\n${body.join('\n')}\n</g>`);

  if (showLegend) {
    const lx = m.left + pw + 14;
    named.forEach((s, i) => {
      const ly = m.top + 8 + i * 16;
      const c = s.color ?? PALETTE[series.indexOf(s) % PALETTE.length]!;
      out.push(
        `<line x1="${px(lx)}" y1="${px(ly)}" x2="${px(lx + 18)}" y2="${px(ly)}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
          `<text x="${px(lx + 23)}" y="${px(ly + 4)}" font-size="11">${escapeXml(s.name)}</text>`,
      );
    });
  }
  return out.join('\n') + '\n';
}

function makeScale(fixed: readonly [number, number] | undefined, values: number[], log: boolean, range: [number, number], axis: string): Scale {
  if (fixed) return log ? logScale(fixed, range) : linearScale(fixed, range);
  const e = extent(values, log);
  if (!e) {
    // Nothing to show: an empty frame is more useful than an error (e.g. a run with no steps yet).
    return log ? logScale([1, 10], range) : linearScale([0, 1], range);
  }
  if (log) return logScale(e, range);
  const nice = niceDomain(e);
  if (!(nice[0] < nice[1])) throw new InputError(`plot: cannot build a ${axis} axis for the values given`);
  return linearScale(nice, range);
}

function inDomain(s: Scale, v: number): boolean {
  return Number.isFinite(v) && v >= s.domain[0] && v <= s.domain[1] && (s.kind === 'linear' || v > 0);
}

function axes(x: Scale, y: Scale, left: number, top: number, pw: number, ph: number): string {
  const out: string[] = [];
  const bottom = top + ph;
  for (const t of y.ticks()) {
    const Y = y.map(t);
    out.push(`<line x1="${px(left)}" y1="${px(Y)}" x2="${px(left + pw)}" y2="${px(Y)}" stroke="#eee"/>`);
    out.push(`<text x="${px(left - 5)}" y="${px(Y + 4)}" text-anchor="end" font-size="10" fill="#444">${escapeXml(y.format(t))}</text>`);
  }
  for (const t of x.ticks()) {
    const X = x.map(t);
    out.push(`<line x1="${px(X)}" y1="${px(top)}" x2="${px(X)}" y2="${px(bottom)}" stroke="#eee"/>`);
    out.push(`<text x="${px(X)}" y="${px(bottom + 14)}" text-anchor="middle" font-size="10" fill="#444">${escapeXml(x.format(t))}</text>`);
  }
  out.push(`<rect x="${px(left)}" y="${px(top)}" width="${px(pw)}" height="${px(ph)}" fill="none" stroke="#999"/>`);
  return out.join('\n');
}

function drawSeries(s: Series, color: string, x: Scale, y: Scale): string {
  const runs: string[][] = [[]];
  const dots: string[] = [];
  for (const [vx, vy] of s.points) {
    const ok = Number.isFinite(vx) && Number.isFinite(vy) && (x.kind === 'linear' || vx > 0) && (y.kind === 'linear' || vy > 0);
    if (!ok) {
      if (runs[runs.length - 1]!.length) runs.push([]);
      continue;
    }
    const X = px(x.map(vx));
    const Y = px(y.map(vy));
    runs[runs.length - 1]!.push(`${X},${Y}`);
    if (s.markers) dots.push(`<circle cx="${X}" cy="${Y}" r="2.5" fill="${color}"/>`);
  }
  const stroke = `fill="none" stroke="${color}" stroke-width="${s.width ?? 1.75}" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 3"' : ''}`;
  const lines = runs.filter((r) => r.length > 1).map((r) => `<polyline ${stroke} points="${r.join(' ')}"/>`);
  // A lone point between gaps would be invisible as a line: show it as a dot.
  for (const r of runs) if (r.length === 1 && !s.markers) {
    const [X, Y] = r[0]!.split(',');
    dots.push(`<circle cx="${X}" cy="${Y}" r="2" fill="${color}"/>`);
  }
  return [...lines, ...dots].join('\n');
}
