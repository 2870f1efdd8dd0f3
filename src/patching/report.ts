// The JSON form of patching results, shared by `loupe patch --json` and POST /api/patch: per site kind a
// [layer][position] (or [layer][head]) grid of effects, plus the clean and corrupted metrics; with both
// methods, the attribution grids and their agreement with the exact sweep.
import type { PatchResult } from './activation.js';
import { compareSweeps } from './compare.js';

export function patchReport(main: PatchResult, tokens: readonly string[], attribution?: PatchResult): Record<string, unknown> {
  const grids = (r: PatchResult): Record<string, number[][]> => Object.fromEntries(r.sites.map((s) => [s.kind, s.effects.map((row) => row.map((v) => Number(v.toPrecision(6))))]));
  const out: Record<string, unknown> = {
    method: main.method,
    metric: main.metric,
    direction: main.direction,
    clean_metric: main.cleanMetric,
    corrupt_metric: main.corruptMetric,
    sites: grids(main),
    tokens,
  };
  if (attribution) {
    const agree = compareSweeps(main, attribution);
    out.attribution = grids(attribution);
    out.agreement = { overall: agree.overall, ...Object.fromEntries(agree.sites.map((s) => [s.kind, { correlation: s.correlation, max_abs_diff: s.maxAbsDiff }])) };
  }
  return out;
}
