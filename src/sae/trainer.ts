// The training loop: batches from a shuffling buffer, normalisation, the shared step, Adam with warmup
// and decay, dead-latent tracking, periodic checkpoints, exact resume, and a hard stop with a clear
// message when the loss stops being finite.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, NonFiniteError } from '../errors.js';
import { ShuffleBuffer } from '../activations/buffer.js';
import type { ActivationSource } from '../activations/source.js';
import { Rng } from '../tensor/index.js';
import { checkpointName, listCheckpoints, readCheckpoint, writeCheckpoint, type TrainerState } from './checkpoint.js';
import { defaultConfig } from './config.js';
import { saveSae } from './format.js';
import { geometricMedian, initializeSae, meanRows, normScalingFactor } from './init.js';
import { lrAt, SaeOptimizer } from './optimizer.js';
import { Sae } from './sae.js';
import { StepContext, trainStep } from './train-step.js';
import { defaultRuleOptions, resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './trainer-options.js';

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Activation rows trained on. */
  tokens: number;
  totalTokens: number;
  loss: number;
  mse: number;
  /** Batch fraction of variance unexplained. */
  fvu: number;
  l0: number;
  deadFraction: number;
  lr: number;
  elapsedSeconds: number;
}

export interface TrainRunOptions extends TrainOptions {
  source: ActivationSource;
  /** Rows the shuffling buffer holds (default max(64 batches' worth / 4, 65536) capped by tokens). */
  bufferRows?: number;
  /** Output directory: the final SAE in SAELens layout, checkpoints under OUT/checkpoints. */
  out?: string;
  /** Write a checkpoint every this many steps (default: about 10 per run; 0 = only at the end). */
  checkpointEvery?: number;
  /** Checkpoints kept (oldest deleted first; default 2). */
  keepCheckpoints?: number;
  /** Continue from this checkpoint directory. */
  resume?: string;
  /** Called after every step. */
  onStep?: (p: TrainProgress, sae: Sae) => void | Promise<void>;
  /** Extra fields for cfg.json's "metadata" (context size, dataset, BOS policy ...). */
  metadata?: Record<string, unknown>;
}

export interface TrainResult {
  /** The trained dictionary, folded (reads raw activations). */
  sae: Sae;
  steps: number;
  tokens: number;
  seconds: number;
  final: TrainProgress;
  /** log10 of each latent's firing density over this run's steps (SAELens' sparsity.safetensors). */
  logDensity: Float32Array;
  options: ResolvedTrainOptions;
  checkpoints: string[];
}

