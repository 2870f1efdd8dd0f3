// Gated SAE (Rajamanoharan et al. 2024, "Improving Dictionary Learning with Gated Sparse Autoencoders";
// SAELens' "gated"): whether a latent fires and how strongly are decided by two paths sharing one matrix.
//   pi_gate = W_enc xin + b_gate                 (xin = x - b_dec; b_gate lives in b_enc_F)
//   pi_mag  = exp(r_mag) * (W_enc xin) + b_mag   (W_mag = W_enc scaled per latent: weight sharing)
//   latent  = [pi_gate > 0] * relu(pi_mag)
// The gate's step passes no gradient, so the gate learns from two terms of its own:
//   loss = ||x - x_hat||^2 + lambda sum_f relu(pi_gate_f) ||W_dec[f]|| + ||x - (relu(pi_gate) W_dec' + b_dec')||^2
// (sums over features, means over tokens), where W_dec', b_dec' are the decoder held constant (stop-
// gradient): the auxiliary reconstruction tells the gate which latents to open without pulling the
// decoder towards the gate's shrunk values. The L1 acts on the gate only, so magnitudes are not shrunk,
// which is the point of the architecture.
// Decoder rows are kept at unit norm, as in the paper, so the norm weighting is 1 in training (the step
// still differentiates it, for dictionaries whose rows are not unit). Left free, rows collapse: the
// magnitude path makes up any shrinking of a row, so the penalty rewards shrinking it, and the frozen
// auxiliary term cannot push back (stories260K, 1M tokens: median row norm 0.000, L0 335 of 1024).
// (One of the paper's authors has noted, on LessWrong, that a norm-weighted penalty needs the decoder
// frozen in both terms or in neither; SAELens' current gated_sae.py weights by norms and leaves the
// auxiliary decoder unfrozen instead.)
import * as T from '../../tensor/index.js';
import { Tensor } from '../../tensor/index.js';
import type { SaeConfig } from '../config.js';
import { addRowVector, rowNorms, sharedFloat32, thresholdSparse } from '../kernels.js';
import type { Sae } from '../sae.js';
import { gemm, warmedCoefficient, type RuleOptions, type StepContext, type TrainingRule } from '../train-step.js';
import { checkHooks, registerArchitecture } from './registry.js';

/**
 * Latents from gate pre-activations pre_NF (b_gate included) into out_NF:
 * [pre > 0] * relu(scale_F * (pre - b_gate) + b_mag), scale_F = exp(r_mag).
 */
export function gatedLatents(pre: Float32Array, n: number, F: number, bGate: Float32Array, scale: Float32Array, bMag: Float32Array, out: Float32Array): Float32Array {
  for (let r = 0; r < n; r++)
    for (let f = 0, i = r * F; f < F; f++, i++) {
      const g = pre[i]!;
      const m = g > 0 ? scale[f]! * (g - bGate[f]!) + bMag[f]! : 0;
      out[i] = m > 0 ? m : 0;
    }
  return out;
}

/** The tape version: differentiable in pre (the gate's step is a constant mask). */
export function gatedActivate(pre: Tensor, sae: Sae): Tensor {
  const p = sae.params;
  const open = new Float32Array(pre.size);
  for (let i = 0; i < open.length; i++) open[i] = pre.data[i]! > 0 ? 1 : 0;
  const scale = new Tensor(p.r_mag_F!.data.map(Math.exp), [sae.dSae]);
  const mag = T.add(T.mul(T.sub(pre, p.b_enc_F), scale), p.b_mag_F!);
  return T.mul(T.relu(mag), new Tensor(open, pre.shape));
}

class GatedRule implements TrainingRule {
  readonly latents = 'dense' as const;
  readonly extraParams: { name: string; tensor: Tensor; grad: Float32Array }[];
  private readonly scale_F: Float32Array;
  private readonly dRMag_F: Float32Array;
  private readonly dBMag_F: Float32Array;
  /** sum over the batch of d loss / d pi_gate: b_gate's whole gradient. */
  private readonly dGateSum_F: Float32Array;

  constructor(
    private readonly sae: Sae,
    private readonly opts: RuleOptions,
  ) {
    const F = sae.dSae;
    this.scale_F = new Float32Array(F);
    this.dRMag_F = sharedFloat32(F);
    this.dBMag_F = sharedFloat32(F);
    this.dGateSum_F = new Float32Array(F);
    this.extraParams = [
      { name: 'r_mag', tensor: sae.params.r_mag_F!, grad: this.dRMag_F },
      { name: 'b_mag', tensor: sae.params.b_mag_F!, grad: this.dBMag_F },
    ];
  }

  encode(ctx: StepContext): void {
    const { B, F } = ctx;
    const p = this.sae.params;
    const r = p.r_mag_F!.data;
    for (let f = 0; f < F; f++) this.scale_F[f] = Math.exp(r[f]!);
    const pre = ctx.densePre(); // pi_gate
    ctx.acts_BF = gatedLatents(pre, B, F, p.b_enc_F.data, this.scale_F, p.b_mag_F!.data, ctx.buffer('acts_BF', B * F));
    this.dRMag_F.fill(0);
    this.dBMag_F.fill(0);
  }

