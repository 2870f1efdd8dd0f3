// Training checkpoints: a directory that is both a usable SAE (SAELens layout, normalisation folded in)
// and everything needed to continue training exactly: the unfolded weights, Adam's moments, the rule's
// state, dead-latent counters and the shuffling buffer with its source position.
//   step-000120/cfg.json, sae_weights.safetensors      the SAE so far
//   step-000120/trainer_state.json                      step, tokens, options, scale factors, buffer meta
//   step-000120/trainer_state.safetensors               param.*, adam_m.*, adam_v.*, rule.*, dead, buffer.*
// Written into a temporary sibling and renamed, so a crash never leaves a half-written checkpoint.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../io/safetensors.js';
import type { ShuffleBufferState } from '../activations/buffer.js';
import { saveSae, type SaveOptions } from './format.js';
import type { Sae } from './sae.js';

export const STATE_JSON = 'trainer_state.json';
export const STATE_TENSORS = 'trainer_state.safetensors';

export interface TrainerState {
  /** Steps completed. */
  step: number;
  tokens: number;
  elapsedSeconds: number;
  options: Record<string, unknown>;
  scalingFactor: number;
  scalingFactorOut: number;
  optimizerStep: number;
  moments: Record<string, { m: Float32Array; v: Float32Array }>;
  ruleState: Record<string, Float32Array>;
  /** Steps since each latent last fired. */
  stepsSinceFired: Float32Array;
  buffer: ShuffleBufferState;
  /** The SAE's own tensors, unfolded (normalised space), by parameter name. */
  params: Record<string, Float32Array>;
  extraParams: Record<string, Float32Array>;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export function writeCheckpoint(dir: string, sae: Sae, state: TrainerState, saveOpts: SaveOptions): void {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  saveSae(sae, tmp, saveOpts);
  const tensors: Record<string, TensorToWrite> = {};
  const put = (name: string, data: Float32Array): void => {
    tensors[name] = { dtype: 'F32', shape: [data.length], data };
  };
  for (const [n, d] of Object.entries(state.params)) put(`param.${n}`, d);
  for (const [n, d] of Object.entries(state.extraParams)) put(`extra.${n}`, d);
  for (const [n, { m, v }] of Object.entries(state.moments)) {
    put(`adam_m.${n}`, m);
    put(`adam_v.${n}`, v);
  }
  for (const [n, d] of Object.entries(state.ruleState)) put(`rule.${n}`, d);
  put('steps_since_fired', state.stepsSinceFired);
  state.buffer.data.forEach((d, h) => put(`buffer.${h}`, d));
  state.buffer.pending?.acts.forEach((d, h) => put(`pending.${h}`, d));
  writeSafetensors(path.join(tmp, STATE_TENSORS), tensors);
  const b = state.buffer;
  const json = {
    format_version: 1,
    step: state.step,
    tokens: state.tokens,
    elapsed_seconds: state.elapsedSeconds,
    options: state.options,
    scaling_factor: state.scalingFactor,
    scaling_factor_out: state.scalingFactorOut,
    optimizer_step: state.optimizerStep,
    buffer: {
      filled: b.filled,
      hooks: b.data.length,
      pending: b.pending && { rows: b.pending.rows, offset: b.pending.offset, tokens: b.pending.tokens },
      resume: b.resume,
      draws: b.draws,
      exhausted: b.exhausted,
      tokens_read: b.tokensRead,
    },
  };
  fs.writeFileSync(path.join(tmp, STATE_JSON), JSON.stringify(json, null, 2) + '\n');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

export function readCheckpoint(dir: string): TrainerState {
  const jsonPath = path.join(dir, STATE_JSON);
  if (!fs.existsSync(jsonPath)) {
    throw new InputError(`${dir}: not a training checkpoint (no ${STATE_JSON}); checkpoints live in OUT/checkpoints/step-NNNNNN`, { path: dir });
  }
  let j: Record<string, any>;
  try {
    j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new FormatError(jsonPath, `not valid JSON: ${(err as Error).message}`);
  }
  if (j.format_version !== 1) throw new FormatError(jsonPath, `unknown checkpoint format_version ${j.format_version}`);
  const { tensors } = readSafetensors(path.join(dir, STATE_TENSORS));
  const pick = (prefix: string): Record<string, Float32Array> => {
    const out: Record<string, Float32Array> = {};
    for (const [n, t] of tensors) if (n.startsWith(prefix)) out[n.slice(prefix.length)] = t.data;
    return out;
  };
  const need = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new FormatError(path.join(dir, STATE_TENSORS), `missing tensor "${name}"`);
    return t.data;
  };
  const m = pick('adam_m.');
  const v = pick('adam_v.');
  const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
  for (const n of Object.keys(m)) moments[n] = { m: m[n]!, v: v[n] ?? new Float32Array(m[n]!.length) };
  const hooks: number = j.buffer.hooks;
  const data = Array.from({ length: hooks }, (_, h) => need(`buffer.${h}`));
  const pending = j.buffer.pending
    ? { rows: j.buffer.pending.rows, offset: j.buffer.pending.offset, tokens: j.buffer.pending.tokens, acts: Array.from({ length: hooks }, (_, h) => need(`pending.${h}`)) }
    : null;
  return {
    step: j.step,
    tokens: j.tokens,
    elapsedSeconds: j.elapsed_seconds,
    options: j.options,
    scalingFactor: j.scaling_factor,
    scalingFactorOut: j.scaling_factor_out,
    optimizerStep: j.optimizer_step,
    moments,
    ruleState: pick('rule.'),
    stepsSinceFired: need('steps_since_fired'),
    buffer: {
      filled: j.buffer.filled,
      data,
      pending,
      resume: j.buffer.resume,
      draws: j.buffer.draws,
      exhausted: j.buffer.exhausted,
      tokensRead: j.buffer.tokens_read,
    },
    params: pick('param.'),
    extraParams: pick('extra.'),
  };
}

/** Checkpoint directories under `root`, oldest first. */
export function listCheckpoints(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((n) => /^step-\d+$/.test(n))
    .sort()
    .map((n) => path.join(root, n));
}
