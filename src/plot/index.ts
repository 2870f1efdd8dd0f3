// SVG line plots with no dependencies: training curves, scaling sweeps, training dynamics.
// - linePlot(series, options): one plot as a standalone SVG document (linear or log axes, reference
//   lines, legend; gaps where values are not finite).
// - plotGrid(panels, options): several plots in one figure (small multiples).
// - smooth(points, alpha): exponential moving average, for noisy per-step losses.
export { linePlot, drawPlot, type Point, type Series, type RefLine, type LinePlotOptions } from './line-plot.js';
export { plotGrid, type Panel, type GridOptions } from './grid.js';
export { linearScale, logScale, niceStep, niceDomain, extent, formatNumber, type Scale } from './scale.js';
export { smooth } from './smooth.js';
export { escapeXml, PALETTE } from './svg.js';
