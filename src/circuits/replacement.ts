// The local replacement model of one prompt. One clean run records what the frozen model needs (attention
// patterns, norm denominators) and what the nodes are (transcoder inputs and latents, MLP outputs, error
// vectors, token embeddings); a second, "bias-only" run of the same frozen model with every node zeroed
// (embeddings 0, each MLP output replaced by the transcoders' output bias and skip term) gives the part of
// every pre-activation and logit that no node accounts for: the constant term.
//
// With patterns and norm denominators frozen, every transcoder pre-activation and every logit is an
// affine function of the nodes: token embeddings, feature activations (times decoder rows) and error
// vectors (MLP output minus the transcoders' reconstruction). So
//   pre_t = b_enc[t] + constant_t + sum over sources s of edge(s -> t)
// holds exactly (to float32 rounding); docs/circuits.md states it per node kind.
import { InputError } from '../errors.js';
import type { ForwardHook, Transformer } from '../model/index.js';
import type { SparseLatents } from '../sae/kernels.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { outputHook, type TranscoderSet } from './transcoder-set.js';

export interface ReplacementState {
  model: Transformer;
  set: TranscoderSet;
  ids: number[];
  /** Prompt length. */
  T: number;
  /** Logits of the last position [V] (clean run). */
  logits: Float32Array;
  /** Per layer: attention pattern [H, T, T] (query-major). */
  patterns: Float32Array[];
  /** Per layer: ln1 / ln2 denominators [T]; the final norm's [T]. ln2 is null when the transcoders read hook_resid_mid. */
  ln1Scale: Float32Array[];
  ln2Scale: (Float32Array | null)[];
  lnfScale: Float32Array;
  /** Per layer: what the transcoders read [T, D] (clean run). */
  inputs: Float32Array[];
  /** Per layer: the model's MLP output [T, D]. */
  mlpOut: Float32Array[];
  /** The residual stream entering block 0 [T, D]: token (plus learned position) embeddings, the token nodes. */
  embed: Float32Array;
  /** Per source layer: active latents per position (rows = T), ascending latent index within a row. */
  latents: SparseLatents[];
  /** Per layer: pre-activations of the active latents, aligned with latents[L].val. */
  preActs: Float32Array[];
  /** Per layer: error vectors [T, D] = mlpOut - reconstruction. */
  errors: Float32Array[];
  /** Per layer: the transcoder input in the bias-only run [T, D] (constant part of every encoder input). */
  constInputs: Float32Array[];
  /** The bias-only run's logits at the last position [V]. */
  constLogits: Float32Array;
}

const site = (name: string, l: number): string => `blocks.${l}.${name}`;

/** Run the clean and bias-only passes for `ids` and collect everything attribution needs. */
export function prepareReplacement(model: Transformer, set: TranscoderSet, ids: readonly number[]): ReplacementState {
  set.checkFits(model);
  const c = model.config;
  if (ids.length === 0) throw new InputError('the prompt has no tokens');
  if (ids.length > c.nCtx) throw new InputError(`the prompt is ${ids.length} tokens, longer than the model's context of ${c.nCtx}`, { tokens: ids.length, nCtx: c.nCtx });
  const N = c.nLayers;
  const Tn = ids.length;
  const D = c.dModel;
  const normalized = set.site === 'ln2.hook_normalized';
  const names: string[] = ['blocks.0.hook_resid_pre', 'ln_final.hook_scale'];
  for (let l = 0; l < N; l++) {
    names.push(site('attn.hook_pattern', l), site('ln1.hook_scale', l), set.inputHook(l), outputHook(l));
    if (normalized) names.push(site('ln2.hook_scale', l));
  }
  const clean = T.noGrad(() => model.run([ids.slice()], { cache: names }));
  const get = (n: string): Float32Array => clean.cache.get(n).data;
  const V = c.vocabSize;
  const logits = clean.logits!.data.slice((Tn - 1) * V, Tn * V);
  const patterns: Float32Array[] = [];
  const ln1Scale: Float32Array[] = [];
  const ln2Scale: (Float32Array | null)[] = [];
  const inputs: Float32Array[] = [];
  const mlpOut: Float32Array[] = [];
  for (let l = 0; l < N; l++) {
    patterns.push(get(site('attn.hook_pattern', l)));
    ln1Scale.push(get(site('ln1.hook_scale', l)));
    ln2Scale.push(normalized ? get(site('ln2.hook_scale', l)) : null);
    inputs.push(get(set.inputHook(l)));
    mlpOut.push(get(outputHook(l)));
  }
  const lnfScale = get('ln_final.hook_scale');
  const embed = get('blocks.0.hook_resid_pre');

  // Nodes: latents per layer, then error = MLP output minus the transcoders' reconstruction.
  const latents = set.layers.map((s) => sortRows(s.encode(inputs[s.layer]!, Tn)));
  const preActs = set.layers.map((s, L) => preActivations(latents[L]!, inputs[L]!, s.W_enc_FD, s.b_enc_F, D));
  const errors = mlpOut.map((y, l) => {
    const recon = set.reconstruct(l, latents, inputs[l]!, Tn);
    const e = new Float32Array(Tn * D);
    for (let i = 0; i < e.length; i++) e[i] = y[i]! - recon[i]!;
    return e;
  });

  const { constInputs, constLogits } = biasOnlyRun(model, set, ids, { patterns, ln1Scale, ln2Scale, lnfScale });
  return { model, set, ids: ids.slice(), T: Tn, logits, patterns, ln1Scale, ln2Scale, lnfScale, inputs, mlpOut, embed, latents, preActs, errors, constInputs, constLogits };
}

