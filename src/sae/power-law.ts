// Power-law fits for scaling sweeps: y = a * x^(-b), fitted by least squares on log y against log x
// (the straight line of a log-log plot), with R^2 of that line.
import { InputError } from '../errors.js';

export interface PowerLaw {
  /** y = a * x^(-exponent) */
  a: number;
  exponent: number;
  /** Coefficient of determination of the log-log line. */
  r2: number;
  points: number;
}

export function fitPowerLaw(xs: readonly number[], ys: readonly number[]): PowerLaw {
  const pts = xs.map((x, i) => [x, ys[i]!] as const).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) throw new InputError(`a power-law fit needs at least two positive points, got ${pts.length}`);
  const lx = pts.map(([x]) => Math.log(x));
  const ly = pts.map(([, y]) => Math.log(y));
  const n = pts.length;
  const mx = lx.reduce((s, v) => s + v, 0) / n;
  const my = ly.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (lx[i]! - mx) * (ly[i]! - my);
    sxx += (lx[i]! - mx) ** 2;
    syy += (ly[i]! - my) ** 2;
  }
  if (sxx === 0) throw new InputError('a power-law fit needs at least two distinct x values');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { a: Math.exp(intercept), exponent: -slope, r2, points: n };
}

export function evalPowerLaw(p: PowerLaw, x: number): number {
  return p.a * Math.pow(x, -p.exponent);
}

export function formatPowerLaw(p: PowerLaw, variable: string): string {
  return `${p.a.toPrecision(3)} * ${variable}^${formatPower(p, 3)} (R^2 ${p.r2.toFixed(3)})`;
}

/** The power x is raised to, -exponent, signed: "-0.420" for a falling law, "0.090" for a rising one. */
export function formatPower(p: PowerLaw, digits: number): string {
  const s = (-p.exponent).toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}