export async function trainSae(run: TrainRunOptions): Promise<TrainResult> {
  const source = run.source;
  const dIn = source.widths[0]!;
  const o = resolveTrainOptions(run, dIn);
  const transcoder = o.architecture.startsWith('transcoder');
  if (source.hooks.length !== (transcoder ? 2 : 1)) {
    throw new InputError(`a ${o.architecture} trains on ${transcoder ? 'two hooks (input, output)' : 'one hook'}, the activation source gives ${source.hooks.length}`);
  }
  const dOut = transcoder ? source.widths[1]! : dIn;
  const B = o.batchSize;
  const bufferRows = run.bufferRows ?? Math.max(B, Math.min(Math.max(16 * B, 65536), o.tokens));
  const buffer = new ShuffleBuffer(source, { capacity: bufferRows, seed: o.seed });
  const checkpointRoot = run.out ? path.join(run.out, 'checkpoints') : null;
  const every = run.checkpointEvery ?? Math.max(1, Math.ceil(o.totalSteps / 10));
  const keep = run.keepCheckpoints ?? 2;

  const cfg = defaultConfig({
    architecture: o.architecture,
    dIn,
    dSae: o.latents,
    dOut,
    k: o.k,
    hookName: o.hookName || source.hooks[0]!,
    hookNameOut: transcoder ? o.hookNameOut ?? source.hooks[1]! : null,
    modelName: o.modelName,
    skip: o.skip,
  });
  let sae: Sae;
  let state: TrainerState | null = null;
  if (run.resume) {
    state = readCheckpoint(run.resume);
    checkResumable(state, o, run.resume);
    sae = Sae.zeros({ ...cfg, normalizeActivations: 'expected_average_only_in', scalingFactor: state.scalingFactor, scalingFactorOut: state.scalingFactorOut });
    for (const [name, data] of Object.entries(state.params)) {
      const t = (sae.params as unknown as Record<string, { data: Float32Array } | null>)[name];
      if (!t || t.data.length !== data.length) throw new InputError(`${run.resume}: parameter ${name} does not fit this run's shapes`);
      t.data.set(data);
    }
    buffer.restore(state.buffer);
  } else {
    sae = await initialise(cfg, buffer, o);
  }

  sae = sae.shared(); // weights in shared memory, so the kernel pool's workers can help (parallel.ts)
  const ctx = new StepContext(sae);
  ctx.totalSteps = o.totalSteps;
  const rule = sae.arch.trainingRule(sae, defaultRuleOptions(cfg, o.totalSteps, o));
  const optim = new SaeOptimizer(sae, ctx, rule, { beta1: o.adamBeta1, beta2: o.adamBeta2, decoderNorm: sae.arch.decoderNorm });
  const F = o.latents;
  const stepsSinceFired = new Float32Array(F);
  const firedInWindow = new Float64Array(F);
  let step = 0;
  let tokens = 0;
  let elapsedBefore = 0;
  if (state) {
    for (const e of rule.extraParams) {
      const d = state.extraParams[e.name];
      if (d && d.length === e.tensor.size) e.tensor.data.set(d);
    }
    optim.loadState(state.optimizerStep, state.moments);
    rule.loadState?.(state.ruleState);
    stepsSinceFired.set(state.stepsSinceFired);
    step = state.step;
    tokens = state.tokens;
    elapsedBefore = state.elapsedSeconds;
  }
  const deadSteps = Math.max(1, Math.ceil(o.deadTokens / B));
  const deadMask = new Uint8Array(F);
  const fired = new Uint8Array(F);
  const s = sae.cfg.scalingFactor;
  const sOut = sae.cfg.scalingFactorOut;
  const t0 = performance.now();
  const checkpoints = checkpointRoot ? listCheckpoints(checkpointRoot) : [];
  // The scale factors used in training are folded into the saved weights; recorded for reference.
  const saveOpts = { info: { options: o, training_scaling_factor: s, training_scaling_factor_out: sOut }, metadata: run.metadata };
  let progress: TrainProgress | null = null;

  const snapshot = (): TrainerState => {
    const ostate = optim.state();
    const params: Record<string, Float32Array> = {};
    for (const [n, t] of Object.entries(sae.params)) if (t) params[n] = t.data;
    const extraParams: Record<string, Float32Array> = {};
    for (const e of rule.extraParams) extraParams[e.name] = e.tensor.data;
    return {
      step,
      tokens,
      elapsedSeconds: elapsedBefore + (performance.now() - t0) / 1000,
      options: o as unknown as Record<string, unknown>,
      scalingFactor: s,
      scalingFactorOut: sOut,
      optimizerStep: ostate.step,
      moments: ostate.moments,
      ruleState: rule.saveState?.() ?? {},
      stepsSinceFired,
      buffer: buffer.state(),
      params,
      extraParams,
    };
  };
  const checkpoint = (): void => {
    if (!checkpointRoot) return;
    const dir = path.join(checkpointRoot, checkpointName(step));
    writeCheckpoint(dir, sae, snapshot(), saveOpts);
    checkpoints.push(dir);
    while (checkpoints.length > keep) fs.rmSync(checkpoints.shift()!, { recursive: true, force: true });
  };

  while (step < o.totalSteps) {
    const batch = await buffer.next(B);
    if (!batch || batch.rows < B) {
      if (step === 0 && tokens === 0) throw new InputError('the activation source is empty: no batch of activations to train on (empty dataset, or a split with no text)');
      break; // a finite source ran out: train on what there was
    }
    const x = batch.acts[0]!;
    const y = transcoder ? batch.acts[1]! : x;
    for (let i = 0; i < x.length; i++) x[i] = x[i]! * s;
    if (transcoder) for (let i = 0; i < y.length; i++) y[i] = y[i]! * sOut;
    for (let f = 0; f < F; f++) deadMask[f] = stepsSinceFired[f]! >= deadSteps ? 1 : 0;
    ctx.setDead(deadMask);
    ctx.step = step;
    trainStep(ctx, rule, x, y, B);
    const loss = ctx.totalLoss;
    if (!Number.isFinite(loss)) {
      const last = checkpoints.length ? checkpoints[checkpoints.length - 1]! : null;
      throw new NonFiniteError(
        'sae train',
        `training diverged: the loss is ${loss} at step ${step + 1} of ${o.totalSteps} (${tokens} tokens in); stopped. ` +
          (last ? `The last good checkpoint is ${last} (continue from it with --resume and a lower --lr).` : `No checkpoint was written before it (lower --lr, or checkpoint more often with --checkpoint-every).`),
      );
    }
    const lr = lrAt(step, { lr: o.lr, totalSteps: o.totalSteps, warmupSteps: o.warmupSteps, decaySteps: o.decaySteps });
    optim.step(lr);
    fired.fill(0);
    ctx.markFired(fired);
    let dead = 0;
    for (let f = 0; f < F; f++) {
      stepsSinceFired[f] = fired[f] ? 0 : stepsSinceFired[f]! + 1;
      if (stepsSinceFired[f]! >= deadSteps) dead++;
    }
    accumulateDensity(ctx, firedInWindow);
    step++;
    tokens += B;
    progress = {
      step,
      totalSteps: o.totalSteps,
      tokens,
      totalTokens: o.totalSteps * B,
      loss,
      mse: ctx.losses.mse!,
      fvu: ctx.fvu,
      l0: ctx.l0,
      deadFraction: dead / F,
      lr,
      elapsedSeconds: elapsedBefore + (performance.now() - t0) / 1000,
    };
    await run.onStep?.(progress, sae);
    if (checkpointRoot && every > 0 && step % every === 0 && step < o.totalSteps) checkpoint();
  }
  await buffer.close();
  if (!progress) throw new InputError(`nothing to train: the run already finished (${step} of ${o.totalSteps} steps)`);
  const folded = sae.folded();
  const logDensity = new Float32Array(F);
  for (let f = 0; f < F; f++) logDensity[f] = Math.log10(Math.max(firedInWindow[f]! / Math.max(tokens, 1), 1e-10));
  if (run.out) {
    checkpoint();
    saveSae(sae, run.out, { ...saveOpts, info: { ...saveOpts.info, tokens, steps: step, seconds: progress.elapsedSeconds }, logDensity });
  }
  return { sae: folded, steps: step, tokens, seconds: progress.elapsedSeconds, final: progress, logDensity, options: o, checkpoints };
}

