// A dependency-free SVG of a scaling sweep: two log-log panels, held-out loss against dictionary size
// (one series per k or L1, with its fitted power law dashed) and against training tokens (one series per
// run). Plain SVG 1.1, so it renders in browsers, GitHub and the workbench alike.
import { evalPowerLaw, formatPower, type PowerLaw } from './power-law.js';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  fit?: PowerLaw | null;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const W = 480;
const H = 360;
const M = { left: 64, right: 16, top: 36, bottom: 48 };

export function sweepSvg(panels: Panel[]): string {
  const width = W * panels.length;
  const parts = panels.map((p, i) => `<g transform="translate(${i * W},0)">${panelSvg(p)}</g>`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11">\n` +
    `<rect width="${width}" height="${H}" fill="white"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

function panelSvg(p: Panel): string {
  const xs = p.series.flatMap((s) => s.points.map((q) => q.x)).filter((v) => v > 0);
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y)).filter((v) => v > 0);
  if (xs.length === 0 || ys.length === 0) return `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${esc(p.title)}: no data</text>`;
  const [x0, x1] = logRange(xs);
  const [y0, y1] = logRange(ys);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((Math.log10(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => M.top + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  for (const [lo, hi, axis] of [[x0, x1, 'x'], [y0, y1, 'y']] as const) {
    for (const t of ticks(lo, hi)) {
      const v = Math.pow(10, t);
      if (axis === 'x') {
        const X = sx(v);
        out.push(`<line x1="${X}" y1="${M.top}" x2="${X}" y2="${M.top + ph}" stroke="#eee"/><text x="${X}" y="${M.top + ph + 14}" text-anchor="middle">${fmtTick(v)}</text>`);
      } else {
        const Y = sy(v);
        out.push(`<line x1="${M.left}" y1="${Y}" x2="${M.left + pw}" y2="${Y}" stroke="#eee"/><text x="${M.left - 4}" y="${Y + 4}" text-anchor="end">${fmtTick(v)}</text>`);
      }
    }
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(p.xLabel)} (log)</text>`);
  out.push(`<text transform="translate(14,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)} (log)</text>`);
  p.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.filter((q) => q.x > 0 && q.y > 0).sort((a, b) => a.x - b.x);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts.map((q) => `${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`).join(' ')}"/>`);
    for (const q of pts) out.push(`<circle cx="${sx(q.x).toFixed(1)}" cy="${sy(q.y).toFixed(1)}" r="2.5" fill="${c}"/>`);
    if (s.fit && pts.length > 1) {
      const a = pts[0]!.x;
      const b = pts[pts.length - 1]!.x;
      out.push(`<line x1="${sx(a).toFixed(1)}" y1="${sy(evalPowerLaw(s.fit, a)).toFixed(1)}" x2="${sx(b).toFixed(1)}" y2="${sy(evalPowerLaw(s.fit, b)).toFixed(1)}" stroke="${c}" stroke-dasharray="4 3"/>`);
    }
    const ly = M.top + 12 + i * 13;
    const label = s.fit ? `${s.label}: ${s.fit.a.toPrecision(2)}x^${formatPower(s.fit, 2)}` : s.label;
    out.push(`<rect x="${M.left + pw - 150}" y="${ly - 8}" width="8" height="8" fill="${c}"/><text x="${M.left + pw - 138}" y="${ly}">${esc(label)}</text>`);
  });
  return out.join('\n');
}

function logRange(v: number[]): [number, number] {
  let lo = Math.log10(Math.min(...v));
  let hi = Math.log10(Math.max(...v));
  if (hi - lo < 1e-6) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

/** Tick exponents: whole decades, or 1-2-5 steps inside a narrow range. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  if (hi - lo >= 2) {
    for (let t = Math.ceil(lo); t <= hi; t++) out.push(t);
    return out;
  }
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) for (const m of [1, 2, 5]) {
    const t = d + Math.log10(m);
    if (t >= lo && t <= hi) out.push(t);
  }
  return out;
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
