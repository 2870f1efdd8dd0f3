// The numbers scorers report.

/** (true positive rate + true negative rate) / 2; null when either class is empty. */
export function balancedAccuracy(labels: readonly boolean[], predictions: readonly boolean[]): { value: number | null; tp: number; fp: number; tn: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  labels.forEach((y, i) => {
    const p = predictions[i]!;
    if (y && p) tp++;
    else if (y) fn++;
    else if (p) fp++;
    else tn++;
  });
  const pos = tp + fn;
  const neg = tn + fp;
  return { value: pos > 0 && neg > 0 ? 0.5 * (tp / pos + tn / neg) : null, tp, fp, tn, fn };
}

/** Pearson correlation; 0 when either side is constant (a flat prediction explains nothing). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n === 0 || y.length !== n) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}