/** Count activations per latent (for the density histogram; over the whole run). */
function accumulateDensity(ctx: StepContext, counts: Float64Array): void {
  if (ctx.sparse) {
    const { idx, val, rowPtr, rows } = ctx.sparse;
    for (let e = 0; e < rowPtr[rows]!; e++) if (val[e]! > 0) counts[idx[e]!] = counts[idx[e]!]! + 1;
  } else if (ctx.acts_BF) {
    const a = ctx.acts_BF;
    const F = ctx.F;
    for (let b = 0; b < ctx.B; b++) for (let f = 0; f < F; f++) if (a[b * F + f] !== 0) counts[f] = counts[f]! + 1;
  }
}

/**
 * A fresh dictionary: normalisation factors and b_dec from a sample of the buffer (taken without
 * consuming it), then the architecture's init.
 */
async function initialise(cfg: ReturnType<typeof defaultConfig>, buffer: ShuffleBuffer, o: ResolvedTrainOptions): Promise<Sae> {
  const sample = await buffer.sample(Math.max(o.initSampleRows, 1), new Rng(o.seed ^ 0x5eed));
  if (sample.rows === 0) throw new InputError('the activation source is empty: no activations to train on (empty dataset, or a split with no text)');
  const x = sample.acts[0]!;
  const transcoder = cfg.architecture.startsWith('transcoder');
  const y = transcoder ? sample.acts[1]! : x;
  const s = o.normalizeActivations ? normScalingFactor(x, sample.rows, cfg.dIn) : 1;
  const sOut = transcoder ? (o.normalizeActivations ? normScalingFactor(y, sample.rows, cfg.dOut) : 1) : s;
  const sae = Sae.zeros({ ...cfg, normalizeActivations: 'expected_average_only_in', scalingFactor: s, scalingFactorOut: sOut });
  initializeSae(sae, { seed: o.seed, initThreshold: o.initThreshold });
  if (o.bDecInit !== 'zeros') {
    const yn = y.map((v) => v * sOut);
    const b = o.bDecInit === 'mean' ? Float32Array.from(meanRows(yn, sample.rows, cfg.dOut)) : geometricMedian(yn, sample.rows, cfg.dOut);
    sae.params.b_dec_O.data.set(b);
  }
  return sae;
}

function checkResumable(state: TrainerState, o: ResolvedTrainOptions, dir: string): void {
  const saved = state.options as unknown as ResolvedTrainOptions;
  for (const key of ['architecture', 'latents', 'k', 'batchSize', 'seed', 'skip'] as const) {
    if (saved[key] !== o[key]) {
      throw new InputError(`${dir}: cannot resume: the checkpoint was trained with ${key} = ${JSON.stringify(saved[key])}, this run asks for ${JSON.stringify(o[key])}`);
    }
  }
}
