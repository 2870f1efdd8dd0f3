// Splicing a dictionary into a model run: hooks that replace the activation at the dictionary's hook by
// its reconstruction (optionally plus the error term x - x_hat, which leaves the run unchanged until a
// caller edits latents), and let callers read or edit the latents there. Features, steering and circuits
// build on these.
//
// An SAE needs one hook (its hook_name). A transcoder needs two: its input hook only records the input,
// and its output hook (hook_name_out) is replaced by the transcoder's prediction from that input.
// BOS positions are left untouched by default: dictionaries are trained without them (see
// activations/harvest.ts), and a constant position is not worth reconstructing.
import { InputError } from '../errors.js';
import type { ForwardHook, HookContext } from '../model/hooks.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { sparseDecode, type SparseLatents } from './kernels.js';
import type { Sae } from './sae.js';
import { gemm } from './step-context.js';

export interface SpliceEvent {
  /** The hook whose activation is replaced (the output hook for a transcoder). */
  name: string;
  /** What the dictionary read: [batch, pos, d_in]. */
  input: Tensor;
  /** The activation the model produced at the replaced hook: [batch, pos, d_out] (= input for an SAE). */
  original: Tensor;
  /** The dictionary's reconstruction (or prediction), before any error term: [batch, pos, d_out]. */
  reconstruction: Tensor;
  /** Latents, when computed densely (with onLatents or under autodiff), else null (see sparse). */
  latents: Tensor | null;
  /** Active latents per position (row = b * pos + t), when computed on the fast path. */
  sparse: SparseLatents | null;
  /** 1 where the position was left untouched (BOS, padding), per row. */
  skipped: Uint8Array;
  ctx: HookContext;
}

export interface SpliceOptions {
  /** Add the error term x - x_hat back, so only latent edits change the run (default false). */
  withError?: boolean;
  /** Read or edit the latents [batch, pos, d_sae] before decoding; return a replacement or nothing. */
  onLatents?: (latents: Tensor, ctx: HookContext) => Tensor | void;
  /** Observe every splice (evaluation metrics, feature recording). */
  onSplice?: (event: SpliceEvent) => void;
  /** Leave BOS positions as the model computed them (default true). */
  skipBos?: boolean;
  /** The BOS id to skip (default 1, llama2.c's; pass the tokenizer's bosId). */
  bosId?: number | null;
}

/** Forward hooks that splice `sae` into a run (pass them as run({hooks})). */
export function spliceHooks(sae: Sae, opts: SpliceOptions = {}): ForwardHook[] {
  if (!sae.cfg.hookName) throw new InputError('this dictionary names no hook_name, so there is nowhere to splice it');
  if (!sae.isTranscoder) return [{ name: sae.cfg.hookName, fn: (x, ctx) => splice(sae, x, x, ctx, opts) }];
  const out = sae.cfg.hookNameOut;
  if (!out) throw new InputError('this transcoder names no hook_name_out, so there is nowhere to write its output');
  let input: Tensor | null = null;
  return [
    { name: sae.cfg.hookName, fn: (x) => void (input = x) },
    {
      name: out,
      fn: (y, ctx) => {
        if (!input) throw new InputError(`transcoder splice: the output hook ${out} ran before the input hook ${sae.cfg.hookName}`);
        const r = splice(sae, input, y, ctx, opts);
        input = null;
        return r;
      },
    },
  ];
}

/** A hook that zeroes the activation at `name` (BOS positions kept, as in the splice): the ablation baseline. */
export function zeroAblationHook(name: string, opts: Pick<SpliceOptions, 'skipBos' | 'bosId'> = {}): ForwardHook {
  return {
    name,
    fn: (x, ctx) => {
      const skipped = skippedRows(ctx, x, opts);
      const rowWidth = x.size / skipped.length;
      const out = new Float32Array(x.size);
      for (let r = 0; r < skipped.length; r++) if (skipped[r]) out.set(x.data.subarray(r * rowWidth, (r + 1) * rowWidth), r * rowWidth);
      return new Tensor(out, x.shape);
    },
  };
}