export interface FrozenSites {
  patterns: Float32Array[];
  ln1Scale: Float32Array[];
  ln2Scale: (Float32Array | null)[];
  lnfScale: Float32Array;
}

/** Forward hooks that replace every attention pattern and norm denominator by the recorded ones. */
export function freezeHooks(model: Transformer, f: FrozenSites, Tn: number, opts: { patterns?: boolean; scales?: boolean } = {}): ForwardHook[] {
  const c = model.config;
  const hooks: ForwardHook[] = [];
  const scale = (data: Float32Array): ((x: Tensor) => Tensor) => (x) => checkedConstant(x, data, [1, Tn, 1]);
  for (let l = 0; l < c.nLayers; l++) {
    if (opts.patterns ?? true) hooks.push({ name: site('attn.hook_pattern', l), fn: (x) => checkedConstant(x, f.patterns[l]!, [1, c.nHeads, Tn, Tn]) });
    if (opts.scales ?? true) {
      hooks.push({ name: site('ln1.hook_scale', l), fn: scale(f.ln1Scale[l]!) });
      const s2 = f.ln2Scale[l];
      if (s2) hooks.push({ name: site('ln2.hook_scale', l), fn: scale(s2) });
    }
  }
  if (opts.scales ?? true) hooks.push({ name: 'ln_final.hook_scale', fn: scale(f.lnfScale) });
  return hooks;
}

function checkedConstant(x: Tensor, data: Float32Array, shape: number[]): Tensor {
  if (x.size !== data.length) throw new InputError(`frozen value of ${data.length} entries does not fit an activation of shape [${x.shape.join(', ')}] (a different prompt length?)`);
  return new Tensor(data, shape);
}

/**
 * The frozen model with every node zeroed: embeddings 0, each MLP output replaced by the transcoders'
 * output bias plus the skip term of that run's input. What reaches each encoder input and the logits is
 * the constant term of every node.
 */
function biasOnlyRun(model: Transformer, set: TranscoderSet, ids: readonly number[], f: FrozenSites): { constInputs: Float32Array[]; constLogits: Float32Array } {
  const c = model.config;
  const Tn = ids.length;
  const D = c.dModel;
  const hooks: ForwardHook[] = [...freezeHooks(model, f, Tn)];
  hooks.push({ name: 'hook_embed', fn: (x) => Tensor.zeros(x.shape) });
  if (c.positional === 'learned') hooks.push({ name: 'hook_pos_embed', fn: (x) => Tensor.zeros(x.shape) });
  const constInputs: Float32Array[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    hooks.push({ name: set.inputHook(l), fn: (x) => void (constInputs[l] = x.data.slice()) });
    hooks.push({
      name: outputHook(l),
      fn: () => {
        const out = new Float32Array(Tn * D);
        for (let t = 0; t < Tn; t++) out.set(set.outputBias[l]!, t * D);
        const S = set.skip[l];
        if (S) {
          const skip = T.matmul(new Tensor(constInputs[l]!, [Tn, D]), new Tensor(S, [D, D]));
          for (let i = 0; i < out.length; i++) out[i] += skip.data[i]!;
        }
        return new Tensor(out, [1, Tn, D]);
      },
    });
  }
  const r = T.noGrad(() => model.run([ids.slice()], { hooks }));
  const V = c.vocabSize;
  return { constInputs, constLogits: r.logits!.data.slice((Tn - 1) * V, Tn * V) };
}

/** Rows with ascending latent indices (TopK encoders list them by decreasing value). */
export function sortRows(lat: SparseLatents): SparseLatents {
  const idx = new Int32Array(lat.idx.length);
  const val = new Float32Array(lat.val.length);
  for (let r = 0; r < lat.rows; r++) {
    const a = lat.rowPtr[r]!;
    const b = lat.rowPtr[r + 1]!;
    const order = Array.from({ length: b - a }, (_, i) => a + i).sort((x, y) => lat.idx[x]! - lat.idx[y]!);
    order.forEach((e, i) => {
      idx[a + i] = lat.idx[e]!;
      val[a + i] = lat.val[e]!;
    });
  }
  return { rows: lat.rows, rowPtr: lat.rowPtr.slice(), idx, val };
}

/** W_enc[f] . x_row + b_enc[f] for every active entry, in float64. */
export function preActivations(lat: SparseLatents, x_TD: Float32Array, W_enc_FD: Float32Array, b_enc_F: Float32Array, D: number): Float32Array {
  const out = new Float32Array(lat.idx.length);
  for (let r = 0; r < lat.rows; r++) {
    for (let e = lat.rowPtr[r]!; e < lat.rowPtr[r + 1]!; e++) {
      const f = lat.idx[e]!;
      let s = 0;
      for (let j = 0; j < D; j++) s += W_enc_FD[f * D + j]! * x_TD[r * D + j]!;
      out[e] = s + b_enc_F[f]!;
    }
  }
  return out;
}
