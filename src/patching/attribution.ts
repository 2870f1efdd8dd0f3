// Attribution patching (Nanda 2023; Syed et al. 2023): the first-order estimate of every activation patch
// at once. Patching slice s from the source run into the target run moves the metric by about
//   (a_source[s] - a_target[s]) . d metric / d a[s]   (gradient taken in the target run)
// so one forward and one backward pass of the target run (plus the source run's forward for its
// activations) gives the whole sweep. Exact where the metric is linear in the activation (the normalised
// final residual, site 'final'); elsewhere an approximation whose agreement with the exact sweep
// compare.ts measures.
import type { Transformer } from '../model/index.js';
import { baseRuns, checkPair, type PatchOptions, type PatchResult } from './activation.js';
import { checkMetric, metricTensor } from './metric.js';
import { siteGrid, sliceRuns } from './sites.js';

export function attributionPatching(model: Transformer, opts: PatchOptions): PatchResult {
  checkPair(opts.clean, opts.corrupt, model.config.nCtx);
  checkMetric(opts.metric, model.config.vocabSize);
  const dir = opts.direction ?? 'denoise';
  const grids = opts.sites.map((k) => siteGrid(k, model.config, opts.clean.length));
  const hooks = [...new Set(grids.flatMap((g) => g.hooks))];
  const base = baseRuns(model, opts, hooks);
  const target = dir === 'denoise' ? opts.corrupt : opts.clean;
  const last = target.length - 1;
  const g = model.runWithGradients([target.slice()], (logits) => metricTensor(logits, last, opts.metric), hooks);
  const sites = grids.map((grid) => ({
    ...grid,
    effects: grid.hooks.map((h) => {
      const grad = g.grads.get(h)!.data;
      const act = g.activations.get(h)!;
      const src = base.source.get(h)!.data;
      return Array.from({ length: grid.width }, (_, index) => {
        let s = 0;
        for (const r of sliceRuns(grid.axis, index, act.shape)) for (let i = r.start; i < r.start + r.length; i++) s += (src[i]! - act.data[i]!) * grad[i]!;
        return s;
      });
    }),
  }));
  opts.onProgress?.(1, 1);
  return { method: 'attribution', metric: opts.metric.kind, direction: dir, cleanMetric: base.clean, corruptMetric: base.corrupt, sites };
}
