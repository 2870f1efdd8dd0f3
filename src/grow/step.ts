// One optimisation step and the held-out loss: the two things the training loop and `bench train` share.
import { NonFiniteError } from '../errors.js';
import { TokenBatch, type Transformer } from '../model/index.js';
import { Adam, backward, clipGradNorm, crossEntropy, noGrad, type Tensor } from '../tensor/index.js';
import type { Batch } from './batches.js';
import type { TrainSpec } from './spec.js';

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

function asTokenBatch(b: Batch): TokenBatch {
  return new TokenBatch(b.inputs, new Int32Array(b.batch).fill(b.ctx), b.ctx);
}

/**
 * The trainable parameters (requiresGrad set) and an AdamW over them. Matrices and embeddings decay;
 * norm weights and biases (1-D) do not, as in GPT-2 / nanoGPT.
 */
export function makeOptimizer(model: Transformer, t: Pick<TrainSpec, 'lr' | 'beta1' | 'beta2' | 'weightDecay'>): { optimizer: Adam; names: string[]; params: Tensor[] } {
  const named = model.parameters();
  const params = named.map(([, p]) => p.requireGrad());
  const optimizer = new Adam(params, { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay });
  for (const p of params) if (p.ndim < 2) optimizer.noDecay.add(p);
  return { optimizer, names: named.map(([n]) => n), params };
}

/** Forward, backward, clip, AdamW update at learning rate `lr`. */
export function trainStep(model: Transformer, optimizer: Adam, batch: Batch, lr: number, gradClip: number): StepResult {
  optimizer.lr = lr;
  const logits = model.run(asTokenBatch(batch), { withGrad: true }).logits!;
  const lossT = crossEntropy(logits, batch.targets);
  const loss = lossT.item();
  if (!Number.isFinite(loss)) throw new NonFiniteError('training', `the loss became ${loss}`);
  // The per-op finiteness scan costs ~10% of a step; the global gradient norm below catches the same
  // NaN/infinity once, at the end.
  backward(lossT, undefined, { checkFinite: false });
  let gradNorm: number;
  if (gradClip > 0) {
    gradNorm = clipGradNorm(optimizer.params, gradClip);
  } else {
    let ss = 0;
    for (const p of optimizer.params) if (p.grad) for (const g of p.grad.data) ss += g * g;
    gradNorm = Math.sqrt(ss);
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError('training', 'the gradient norm is NaN or infinite');
  }
  optimizer.step();
  optimizer.zeroGrad();
  return { loss, gradNorm };
}

/** Mean next-token cross-entropy over the batches (no tape); NaN when there are none. */
export function meanLoss(model: Transformer, batches: readonly Batch[]): number {
  let total = 0;
  let count = 0;
  noGrad(() => {
    for (const b of batches) {
      const logits = model.run(asTokenBatch(b), { withGrad: false }).logits!;
      total += crossEntropy(logits, b.targets).item() * b.targets.length;
      count += b.targets.length;
    }
  });
  return count ? total / count : NaN;
}

/** Cross-entropy of every position, [batch, ctx] row-major (no tape). */
export function positionLosses(model: Transformer, batch: Batch): Float32Array {
  return noGrad(() => {
    const logits = model.run(asTokenBatch(batch), { withGrad: false }).logits!;
    return crossEntropy(logits, batch.targets, { reduction: 'none' }).data;
  });
}
