// Steered generation, always paired: for each sample seed, one unsteered and one steered continuation of
// the same prompt with the same sampler seed, so every difference is the intervention's. Reports the
// texts, the fluency cost (per-token loss of each text under the unsteered model), how often each side
// matches a concept, and, per steered sample, what each direction's value was at every steered position
// (re-read after steering).
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import { progress as makeProgress } from '../util/progress.js';
import { conceptRegex, matchRate } from './concept.js';
import { continuationLoss } from './fluency.js';
import { steeringHooks, type PositionSelection, type SteeredPosition } from './hooks.js';
import { checkInterventions, type Intervention } from './intervene.js';
import { sampleBatch } from './sample.js';

export interface SteerOptions {
  interventions: readonly Intervention[];
  /** Prompt text (encoded with BOS unless bos is false), or token ids as they are. */
  prompt: string | readonly number[];
  bos?: boolean;
  maxNewTokens: number;
  /** Paired samples (default 1). Sample i uses sampler seed seed + i on both sides. */
  samples?: number;
  seed?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Default 'all'. */
  positions?: PositionSelection;
  steerBos?: boolean;
  /** A word or regular expression over the generated text (see concept.ts); gives the match rates. */
  concept?: string | RegExp;
  /** Skip the unsteered runs (sweeps run them once); default false. */
  skipBaseline?: boolean;
  /** Progress on stderr (the CLI turns it on; default off for library use). */
  progress?: boolean;
}

export interface SteerSide {
  texts: string[];
  ids: number[][];
  /** Per-token loss under the unsteered model, pooled over all samples' generated tokens. */
  loss: number;
  perSampleLoss: number[];
  /** Share of samples whose generated text matches the concept (null without one). */
  rate: number | null;
  matches: boolean[] | null;
}

export interface SteerResult {
  promptIds: number[];
  baseline: SteerSide | null;
  steered: SteerSide;
  /** Per steered sample, per steered position (in order), per intervention: the value after steering. */
  values: number[][][];
  /** Same layout: the dictionary's own latent for features (null for vectors). */
  latents: (number | null)[][][];
  /** Per steered sample, the absolute positions the values were read at. */
  positions: number[][];
  /** Per steered sample, the hook each row of values was read at (several when interventions span hooks). */
  hooks: string[][];
  /**
   * The largest miss of a pinned value over every reported entry: |value - V| for clamp, value for
   * ablate, max(0, value - V) for cap (0 when only adds run). Exact steering keeps it under 1e-4.
   */
  maxDeviation: number;
}

export function steer(model: Transformer, tokenizer: Tokenizer, opts: SteerOptions): SteerResult {
  const { promptIds, concept } = prepare(model, tokenizer, opts);
  const samples = opts.samples ?? 1;
  const bar = makeProgress({ label: 'steer', total: samples * (opts.skipBaseline ? 1 : 2), unit: 'runs', quiet: opts.progress ? undefined : true });
  let done = 0;
  const tick = (): void => bar.update(++done);
  const baseline = opts.skipBaseline ? null : runSide(model, tokenizer, promptIds, opts, concept, null, tick);
  const steered = runSide(model, tokenizer, promptIds, opts, concept, opts.interventions, tick);
  bar.stop();
  return {
    promptIds,
    baseline: baseline?.side ?? null,
    steered: steered.side,
    values: steered.values,
    latents: steered.latents,
    positions: steered.positions,
    hooks: steered.hooks,
    maxDeviation: maxDeviation(opts.interventions, steered.values),
  };
}

/** How far the reported values are from what each pinned mode promises (see SteerResult.maxDeviation). */
export function maxDeviation(list: readonly Intervention[], values: number[][][]): number {
  let worst = 0;
  for (const sample of values)
    for (const row of sample)
      list.forEach((iv, k) => {
        const v = row[k]!;
        if (Number.isNaN(v) || iv.mode === 'add') return;
        const miss = iv.mode === 'clamp' ? Math.abs(v - iv.amount) : iv.mode === 'ablate' ? Math.abs(v) : Math.max(0, v - iv.amount);
        worst = Math.max(worst, miss);
      });
  return worst;
}

function prepare(model: Transformer, tokenizer: Tokenizer, opts: SteerOptions): { promptIds: number[]; concept: RegExp | null } {
  checkInterventions(opts.interventions);
  const samples = opts.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) throw new InputError(`samples must be a positive integer, got ${samples}`);
  const promptIds = typeof opts.prompt === 'string' ? tokenizer.encode(opts.prompt, { bos: opts.bos ?? true }) : opts.prompt.slice();
  if (promptIds.length === 0) throw new InputError('the prompt is empty: give some text, or keep BOS on');
  const names = new Set(model.hookNames());
  for (const iv of opts.interventions) {
    if (!names.has(iv.direction.hook)) throw new InputError(`${iv.direction.label} steers hook "${iv.direction.hook}", which this model does not have (see \`loupe hooks\`)`);
  }
  return { promptIds, concept: opts.concept !== undefined ? conceptRegex(opts.concept) : null };
}

