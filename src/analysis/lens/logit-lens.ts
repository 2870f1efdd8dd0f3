// Logit lens: decode the residual stream after every block as if it were the last, by applying
// ln_final and the unembedding to it. 'recompute' normalises each layer's residual afresh (the classic
// logit lens); 'final_scale' divides by the final residual's cached norm scale (TransformerLens'
// apply_ln_to_stack), which keeps the map linear so layers' contributions add up.
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { TokenInput, Transformer } from '../../model/index.js';
import { accumulatedNames, accumulatedResidual, positionOf, type PositionPick } from './residual.js';

export interface LogitLensOptions {
  /** Include resid_mid of each block (sequential blocks only). */
  inclMid?: boolean;
  /** How ln_final is applied to intermediate residuals (default 'recompute'). */
  ln?: 'recompute' | 'final_scale';
  /** Which position of each sequence (default: its last token). */
  position?: PositionPick;
}

export interface LogitLensResult {
  /** "0_pre", "1_pre", ..., "final_post". */
  labels: string[];
  /** [components, batch, d_vocab] at the chosen position of each sequence. */
  logits: Tensor;
  /** Final logits' position per sequence. */
  positions: number[];
}

/** Apply ln_final to a stack [..., d_model] of residuals; scale [..., 1] when frozen. */
export function applyLnFinal(model: Transformer, resid: Tensor, frozenScale: Tensor | null): Tensor {
  const c = model.config;
  const ln = model.params.lnFinal;
  if (!frozenScale) return c.norm === 'rms' ? T.rmsNorm(resid, ln.w, c.normEps) : T.layerNorm(resid, ln.w, ln.b ?? null, c.normEps);
  const centred = c.norm === 'layer' ? T.sub(resid, T.mean(resid, -1, true)) : resid;
  const y = T.mul(T.div(centred, frozenScale), ln.w);
  return ln.b ? T.add(y, ln.b) : y;
}

export function logitLens(model: Transformer, input: TokenInput, opts: LogitLensOptions = {}): LogitLensResult {
  const { names } = accumulatedNames(model, opts.inclMid);
  const run = model.run(input, { cache: [...names, 'ln_final.hook_scale'], withGrad: false });
  const { labels, resid } = accumulatedResidual(model, run.cache, opts.inclMid);
  const [K, B, Tn, D] = resid.shape as [number, number, number, number];
  const positions = Array.from({ length: B }, (_, b) => positionOf(run.cache, b, opts.position ?? 'last'));
  // Gather the chosen position of each sequence: [K, B, D].
  const picked = new Float32Array(K * B * D);
  const scale = new Float32Array(K * B);
  const finalScale = run.cache.get('ln_final.hook_scale').data;
  for (let k = 0; k < K; k++)
    for (let b = 0; b < B; b++) {
      const t = positions[b]!;
      picked.set(resid.data.subarray(((k * B + b) * Tn + t) * D, ((k * B + b) * Tn + t + 1) * D), (k * B + b) * D);
      scale[k * B + b] = finalScale[b * Tn + t]!;
    }
  const stack = new T.Tensor(picked, [K, B, D]);
  const frozen = opts.ln === 'final_scale' ? new T.Tensor(scale, [K, B, 1]) : null;
  const logits = T.noGrad(() => T.matmul(T.reshape(applyLnFinal(model, stack, frozen), [K * B, D]), model.params.W_U, { transB: true }));
  return { labels, logits: T.reshape(logits, [K, B, model.config.vocabSize]), positions };
}
