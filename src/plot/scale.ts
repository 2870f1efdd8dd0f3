// Axis scales: data value -> pixel, with "nice" tick positions (1, 2, 5 x 10^k for linear axes, powers of
// ten for log axes) so the numbers on an axis are ones a reader can interpolate between.
import { InputError } from '../errors.js';

export interface Scale {
  readonly kind: 'linear' | 'log';
  /** Data domain [lo, hi], lo < hi (for log axes both positive). */
  readonly domain: readonly [number, number];
  /** Pixel range the domain maps onto (may be reversed, e.g. y axes grow upwards). */
  readonly range: readonly [number, number];
  map(v: number): number;
  ticks(): number[];
  format(v: number): string;
}

/** [min, max] of the finite values (log axes: of the positive ones), padded when all values are equal. */
export function extent(values: Iterable<number>, log = false): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return null;
  if (lo === hi) return log ? [lo / 2, hi * 2] : lo === 0 ? [-1, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  return [lo, hi];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number], tickCount = 5): Scale {
  checkDomain(domain, false);
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const step = niceStep((d1 - d0) / Math.max(1, tickCount));
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return {
    kind: 'linear',
    domain,
    range,
    map: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
    ticks: () => {
      const out: number[] = [];
      // Integer multiples of the step, so 0.1 + 0.2 rounding never shows up as 0.30000000000000004.
      for (let i = Math.ceil(d0 / step - 1e-9); i * step <= d1 + step * 1e-9; i++) out.push(Number((i * step).toFixed(digits)));
      return out;
    },
    format: (v) => formatNumber(v, digits),
  };
}

export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  checkDomain(domain, true);
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  return {
    kind: 'log',
    domain,
    range,
    map: (v) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0),
    ticks: () => {
      const out: number[] = [];
      const lo = Math.ceil(l0 - 1e-9);
      const hi = Math.floor(l1 + 1e-9);
      if (hi - lo >= 1) {
        // Decades; thin them out when the axis spans many.
        const every = Math.max(1, Math.ceil((hi - lo + 1) / 8));
        for (let e = lo; e <= hi; e += every) out.push(Math.pow(10, e));
      } else {
        // Less than a decade in view: 1, 2, 5 multiples inside the domain.
        for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
          for (const m of [1, 2, 5]) {
            const v = m * Math.pow(10, e);
            if (v >= d0 * (1 - 1e-9) && v <= d1 * (1 + 1e-9)) out.push(v);
          }
        }
        if (out.length < 2) return linearScale(domain, range).ticks();
      }
      return out;
    },
    format: (v) => formatNumber(v, Math.max(0, -Math.floor(Math.log10(v) + 1e-9))),
  };
}

/** A domain widened outwards to nice round numbers (linear axes only; log axes keep the data domain). */
export function niceDomain(domain: readonly [number, number], tickCount = 5): [number, number] {
  const step = niceStep((domain[1] - domain[0]) / Math.max(1, tickCount));
  return [Math.floor(domain[0] / step + 1e-9) * step, Math.ceil(domain[1] / step - 1e-9) * step];
}

/** The 1, 2 or 5 x 10^k closest above a raw step. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const e = Math.floor(Math.log10(raw));
  const f = raw / Math.pow(10, e);
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * Math.pow(10, e);
}

/** Short tick labels: 1500 -> "1.5k", 2e6 -> "2M", 0.25 -> "0.25". */
export function formatNumber(v: number, digits = 2): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return trimZeros((v / 1e9).toFixed(2)) + 'G';
  if (a >= 1e6) return trimZeros((v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e4) return trimZeros((v / 1e3).toFixed(2)) + 'k';
  if (a < 1e-3) return v.toExponential(1);
  return trimZeros(v.toFixed(Math.min(6, Math.max(0, digits))));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function checkDomain(domain: readonly [number, number], log: boolean): void {
  const [a, b] = domain;
  if (!Number.isFinite(a) || !Number.isFinite(b) || !(a < b)) throw new InputError(`plot: axis domain [${a}, ${b}] must be finite with low < high`);
  if (log && a <= 0) throw new InputError(`plot: a log axis needs a positive domain, got [${a}, ${b}]`);
}