function splice(sae: Sae, x: Tensor, original: Tensor, ctx: HookContext, opts: SpliceOptions): Tensor {
  const D = sae.dIn;
  const O = sae.dOut;
  if (x.shape[x.ndim - 1] !== D) {
    throw new InputError(`${sae.cfg.architecture} dictionary reads width ${D}, but hook ${ctx.name} gives [${x.shape.join(', ')}] (d_in mismatch: wrong hook or wrong model?)`, {
      hook: ctx.name,
      dIn: D,
    });
  }
  if (original.shape[original.ndim - 1] !== O) {
    throw new InputError(`${sae.cfg.architecture} dictionary writes width ${O}, but hook ${ctx.name} holds [${original.shape.join(', ')}]`, { hook: ctx.name, dOut: O });
  }
  const rows = x.size / D;
  const skipped = skippedRows(ctx, x, opts);
  const dense = opts.onLatents !== undefined || x.requiresGrad || (T.isGradEnabled() && original.requiresGrad);
  let recon: Tensor;
  let latents: Tensor | null = null;
  let sparse: SparseLatents | null = null;
  let spliced: Tensor;
  if (dense) {
    latents = sae.encode(x);
    const clean = latents;
    const edited = opts.onLatents?.(latents, ctx) ?? latents;
    recon = sae.decode(edited);
    if (sae.params.W_skip_DO) recon = T.add(recon, sae.skipTerm(x));
    if (opts.withError) {
      // error = original - x_hat(unedited latents), as a constant: edits change the output, nothing else.
      let cleanRecon = edited === clean ? recon : sae.decode(clean);
      if (edited !== clean && sae.params.W_skip_DO) cleanRecon = T.add(cleanRecon, sae.skipTerm(x));
      spliced = T.add(recon, T.sub(original, cleanRecon).detach());
    } else {
      spliced = recon;
    }
    spliced = T.reshape(spliced, original.shape);
    recon = T.reshape(recon, original.shape);
  } else {
    const r = reconstructRows(sae, x.data, rows);
    sparse = r.sparse;
    recon = new Tensor(r.recon, original.shape);
    spliced = opts.withError ? original : recon;
  }
  opts.onSplice?.({ name: ctx.name, input: x, original, reconstruction: recon, latents, sparse, skipped, ctx });
  return keepRows(spliced, original, skipped);
}

/** Reconstruction (prediction, with skip) of rows x [rows, d_in] without the tape, via the sparse path. */
export function reconstructRows(sae: Sae, x: Float32Array, rows: number): { recon: Float32Array; sparse: SparseLatents } {
  const sparse = sae.encodeSparse(x, rows);
  const O = sae.dOut;
  const recon = new Float32Array(rows * O);
  sparseDecode(sparse, sae.params.W_dec_FO.data, sae.params.b_dec_O.data, recon, O);
  const norm = sae.cfg.normalizeActivations === 'expected_average_only_in';
  if (norm) for (let i = 0; i < recon.length; i++) recon[i] = recon[i]! / sae.cfg.scalingFactorOut;
  if (sae.params.W_skip_DO) {
    const skip = new Float32Array(rows * O);
    gemm(x, sae.params.W_skip_DO.data, skip, rows, sae.dIn, O);
    const c = norm ? sae.cfg.scalingFactor / sae.cfg.scalingFactorOut : 1;
    for (let i = 0; i < recon.length; i++) recon[i] = recon[i]! + c * skip[i]!;
  }
  return { recon, sparse };
}

/** 1 for rows (batch * pos) the splice leaves alone: BOS tokens and padding. */
function skippedRows(ctx: HookContext, x: Tensor, opts: Pick<SpliceOptions, 'skipBos' | 'bosId'>): Uint8Array {
  const { batch } = ctx;
  const T_ = x.shape[1]!;
  const rows = x.shape[0]! * T_;
  const out = new Uint8Array(rows);
  const bos = opts.skipBos === false ? null : opts.bosId === undefined ? 1 : opts.bosId;
  // x is [batch, pos, ...] over the run's own tokens (with a KV cache, only the new ones).
  if (x.shape[0] !== batch.batch || T_ !== batch.maxLen) return out;
  for (let b = 0; b < batch.batch; b++)
    for (let t = 0; t < T_; t++) {
      const id = batch.ids[b * T_ + t]!;
      if ((bos !== null && id === bos) || t >= batch.lengths[b]!) out[b * T_ + t] = 1;
    }
  return out;
}

/** spliced, with the skipped rows taken from original (differentiable in both). */
function keepRows(spliced: Tensor, original: Tensor, skipped: Uint8Array): Tensor {
  let any = false;
  for (const s of skipped) if (s) any = true;
  if (!any) return spliced;
  const w = spliced.size / skipped.length;
  const keep = new Float32Array(spliced.size);
  for (let r = 0; r < skipped.length; r++) if (!skipped[r]) keep.fill(1, r * w, (r + 1) * w);
  const mask = new Tensor(keep, spliced.shape);
  const inv = new Tensor(keep.map((v) => 1 - v), spliced.shape);
  if (!spliced.requiresGrad && !original.requiresGrad) {
    const out = spliced.data.slice();
    for (let i = 0; i < out.length; i++) if (!keep[i]) out[i] = original.data[i]!;
    return new Tensor(out, spliced.shape);
  }
  return T.add(T.mul(spliced, mask), T.mul(original, inv));
}