interface SideRun {
  side: SteerSide;
  values: number[][][];
  latents: (number | null)[][][];
  positions: number[][];
  hooks: string[][];
}

/** All samples of one side: unsteered (interventions null) or steered, seeds seed .. seed + samples - 1. */
function runSide(model: Transformer, tokenizer: Tokenizer, promptIds: number[], opts: SteerOptions, concept: RegExp | null, interventions: readonly Intervention[] | null, tick: () => void): SideRun {
  const samples = opts.samples ?? 1;
  const seed = opts.seed ?? 0;
  const n = interventions?.length ?? 0;
  const P = promptIds.length;
  const out: SideRun = { side: null as unknown as SteerSide, values: [], latents: [], positions: [], hooks: [] };
  const ids: number[][] = [];
  const texts: string[] = [];
  for (let start = 0; start < samples; start += SAMPLE_BATCH) {
    const seeds = Array.from({ length: Math.min(SAMPLE_BATCH, samples - start) }, (_, i) => seed + start + i);
    const records = seeds.map(() => [] as SteeredPosition[]);
    const hooks = interventions
      ? steeringHooks(interventions, { positions: opts.positions, promptLength: P, bosId: tokenizer.bosId, steerBos: opts.steerBos, onSteered: (s) => records[s.batch]!.push(s) })
      : undefined;
    const r = sampleBatch(model, tokenizer, promptIds, seeds, { maxNewTokens: opts.maxNewTokens, temperature: opts.temperature, topK: opts.topK, topP: opts.topP, hooks });
    ids.push(...r.ids);
    texts.push(...r.texts);
    if (interventions) {
      records.forEach((list, b) => {
        // Positions a sample really fed: its prompt and every generated token but the last (rows that
        // stopped early keep running in the batch; those positions are not the sample's).
        const fed = P + r.ids[b]!.length - 1;
        const mine = list.filter((s) => s.position < fed);
        // Every intervention has a slot; those acting at another hook stay NaN / null in this row.
        out.values.push(mine.map((s) => slots(n, s, s.values, NaN)));
        out.latents.push(mine.map((s) => slots<number | null>(n, s, s.latents, null)));
        out.positions.push(mine.map((s) => s.position));
        out.hooks.push(mine.map((s) => s.hook));
      });
    }
    seeds.forEach(() => tick());
  }
  // Fluency: always under the unsteered model.
  const loss = continuationLoss(model, promptIds, ids);
  const matches = concept ? texts.map((t) => concept.test(t)) : null;
  out.side = { texts, ids, loss: loss.mean, perSampleLoss: loss.perSample, rate: concept ? matchRate(texts, concept) : null, matches };
  return out;
}

/** Samples generated together in one batch. */
const SAMPLE_BATCH = 32;

function slots<V>(n: number, s: SteeredPosition, values: readonly V[], empty: V): V[] {
  const row = new Array<V>(n).fill(empty);
  s.interventions.forEach((k, j) => (row[k] = values[j]!));
  return row;
}

export interface SweepRow {
  amount: number;
  steered: SteerSide;
  values: number[][][];
}

export interface SweepResult {
  promptIds: number[];
  baseline: SteerSide;
  rows: SweepRow[];
}

/**
 * Strength sweep: the baseline once, then one steered run per amount. Each amount replaces every
 * intervention's amount (strength for add, value for clamp and cap; ablations have none).
 */
export function steerSweep(model: Transformer, tokenizer: Tokenizer, opts: SteerOptions, amounts: readonly number[]): SweepResult {
  if (amounts.length === 0) throw new InputError('a sweep needs at least one strength or value');
  if (opts.interventions.every((iv) => iv.mode === 'ablate')) throw new InputError('ablation has no strength to sweep; sweep add, clamp or cap');
  const { promptIds, concept } = prepare(model, tokenizer, opts);
  const samples = opts.samples ?? 1;
  const bar = makeProgress({ label: 'steer sweep', total: samples * (amounts.length + 1), unit: 'runs', quiet: opts.progress ? undefined : true });
  let done = 0;
  const tick = (): void => bar.update(++done);
  const baseline = runSide(model, tokenizer, promptIds, opts, concept, null, tick).side;
  const rows = amounts.map((amount) => {
    const list = opts.interventions.map((iv) => (iv.mode === 'ablate' ? iv : { ...iv, amount }));
    checkInterventions(list);
    const r = runSide(model, tokenizer, promptIds, opts, concept, list, tick);
    return { amount, steered: r.side, values: r.values };
  });
  bar.stop();
  return { promptIds, baseline, rows };
}