  /** The gate's two terms: d loss / d pi_gate goes to dGate_BF (W_dec gets only the L1's share). */
  auxiliaryLoss(ctx: StepContext): void {
    const { B, F, O } = ctx;
    const p = this.sae.params;
    const W = p.W_dec_FO.data;
    const pre = ctx.pre_BF!;
    const gate = ctx.buffer('gateActs_BF', B * F); // relu(pi_gate)
    for (let i = 0; i < gate.length; i++) gate[i] = pre[i]! > 0 ? pre[i]! : 0;

    // Auxiliary reconstruction through the frozen decoder: its gradient reaches relu(pi_gate) only.
    const aux = ctx.buffer('auxRecon_BO', B * O);
    gemm(gate, W, aux, B, F, O);
    addRowVector(aux, p.b_dec_O.data, B, O);
    const y = ctx.y_BO;
    let se = 0;
    for (let i = 0; i < aux.length; i++) {
      const e = aux[i]! - y[i]!;
      se += e * e;
      aux[i] = (2 / B) * e; // reused as d aux / d auxRecon
    }
    ctx.losses.aux = se / B;
    const dGate = ctx.buffer('dGate_BF', B * F);
    gemm(aux, W, dGate, B, O, F, false, true);

    // L1 of relu(pi_gate), weighted by decoder norms.
    const lambda = warmedCoefficient(this.opts.l1Coefficient, ctx.step, this.opts.sparsityWarmupSteps);
    const norms = rowNorms(W, F, O, ctx.buffer('decNorm_F', F));
    const gateSum = ctx.buffer('gateSum_F', F).fill(0);
    let l1 = 0;
    for (let b = 0; b < B; b++)
      for (let f = 0, i = b * F; f < F; f++, i++) {
        const a = gate[i]!;
        if (a === 0) {
          dGate[i] = 0; // relu backward
          continue;
        }
        dGate[i] = dGate[i]! + (lambda / B) * norms[f]!;
        l1 += a * norms[f]!;
        gateSum[f] = gateSum[f]! + a;
      }
    ctx.losses.l1 = (lambda * l1) / B;
    if (lambda === 0) return;
    // d/dW[f] of lambda/B sum_b a_bf ||W[f]|| = lambda/B (sum_b a_bf) W[f] / ||W[f]||.
    const dW = ctx.grads.W_dec_FO;
    for (let f = 0; f < F; f++) {
      if (gateSum[f] === 0 || norms[f] === 0) continue;
      const c = ((lambda / B) * gateSum[f]!) / norms[f]!;
      for (let j = 0, o = f * O; j < O; j++) dW[o + j] = dW[o + j]! + c * W[o + j]!;
    }
  }

  /**
   * d loss / d latent -> d loss / d (W_enc xin), the one product both paths read: the gate's gradient
   * plus the magnitude path's, exp(r_mag) * d latent where the latent is on. r_mag and b_mag take theirs
   * here: d pi_mag / d r_mag = exp(r_mag) W_enc xin = latent - b_mag where on.
   */
  activationBackward(ctx: StepContext): void {
    const { B, F } = ctx;
    const d = ctx.dActs_BF!;
    const acts = ctx.acts_BF!;
    const dGate = ctx.buffer('dGate_BF', B * F);
    const bMag = this.sae.params.b_mag_F!.data;
    const scale = this.scale_F;
    const dR = this.dRMag_F;
    const dBm = this.dBMag_F;
    const dGateSum = this.dGateSum_F.fill(0);
    for (let b = 0; b < B; b++)
      for (let f = 0, i = b * F; f < F; f++, i++) {
        const g = dGate[i]!;
        dGateSum[f] = dGateSum[f]! + g;
        const a = acts[i]!;
        if (a > 0) {
          const dm = d[i]!;
          dBm[f] = dBm[f]! + dm;
          dR[f] = dR[f]! + dm * (a - bMag[f]!);
          d[i] = g + dm * scale[f]!;
        } else d[i] = g;
      }
  }

  /**
   * The shared step gave b_enc the batch sum of d pre over both paths (what b_dec's input path needs);
   * b_gate feeds the gate alone.
   */
  afterBackward(ctx: StepContext): void {
    ctx.grads.b_enc_F.set(this.dGateSum_F);
  }
}

registerArchitecture({
  name: 'gated',
  summary: 'Gated SAE: a gate picks the latents, a weight-shared magnitude path sizes them; L1 on the gate only',
  transcoder: false,
  hasThreshold: false,
  gated: true,
  usesK: false,
  penalty: 'l1',
  decoderNorm: 'unit',
  check(cfg: SaeConfig, where: string): void {
    checkHooks(cfg, false, where);
  },
  activate: (pre: Tensor, sae: Sae) => gatedActivate(pre, sae),
  activateSparse(pre_NF: Float32Array, n: number, sae: Sae) {
    const p = sae.params;
    const F = sae.dSae;
    const acts = gatedLatents(pre_NF, n, F, p.b_enc_F.data, p.r_mag_F!.data.map(Math.exp), p.b_mag_F!.data, new Float32Array(n * F));
    return thresholdSparse(acts, n, F, null);
  },
  trainingRule: (sae: Sae, opts: RuleOptions) => new GatedRule(sae, opts),
});
