// Training settings with the field's defaults (see docs/sae.md, "Choices"), resolved once so a run
// records exactly what it used.
import { InputError } from '../errors.js';
import { architectureNames, getArchitecture, type Architecture } from './architectures/index.js';
import type { SaeConfig } from './config.js';
import type { RuleOptions } from './train-step.js';

export interface TrainOptions {
  architecture: string;
  /** Dictionary size d_sae. */
  latents: number;
  /** TopK family. */
  k?: number | null;
  /** Tokens to train on (the run stops after the step that reaches it). */
  tokens: number;
  /** Tokens per step (default 4096). */
  batchSize?: number;
  /** Peak learning rate (default: see defaultLearningRate). */
  lr?: number;
  /** Learning-rate warmup steps (default 5% of the run) and final linear decay steps (default 20%). */
  warmupSteps?: number;
  decaySteps?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  /**
   * ReLU and Gated: L1 coefficient (default 2.5, with activations normalised to E||x|| = sqrt(d_in);
   * measured on stories260K at 1M tokens: ReLU L0 ~30, FVU ~0.24; Gated L0 ~57, FVU ~0.056. Anthropic's 5
   * suits much longer runs on wider models).
   */
  l1Coefficient?: number;
  /** JumpReLU: L0 coefficient (default 1) and straight-through bandwidth (default 0.05), initial threshold. */
  l0Coefficient?: number;
  bandwidth?: number;
  initThreshold?: number;
  /** JumpReLU: learning-rate multiplier of the thresholds (default 10). */
  thresholdLrScale?: number;
  /** Steps over which the L1/L0 coefficient ramps up from 0 (default 5% of the run). */
  sparsityWarmupSteps?: number;
  /** TopK family: AuxK coefficient (default 1/32) and k_aux (default d_in / 2). */
  auxKCoefficient?: number;
  kAux?: number;
  /** BatchTopK: momentum of the running inference threshold (default 0.9: short runs need it to follow the last steps). */
  thresholdMomentum?: number;
  /** Scale activations so E||x|| = sqrt(d_in) while training (default true; folded into the weights on save). */
  normalizeActivations?: boolean;
  /** b_dec at init (default geometric median of a sample; 'mean'; 'zeros'). */
  bDecInit?: 'geometric_median' | 'mean' | 'zeros';
  /** Rows sampled at the start for the normalisation factor and b_dec (default 8192, at least one batch). */
  initSampleRows?: number;
  /** A latent is dead after this many tokens without firing (default min(10M, tokens / 10)). */
  deadTokens?: number;
  /** Transcoders: linear skip connection. */
  skip?: boolean;
  seed?: number;
  hookName?: string;
  hookNameOut?: string | null;
  modelName?: string;
}

export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'k' | 'hookNameOut' | 'kAux'>> & {
  k: number | null;
  hookNameOut: string | null;
  kAux: number;
  totalSteps: number;
};

export function resolveTrainOptions(o: TrainOptions, dIn: number): ResolvedTrainOptions {
  const arch = getArchitecture(o.architecture);
  const positiveInt = (name: string, v: number | undefined | null, min = 1): void => {
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < min)) throw new InputError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  positiveInt('latents', o.latents);
  positiveInt('tokens', o.tokens);
  positiveInt('batch size', o.batchSize);
  positiveInt('k', o.k);
  if (arch.usesK && (o.k === undefined || o.k === null)) throw new InputError(`architecture "${arch.name}" needs k (e.g. --k 32)`);
  checkArchitectureSettings(arch, o);
  if (arch.usesK && o.k! > o.latents) throw new InputError(`k (${o.k}) cannot exceed the dictionary size (${o.latents} latents)`);
  if (arch.transcoder && !o.hookNameOut) throw new InputError(`architecture "${arch.name}" reads one hook and predicts another: give the output hook (--hook-out)`);
  if (!arch.transcoder && o.skip) throw new InputError('only transcoders have a skip connection (--skip)');
  for (const key of ['lr', 'l1Coefficient', 'l0Coefficient', 'bandwidth', 'initThreshold', 'auxKCoefficient'] as const) {
    const v = o[key];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new InputError(`${key} must be a non-negative number, got ${v}`);
  }
  const batchSize = o.batchSize ?? 4096;
  const totalSteps = Math.max(1, Math.ceil(o.tokens / batchSize));
  return {
    architecture: arch.name,
    latents: o.latents,
    k: o.k ?? null,
    tokens: o.tokens,
    batchSize,
    totalSteps,
    lr: o.lr ?? defaultLearningRate(arch.name, o.latents),
    warmupSteps: o.warmupSteps ?? Math.floor(totalSteps * 0.05),
    decaySteps: o.decaySteps ?? Math.floor(totalSteps * 0.2),
    adamBeta1: o.adamBeta1 ?? 0.9,
    adamBeta2: o.adamBeta2 ?? 0.999,
    l1Coefficient: o.l1Coefficient ?? 2.5,
    l0Coefficient: o.l0Coefficient ?? 1,
    bandwidth: o.bandwidth ?? 0.05,
    initThreshold: o.initThreshold ?? 0.001,
    thresholdLrScale: o.thresholdLrScale ?? 10,
    sparsityWarmupSteps: o.sparsityWarmupSteps ?? Math.floor(totalSteps * 0.05),
    auxKCoefficient: o.auxKCoefficient ?? 1 / 32,
    kAux: o.kAux ?? Math.max(1, Math.floor(dIn / 2)),
    thresholdMomentum: o.thresholdMomentum ?? 0.9,
    normalizeActivations: o.normalizeActivations ?? true,
    bDecInit: o.bDecInit ?? 'geometric_median',
    initSampleRows: o.initSampleRows ?? 8192,
    deadTokens: o.deadTokens ?? Math.max(batchSize, Math.min(10_000_000, Math.floor(o.tokens / 10))),
    skip: o.skip ?? false,
    seed: o.seed ?? 0,
    hookName: o.hookName ?? '',
    hookNameOut: o.hookNameOut ?? null,
    modelName: o.modelName ?? '',
  };
}

