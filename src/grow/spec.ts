// What a training run is: the model to grow (architecture), how to train it, on what data, and when to
// checkpoint. A run directory records the resolved spec in run.json, so a resumed run continues exactly
// the run that was started, and a resume that asks for a different model fails instead of mixing two.
import { InputError } from '../errors.js';
import { gpt2Config, llamaConfig, type ModelConfig, type PositionalKind } from '../model/index.js';

/** llama: RMSNorm, RoPE, SwiGLU. gpt2: LayerNorm, learned positions, GELU, tied embeddings. attn-only: llama-style attention blocks, no MLPs. */
export type ArchName = 'llama' | 'gpt2' | 'attn-only';
export const ARCH_NAMES: readonly ArchName[] = ['llama', 'gpt2', 'attn-only'];

export interface ArchSpec {
  arch: ArchName;
  layers: number;
  dModel: number;
  heads: number;
  /** Context length in tokens (training windows and the model's nCtx). */
  ctx: number;
  /** Vocabulary size; the tokenizer is trained to exactly this size (or, with an existing tokenizer, must match it). */
  vocab: number;
  /** MLP width (default 4 * dModel; ignored for attn-only). */
  dMlp?: number;
  /** Override the family's positional scheme (llama/attn-only: rope; gpt2: learned). */
  positional?: PositionalKind;
}

export interface TrainSpec {
  steps: number;
  /** Sequences per step; tokens per step = batch * ctx. */
  batch: number;
  /** Peak learning rate (AdamW). */
  lr: number;
  /** Linear warmup (default min(100, steps / 10)). */
  warmupSteps: number;
  decay: 'cosine' | 'linear' | 'constant';
  /** Final learning rate as a fraction of the peak. */
  minLrRatio: number;
  /** Decoupled weight decay on matrices and embeddings (not on norms or biases). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  gradClip: number;
  /** Seeds the initialisation, the batch order and the synthetic data. */
  seed: number;
  /** Standard deviation of the random initial weights. */
  initStd: number;
}

export interface DataSpec {
  /** Training text: plain text or JSONL ({"text": ...} per line). */
  path: string;
  /** How a plain-text file splits into documents (see io/text.ts); 'auto' picks from the layout. */
  split: 'auto' | 'blank-line' | 'line' | 'whole' | 'single-newline';
  /** Share of documents (the last ones) held out for evaluation. */
  valFraction: number;
  /** An existing tokenizer.json to use instead of training one. */
  tokenizer?: string;
  /**
   * Synthetic share of each batch: sequences made of a random token segment repeated to fill the
   * context (the cleanest signal for induction heads). 0 = text only.
   */
  repeatFraction: number;
  /** Segment lengths of the synthetic sequences, uniform in [min, max]. */
  repeatMinLen: number;
  repeatMaxLen: number;
}

export interface CheckpointSpec {
  /** Save every N steps (0: only the steps listed in `at`, and the last). */
  every: number;
  /** Extra steps to save at (e.g. log-spaced early ones, to catch a phase change). */
  at: number[];
  /** Held-out batches averaged for the eval loss at each checkpoint. */
  evalBatches: number;
  /** Append a metrics line every N steps. */
  logEvery: number;
}

export interface GrowSpec {
  model: ArchSpec;
  train: TrainSpec;
  data: DataSpec;
  checkpoints: CheckpointSpec;
}

/** Every field optional: defaults fill the rest (see resolveSpec). */
export interface GrowSpecInput {
  model?: Partial<ArchSpec>;
  train?: Partial<TrainSpec>;
  data?: Partial<DataSpec> & { path?: string };
  checkpoints?: Partial<CheckpointSpec>;
}

export const DEFAULT_ARCH: ArchSpec = { arch: 'llama', layers: 2, dModel: 128, heads: 4, ctx: 128, vocab: 2048 };

export const DEFAULT_TRAIN: TrainSpec = {
  steps: 1000,
  batch: 16,
  lr: 1e-3,
  warmupSteps: 100,
  decay: 'cosine',
  minLrRatio: 0.1,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1,
  seed: 0,
  initStd: 0.02,
};

export const DEFAULT_DATA: Omit<DataSpec, 'path'> = { split: 'auto', valFraction: 0.05, repeatFraction: 0, repeatMinLen: 8, repeatMaxLen: 32 };

export const DEFAULT_CHECKPOINTS: CheckpointSpec = { every: 0, at: [], evalBatches: 4, logEvery: 10 };

/** Fill defaults and check every field; throws InputError naming the first bad one. */
export function resolveSpec(input: GrowSpecInput): GrowSpec {
  const model: ArchSpec = { ...DEFAULT_ARCH, ...strip(input.model) };
  const train: TrainSpec = { ...DEFAULT_TRAIN, ...strip(input.train) };
  if (!input.data?.path) throw new InputError('grow: no training data given (--data FILE)');
  const data: DataSpec = { ...DEFAULT_DATA, ...strip(input.data), path: input.data.path };
  const checkpoints: CheckpointSpec = { ...DEFAULT_CHECKPOINTS, ...strip(input.checkpoints) };
  // Default warmup: 100 steps, but never more than a tenth of a short run.
  if (input.train?.warmupSteps === undefined) train.warmupSteps = Math.min(DEFAULT_TRAIN.warmupSteps, Math.ceil(train.steps / 10));
  if (train.warmupSteps > train.steps) train.warmupSteps = train.steps;
  const spec = { model, train, data, checkpoints };
  validateSpec(spec);
  return spec;
}

