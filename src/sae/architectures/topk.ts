// TopK SAE (Gao et al. 2024, "Scaling and evaluating sparse autoencoders"): keep the k largest
// pre-activations of each token (relu'd), zero the rest. No sparsity penalty: k fixes L0. Dead latents get
// a gradient signal from AuxK: the top k_aux dead latents of each token try to reconstruct what the live
// latents missed (coefficient 1/32, k_aux = d_in/2, scaled down while few latents are dead, as in SAELens).
//
// Training exploits sparsity: the encoder GEMM runs in row chunks, each chunk is reduced to its top k at
// once, and decode and backward touch only those k latents per token.
import * as T from '../../tensor/index.js';
import { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { sparseDecode, sparseDecodeBackward, topkRows, topkSparse, type SparseLatents } from '../kernels.js';
import type { Sae } from '../sae.js';
import { kernelPool } from '../parallel.js';
import { chunkRows, gemm, type RuleOptions, type StepContext, type TrainingRule } from '../train-step.js';
import { checkHooks, checkK, registerArchitecture, type Architecture } from './registry.js';

/** relu(top-k of each row), scattered back to [..., d_sae]. Differentiable in pre. */
export function topkActivate(pre: Tensor, k: number): Tensor {
  const { values, indices } = T.topk(pre, k);
  return T.scatterAdd(Tensor.zeros(pre.shape), -1, indices, T.relu(values));
}

/**
 * AuxK: given the dead latents' top pre-activations per token (aux), add
 *   coefficient * min(dead / k_aux, 1) * sum_b ||aux_b @ W_dec - (y_b - recon_b)||^2 / B
 * and its gradient (into W_dec rows of the dead latents and, through ctx.extra, into their encoder rows).
 * The residual is a constant here (detached), so the main reconstruction gets no gradient from it.
 */
export function addAuxKLoss(ctx: StepContext, aux: SparseLatents, kAuxFull: number, coefficient: number): void {
  const { B, O } = ctx;
  const W = ctx.sae.params.W_dec_FO.data;
  const auxRecon = ctx.buffer('auxRecon_BO', B * O);
  sparseDecode(aux, W, null, auxRecon, O);
  const scale = coefficient * Math.min(ctx.deadList.length / kAuxFull, 1);
  const err = ctx.err_BO; // recon - y, so the residual y - recon is -err
  let se = 0;
  for (let i = 0; i < auxRecon.length; i++) {
    const e = auxRecon[i]! + err[i]!;
    se += e * e;
    auxRecon[i] = ((2 * scale) / B) * e; // reuse as d loss / d auxRecon
  }
  ctx.losses.auxk = (scale * se) / B;
  const nnz = aux.rowPtr[aux.rows]!;
  const dPre = ctx.buffer('auxDPre', nnz);
  sparseDecodeBackward(aux, W, auxRecon, dPre, ctx.grads.W_dec_FO, O);
  for (let e = 0; e < nnz; e++) if (!(aux.val[e]! > 0)) dPre[e] = 0; // relu
  ctx.extra.push({ lat: aux, dPre });
}

/** Per-token top k_aux among the dead latents, from a [rows, F] block of pre-activations. */
export function selectAux(ctx: StepContext, pre: Float32Array, bias: Float32Array | null, rows: number, r0: number, aux: SparseLatents, kAux: number): void {
  topkRows(pre, bias, rows, ctx.F, kAux, aux.idx, aux.val, r0 * kAux, ctx.deadList);
}

class TopKRule implements TrainingRule {
  readonly latents = 'sparse' as const;
  readonly extraParams = [];
  private aux: SparseLatents | null = null;
  constructor(
    private readonly k: number,
    private readonly opts: RuleOptions,
  ) {}

  encode(ctx: StepContext): void {
    const { B, D, F } = ctx;
    const k = this.k;
    const p = ctx.sae.params;
    const lat = ctx.fixedSparse('topk', B, k);
    const kAux = Math.min(this.opts.kAux, ctx.deadList.length);
    this.aux = kAux > 0 ? ctx.fixedSparse('auxk', B, kAux) : null;
    const C = chunkRows(B, F);
    const pool = kernelPool();
    // The GEMM runs on ordinary memory (the native backend cannot read shared buffers); the top-k then
    // runs on a shared copy of each chunk so the kernel pool can split it.
    const W = ctx.mirror('W_enc_FD', p.W_enc_FD.data);
    const xin = ctx.mirror('xin_BD', ctx.xin_BD);
    const pre = ctx.plainBuffer('preChunk', C * F);
    const preShared = pool.threads > 1 ? ctx.buffer('preChunkShared', C * F) : null;
    for (let r0 = 0; r0 < B; r0 += C) {
      const rows = Math.min(C, B - r0);
      const chunk = rows === C ? pre : pre.subarray(0, rows * F);
      ctx.mark('');
      gemm(xin.subarray(r0 * D, (r0 + rows) * D), W, chunk, rows, D, F, false, true);
      ctx.mark('encoder GEMM');
      let sel = chunk;
      if (preShared) {
        sel = rows === C ? preShared : preShared.subarray(0, rows * F);
        sel.set(chunk);
      }
      pool.run({ kind: 'topk', pre: sel, bias: p.b_enc_F.data, F, k, idx: lat.idx, val: lat.val, at: r0 * k, candidates: null }, rows);
      if (this.aux) pool.run({ kind: 'topk', pre: sel, bias: p.b_enc_F.data, F, k: kAux, idx: this.aux.idx, val: this.aux.val, at: r0 * kAux, candidates: ctx.deadList }, rows);
      ctx.mark('top-k');
    }
    ctx.sparse = lat;
  }

  auxiliaryLoss(ctx: StepContext): void {
    if (this.aux) addAuxKLoss(ctx, this.aux, this.opts.kAux, this.opts.auxKCoefficient);
  }

  activationBackward(ctx: StepContext): void {
    selectedReluBackward(ctx);
  }
}

/** Backward of relu after selection (TopK, BatchTopK): entries whose value was clipped to 0 pass no gradient. */
export function selectedReluBackward(ctx: StepContext): void {
  const { val, rowPtr, rows } = ctx.sparse!;
  const d = ctx.dVal;
  for (let e = 0; e < rowPtr[rows]!; e++) if (!(val[e]! > 0)) d[e] = 0;
}

export function topkFamily(name: string, transcoder: boolean, summary: string): Architecture {
  return {
    name,
    summary,
    transcoder,
    hasThreshold: false,
    usesK: true,
    penalty: null,
    decoderNorm: 'unit',
    check(cfg: SaeConfig, where: string): void {
      checkK(cfg, where);
      checkHooks(cfg, transcoder, where);
    },
    activate: (pre: Tensor, sae: Sae) => topkActivate(pre, sae.cfg.k!),
    activateSparse: (pre_NF: Float32Array, n: number, sae: Sae) => topkSparse(pre_NF, null, n, sae.cfg.dSae, sae.cfg.k!),
    trainingRule: (sae: Sae, opts: RuleOptions) => new TopKRule(sae.cfg.k!, opts),
  };
}

registerArchitecture(topkFamily('topk', false, 'TopK SAE: the k largest latents per token (AuxK for dead latents)'));
