// How well attribution patching tracks the exact sweep: Pearson correlation of the two grids per site
// kind and over all sites together, and the largest absolute difference.
import { InputError } from '../errors.js';
import type { PatchResult } from './activation.js';

export interface SiteAgreement {
  kind: string;
  /** Pearson r over the grid's cells (null when either grid is constant). */
  correlation: number | null;
  maxAbsDiff: number;
}

export interface Agreement {
  sites: SiteAgreement[];
  overall: number | null;
}

export function pearson(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n !== b.length) throw new InputError(`pearson: ${n} and ${b.length} values`);
  if (n < 2) return null;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  if (saa === 0 || sbb === 0) return null;
  return sab / Math.sqrt(saa * sbb);
}

export function compareSweeps(exact: PatchResult, approx: PatchResult): Agreement {
  if (exact.sites.length !== approx.sites.length) throw new InputError('the two sweeps cover different sites');
  const all: [number[], number[]] = [[], []];
  const sites = exact.sites.map((s, i) => {
    const o = approx.sites[i]!;
    if (o.kind !== s.kind) throw new InputError(`site ${i} is ${s.kind} in one sweep and ${o.kind} in the other`);
    const a = s.effects.flat();
    const b = o.effects.flat();
    all[0].push(...a);
    all[1].push(...b);
    return { kind: s.kind, correlation: pearson(a, b), maxAbsDiff: Math.max(0, ...a.map((x, j) => Math.abs(x - b[j]!))) };
  });
  return { sites, overall: pearson(all[0], all[1]) };
}