/**
 * Refuse settings the architecture would ignore (k without a TopK, a penalty coefficient the architecture
 * does not add), naming the architectures that take them, rather than training without them.
 */
export function checkArchitectureSettings(arch: Architecture, o: Pick<TrainOptions, 'k' | 'l1Coefficient' | 'l0Coefficient' | 'bandwidth'>): void {
  const takers = (uses: (a: Architecture) => boolean): string => architectureNames().filter((n) => uses(getArchitecture(n))).join(', ');
  const refuse = (what: string, flag: string, uses: (a: Architecture) => boolean, why: string): never => {
    throw new InputError(`architecture "${arch.name}" takes no ${what} (${why}; ${flag} is for ${takers(uses)}); drop ${flag}`, { architecture: arch.name });
  };
  const set = (v: number | null | undefined): boolean => v !== undefined && v !== null;
  const why = arch.usesK ? 'k fixes its L0' : `its sparsity comes from an ${arch.penalty === 'l1' ? 'L1' : 'L0'} penalty`;
  if (!arch.usesK && set(o.k)) refuse('k', '--k', (a) => a.usesK, why);
  if (arch.penalty !== 'l1' && set(o.l1Coefficient)) refuse('L1 coefficient', '--l1', (a) => a.penalty === 'l1', why);
  if (arch.penalty !== 'l0' && set(o.l0Coefficient)) refuse('L0 coefficient', '--l0', (a) => a.penalty === 'l0', why);
  if (arch.penalty !== 'l0' && set(o.bandwidth)) refuse('straight-through bandwidth', '--bandwidth', (a) => a.penalty === 'l0', why);
}

/**
 * Default peak learning rate: the TopK family follows OpenAI's 2e-4 / sqrt(latents / 2^14), five times
 * that for transcoders, whose encoder starts random rather than as the decoder's transpose and has further
 * to go (stories260K, resid_mid -> mlp_out, 1M tokens: held-out FVU 0.51 at 1x, 0.23 at 5x); JumpReLU uses
 * 4e-4 (its thresholds train 10x faster, see jumprelu.ts); ReLU 2e-3, which a run of a few hundred steps needs for
 * its unconstrained decoder rows to settle (4e-4 left FVU at 0.39 where 2e-3 reached 0.24, on stories260K
 * at 1M tokens); Gated the same 2e-3 (held-out FVU 0.056 there).
 */
export function defaultLearningRate(architecture: string, latents: number): number {
  const arch = getArchitecture(architecture);
  if (arch.usesK) return (arch.transcoder ? 1e-3 : 2e-4) / Math.sqrt(latents / 2 ** 14);
  return arch.hasThreshold ? 4e-4 : 2e-3;
}

/** The rule options of a resolved run (also used by the benchmark with its own step count). */
export function defaultRuleOptions(cfg: SaeConfig, totalSteps: number, o?: ResolvedTrainOptions): RuleOptions {
  return {
    l1Coefficient: o?.l1Coefficient ?? 2.5,
    l0Coefficient: o?.l0Coefficient ?? 1,
    sparsityWarmupSteps: o?.sparsityWarmupSteps ?? Math.floor(totalSteps * 0.05),
    bandwidth: o?.bandwidth ?? 0.05,
    initThreshold: o?.initThreshold ?? 0.001,
    thresholdLrScale: o?.thresholdLrScale ?? 10,
    auxKCoefficient: o?.auxKCoefficient ?? 1 / 32,
    kAux: o?.kAux ?? Math.max(1, Math.floor(cfg.dIn / 2)),
    thresholdMomentum: o?.thresholdMomentum ?? 0.9,
  };
}
