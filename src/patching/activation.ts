// Activation patching (causal tracing): run a clean and a corrupted prompt, then rerun one of them with a
// single slice of activation (one layer's residual stream at one position, one head's output ...) taken
// from the other, and measure how far the metric moves. Denoising (default) patches clean activations
// into the corrupted run: the effect at a site is how much of the clean behaviour that slice restores.
// Noising patches corrupted activations into the clean run. Patched runs are batched, one patch per row.
import { InputError } from '../errors.js';
import { TokenBatch, type ForwardHook, type Transformer } from '../model/index.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { checkMetric, metricRows, type PatchMetric } from './metric.js';
import { siteGrid, sliceRuns, type SiteGrid, type SiteKind } from './sites.js';

export type PatchDirection = 'denoise' | 'noise';

export interface PatchOptions {
  clean: readonly number[];
  corrupt: readonly number[];
  metric: PatchMetric;
  sites: readonly SiteKind[];
  /** 'denoise' (default): clean into corrupted; 'noise': corrupted into clean. */
  direction?: PatchDirection;
  /** Patched runs per forward pass (default 32). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SiteEffects extends SiteGrid {
  /** [row][index]: metric(patched run) - metric(unpatched run being patched into). */
  effects: number[][];
}

export interface PatchResult {
  method: 'activation' | 'attribution';
  metric: PatchMetric['kind'];
  direction: PatchDirection;
  cleanMetric: number;
  corruptMetric: number;
  sites: SiteEffects[];
}

export function checkPair(clean: readonly number[], corrupt: readonly number[], nCtx: number): void {
  if (clean.length === 0 || corrupt.length === 0) throw new InputError('the clean and corrupted prompts must not be empty');
  if (clean.length !== corrupt.length) {
    throw new InputError(
      `the clean prompt has ${clean.length} tokens and the corrupted one ${corrupt.length}, but patching swaps activations position by position; reword them so both have the same number of tokens (\`loupe tokenize\` shows them)`,
      { cleanTokens: clean.length, corruptTokens: corrupt.length },
    );
  }
  if (clean.length > nCtx) throw new InputError(`the prompts have ${clean.length} tokens, more than the model's context of ${nCtx}`);
}

/** Metric values of the clean and corrupted runs, and the activations of the source run at the hooks. */
export function baseRuns(model: Transformer, opts: PatchOptions, hooks: string[]): { clean: number; corrupt: number; source: Map<string, Tensor> } {
  const dir = opts.direction ?? 'denoise';
  const both = T.noGrad(() => model.run(TokenBatch.from([opts.clean, opts.corrupt]), { cache: hooks, lastLogitsOnly: true, withGrad: false }));
  const [clean, corrupt] = metricRows(both.logits!, opts.metric) as [number, number];
  const src = dir === 'denoise' ? 0 : 1;
  const source = new Map<string, Tensor>();
  for (const h of hooks) {
    const a = both.cache.get(h);
    const per = a.size / a.shape[0]!;
    source.set(h, new Tensor(a.data.slice(src * per, (src + 1) * per), [1, ...a.shape.slice(1)]));
  }
  return { clean, corrupt, source };
}

export function activationPatching(model: Transformer, opts: PatchOptions): PatchResult {
  checkPair(opts.clean, opts.corrupt, model.config.nCtx);
  checkMetric(opts.metric, model.config.vocabSize);
  const dir = opts.direction ?? 'denoise';
  if (dir !== 'denoise' && dir !== 'noise') throw new InputError(`direction must be denoise or noise, got "${dir}"`);
  const grids = opts.sites.map((k) => siteGrid(k, model.config, opts.clean.length));
  const hooks = [...new Set(grids.flatMap((g) => g.hooks))];
  const base = baseRuns(model, opts, hooks);
  const target = dir === 'denoise' ? opts.corrupt : opts.clean;
  const targetMetric = dir === 'denoise' ? base.corrupt : base.clean;

  // Every (grid, row, index) is one patched run.
  const jobs: { g: number; row: number; index: number }[] = [];
  grids.forEach((grid, g) => grid.hooks.forEach((_, row) => {
    for (let index = 0; index < grid.width; index++) jobs.push({ g, row, index });
  }));
  const effects = grids.map((grid) => grid.hooks.map(() => new Array<number>(grid.width).fill(0)));
  const B = Math.max(1, opts.batchSize ?? 32);
  for (let s = 0; s < jobs.length; s += B) {
    const chunk = jobs.slice(s, s + B);
    const byHook = new Map<string, { b: number; axis: 'position' | 'head'; index: number }[]>();
    chunk.forEach((j, b) => {
      const grid = grids[j.g]!;
      const h = grid.hooks[j.row]!;
      const l = byHook.get(h) ?? [];
      l.push({ b, axis: grid.axis, index: j.index });
      byHook.set(h, l);
    });
    const patchHooks: ForwardHook[] = [...byHook].map(([name, patches]) => ({
      name,
      fn: (x: Tensor) => {
        const src = base.source.get(name)!.data;
        const out = x.data.slice();
        const per = x.size / x.shape[0]!;
        for (const p of patches) for (const r of sliceRuns(p.axis, p.index, x.shape)) out.set(src.subarray(r.start, r.start + r.length), p.b * per + r.start);
        return new Tensor(out, x.shape);
      },
    }));
    const batch = TokenBatch.from(chunk.map(() => target));
    const logits = T.noGrad(() => model.run(batch, { hooks: patchHooks, lastLogitsOnly: true, withGrad: false }).logits!);
    metricRows(logits, opts.metric).forEach((m, b) => {
      const j = chunk[b]!;
      effects[j.g]![j.row]![j.index] = m - targetMetric;
    });
    opts.onProgress?.(Math.min(s + B, jobs.length), jobs.length);
  }
  return {
    method: 'activation',
    metric: opts.metric.kind,
    direction: dir,
    cleanMetric: base.clean,
    corruptMetric: base.corrupt,
    sites: grids.map((grid, g) => ({ ...grid, effects: effects[g]! })),
  };
}