export function validateSpec(s: GrowSpec): void {
  const m = s.model;
  if (!ARCH_NAMES.includes(m.arch)) throw new InputError(`unknown architecture "${m.arch}" (known: ${ARCH_NAMES.join(', ')})`);
  positiveInt('layers', m.layers);
  positiveInt('d-model', m.dModel);
  positiveInt('heads', m.heads);
  positiveInt('ctx', m.ctx, 2);
  positiveInt('vocab', m.vocab);
  if (m.dModel % m.heads !== 0) throw new InputError(`--d-model ${m.dModel} must be a multiple of --heads ${m.heads}`);
  const dHead = m.dModel / m.heads;
  if (m.positional !== undefined && !['rope', 'learned', 'none'].includes(m.positional)) {
    throw new InputError(`--positional must be rope, learned or none, got "${m.positional}"`);
  }
  if ((m.positional ?? (m.arch === 'gpt2' ? 'learned' : 'rope')) === 'rope' && dHead % 2 !== 0) {
    throw new InputError(`rotary positions need an even head size, got d-model/heads = ${dHead}`);
  }
  if (m.dMlp !== undefined) positiveInt('d-mlp', m.dMlp);

  const t = s.train;
  positiveInt('steps', t.steps);
  positiveInt('batch', t.batch);
  finiteIn('lr', t.lr, 0, 10, false);
  nonNegativeInt('warmup', t.warmupSteps);
  if (!['cosine', 'linear', 'constant'].includes(t.decay)) throw new InputError(`--decay must be cosine, linear or constant, got "${t.decay}"`);
  finiteIn('min-lr-ratio', t.minLrRatio, 0, 1, true);
  finiteIn('weight-decay', t.weightDecay, 0, 1, true);
  finiteIn('beta1', t.beta1, 0, 1, true);
  finiteIn('beta2', t.beta2, 0, 1, true);
  finiteIn('grad-clip', t.gradClip, 0, Infinity, true);
  nonNegativeInt('seed', t.seed);
  finiteIn('init-std', t.initStd, 0, 10, false);

  const d = s.data;
  if (!['auto', 'blank-line', 'line', 'whole', 'single-newline'].includes(d.split)) {
    throw new InputError(`--split must be auto, blank-line, line, whole or single-newline, got "${d.split}"`);
  }
  finiteIn('val-fraction', d.valFraction, 0, 0.5, false);
  finiteIn('repeat-fraction', d.repeatFraction, 0, 1, true);
  positiveInt('repeat-min-len', d.repeatMinLen);
  positiveInt('repeat-max-len', d.repeatMaxLen);
  if (d.repeatMinLen > d.repeatMaxLen) throw new InputError(`--repeat-min-len ${d.repeatMinLen} is larger than --repeat-max-len ${d.repeatMaxLen}`);
  if (d.repeatFraction > 0 && 2 * d.repeatMinLen > m.ctx) {
    throw new InputError(`a repeated segment of ${d.repeatMinLen} tokens does not fit twice in a context of ${m.ctx}; lower --repeat-min-len`);
  }

  const c = s.checkpoints;
  nonNegativeInt('checkpoint-every', c.every);
  // Step 0 is the initial model (useful as the first point of a dynamics curve).
  for (const a of c.at) if (!Number.isInteger(a) || a < 0) throw new InputError(`--checkpoint-at steps must be non-negative integers, got ${a}`);
  nonNegativeInt('eval-batches', c.evalBatches);
  positiveInt('log-every', c.logEvery);
}

/** The ModelConfig a spec describes; the tokenizer's special token (id 0) is the model's BOS/EOS. */
export function modelConfigFor(m: ArchSpec, bosTokenId: number | null = 0): ModelConfig {
  const common = {
    name: `loupe-grow-${m.arch}-${m.layers}L-${m.dModel}d`,
    dModel: m.dModel,
    nLayers: m.layers,
    nHeads: m.heads,
    vocabSize: m.vocab,
    nCtx: m.ctx,
    bosTokenId,
    eosTokenId: bosTokenId,
    ...(m.positional ? { positional: m.positional } : {}),
    // GPT-2's family config has no rotary settings of its own; llama's default is the same.
    ...(m.positional === 'rope' ? { rope: { layout: 'half' as const, base: 10000, rotaryDim: m.dModel / m.heads } } : {}),
  };
  switch (m.arch) {
    case 'gpt2':
      return gpt2Config({ ...common, dMlp: m.dMlp ?? 4 * m.dModel });
    case 'llama':
      return llamaConfig({ ...common, dMlp: m.dMlp ?? 4 * m.dModel });
    case 'attn-only':
      return llamaConfig({ ...common, attnOnly: true, dMlp: 0 });
  }
}

/** Architecture fields that must agree between a run directory and a resume request. */
export function archDifferences(saved: ArchSpec, asked: Partial<ArchSpec>): string[] {
  const out: string[] = [];
  for (const k of ['arch', 'layers', 'dModel', 'heads', 'ctx', 'vocab', 'dMlp', 'positional'] as const) {
    if (asked[k] !== undefined && asked[k] !== saved[k]) out.push(`${k}: run has ${String(saved[k] ?? 'default')}, asked for ${String(asked[k])}`);
  }
  return out;
}

function strip<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (!o) return out;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function positiveInt(name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new InputError(`--${name} must be an integer >= ${min}, got ${v}`);
}

function nonNegativeInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new InputError(`--${name} must be a non-negative integer, got ${v}`);
}

function finiteIn(name: string, v: number, lo: number, hi: number, loInclusive: boolean): void {
  if (!Number.isFinite(v) || v > hi || v < lo || (!loInclusive && v === lo)) {
    throw new InputError(`--${name} must be in ${loInclusive ? '[' : '('}${lo}, ${hi}], got ${v}`);
  }
}
