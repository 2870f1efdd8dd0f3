// Token embedding (hook_embed) plus learned positions (hook_pos_embed) where the model has them.
import { InputError } from '../../errors.js';
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { TokenBatch } from '../batch.js';
import type { ModelConfig } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { TransformerParams } from '../params.js';
import type { QueryOffset } from './attention-mask.js';

/**
 * The residual stream at the start of block 0, [batch, pos, d_model]. offset: absolute position of
 * each sequence's first token (one for all, or one per sequence when a KV cache's sequences differ).
 */
export function embed(p: TransformerParams, c: ModelConfig, batch: TokenBatch, runner: HookRunner, offset: QueryOffset): Tensor {
  const { batch: B, maxLen: Tlen } = batch;
  const tok_BTD = runner.point('hook_embed', T.embedding(p.W_E, batch.ids, [B, Tlen]), null);
  if (!p.W_pos) return tok_BTD;
  // One position id per (batch, pos) so the lookup is already [batch, pos, d_model] (TransformerLens' shape).
  const posIds = new Int32Array(B * Tlen);
  for (let b = 0; b < B; b++) {
    const off = typeof offset === 'number' ? offset : offset[b]!;
    const real = typeof offset === 'number' ? Tlen : batch.lengths[b]!;
    if (off + real > c.nCtx) throw new InputError(`positions ${off}..${off + real - 1} exceed the model's context of ${c.nCtx}`);
    // Padding past a sequence's end may run past the context: any valid row will do, its output is unused.
    for (let t = 0; t < Tlen; t++) posIds[b * Tlen + t] = Math.min(off + t, c.nCtx - 1);
  }
  const pos_BTD = runner.point('hook_pos_embed', T.embedding(p.W_pos, posIds, [B, Tlen]), null);
  return T.add(tok_BTD, pos_BTD);
}
