// Several line plots in one SVG figure (small multiples): e.g. loss, head scores and ICL score stacked
// over a shared step axis. Each panel is a plain LinePlot drawn into its own cell.
import { InputError } from '../errors.js';
import { drawPlot, type LinePlotOptions, type Series } from './line-plot.js';
import { escapeXml, px, svgDocument } from './svg.js';

export interface Panel {
  series: readonly Series[];
  options?: LinePlotOptions;
}

export interface GridOptions {
  /** Panels per row (default 1: a vertical stack). */
  columns?: number;
  /** Size of one panel (defaults 640 x 260). */
  panelWidth?: number;
  panelHeight?: number;
  /** Figure title above all panels. */
  title?: string;
}

export function plotGrid(panels: readonly Panel[], opts: GridOptions = {}): string {
  const cols = opts.columns ?? 1;
  if (!Number.isInteger(cols) || cols < 1) throw new InputError(`plot: columns must be a positive integer, got ${cols}`);
  const pw = opts.panelWidth ?? 640;
  const ph = opts.panelHeight ?? 260;
  const top = opts.title ? 28 : 0;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const parts: string[] = [];
  if (opts.title) parts.push(`<text x="${px((cols * pw) / 2)}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(opts.title)}</text>`);
  panels.forEach((p, i) => {
    const x = (i % cols) * pw;
    const y = top + Math.floor(i / cols) * ph;
    parts.push(`<g transform="translate(${px(x)} ${px(y)})">\n${drawPlot(p.series, p.options ?? {}, pw, ph, `panel${i}`)}</g>`);
  });
  return svgDocument(cols * pw, top + rows * ph, parts.join('\n') + '\n');
}
