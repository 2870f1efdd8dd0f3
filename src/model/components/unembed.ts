// Logits from the final residual stream (after ln_final): [batch, pos, d_vocab], hook "unembed".
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { TokenBatch } from '../batch.js';
import type { HookRunner } from '../hooks.js';
import { linear } from './linear.js';

/**
 * lastOnly: only each sequence's last real position ([batch, 1, d_vocab]); generation needs no more,
 * and the vocabulary projection is the largest matmul of a small model.
 */
export function unembed(x_BTD: Tensor, W_U: Tensor, batch: TokenBatch, runner: HookRunner, lastOnly: boolean): Tensor {
  let x = x_BTD;
  if (lastOnly) {
    const [B, Tlen, D] = x.shape as [number, number, number];
    const rows = new Int32Array(B);
    for (let b = 0; b < B; b++) rows[b] = b * Tlen + batch.lengths[b]! - 1;
    x = T.reshape(T.indexSelect(T.reshape(x, [B * Tlen, D]), 0, rows), [B, 1, D]);
  }
  return runner.point('unembed', linear(x, W_U), null);
}
