// Exponential moving average with bias correction (as TensorBoard's smoothing does), so the first points
// are not dragged towards zero. Non-finite values are passed through and do not poison later points.
import type { Point } from './line-plot.js';

export function smooth(points: readonly Point[], alpha = 0.9): Point[] {
  let avg = 0;
  let weight = 0;
  const out: Point[] = [];
  for (const [x, y] of points) {
    if (!Number.isFinite(y)) {
      out.push([x, y]);
      continue;
    }
    avg = alpha * avg + (1 - alpha) * y;
    weight = alpha * weight + (1 - alpha);
    out.push([x, avg / weight]);
  }
  return out;
}
