// Token embedding (hook_embed) plus learned positions (hook_pos_embed) where the model has them.
import { InputError } from '../../errors.js';
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { TokenBatch } from '../batch.js';
import type { ModelConfig } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { TransformerParams } from '../params.js';

/** The residual stream at the start of block 0, [batch, pos, d_model]. */
export function embed(p: TransformerParams, c: ModelConfig, batch: TokenBatch, runner: HookRunner, offset: number): Tensor {
  const { batch: B, maxLen: Tlen } = batch;
  const tok_BTD = runner.point('hook_embed', T.embedding(p.W_E, batch.ids, [B, Tlen]), null);
  if (!p.W_pos) return tok_BTD;
  if (offset + Tlen > c.nCtx) throw new InputError(`positions ${offset}..${offset + Tlen - 1} exceed the model's context of ${c.nCtx}`);
  // One position id per (batch, pos) so the lookup is already [batch, pos, d_model] (TransformerLens' shape).
  const posIds = new Int32Array(B * Tlen);
  for (let b = 0; b < B; b++) for (let t = 0; t < Tlen; t++) posIds[b * Tlen + t] = offset + t;
  const pos_BTD = runner.point('hook_pos_embed', T.embedding(p.W_pos, posIds, [B, Tlen]), null);
  return T.add(tok_BTD, pos_BTD);
}
