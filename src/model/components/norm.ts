// RMSNorm / LayerNorm with TransformerLens' hooks: hook_scale is the denominator [batch, pos, 1] and
// hook_normalized the normalised value before the affine weight. When neither hook is wanted the fused
// op runs (one pass forward, one backward); otherwise the composed form exposes both.
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { ModelConfig } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { NormParams } from '../params.js';

/** prefix: "blocks.3.ln1", "ln_final" ... */
export function applyNorm(x_BTD: Tensor, p: NormParams, c: ModelConfig, runner: HookRunner, prefix: string, layer: number | null): Tensor {
  const scaleName = `${prefix}.hook_scale`;
  const normName = `${prefix}.hook_normalized`;
  if (!runner.wants(scaleName) && !runner.wants(normName)) {
    return c.norm === 'rms' ? T.rmsNorm(x_BTD, p.w, c.normEps) : T.layerNorm(x_BTD, p.w, p.b ?? null, c.normEps);
  }
  const scale_BT1 = runner.point(scaleName, T.normScale(x_BTD, c.norm, c.normEps), layer);
  const centred = c.norm === 'layer' ? T.sub(x_BTD, T.mean(x_BTD, -1, true)) : x_BTD;
  const normalized = runner.point(normName, T.div(centred, scale_BT1), layer);
  const y = T.mul(normalized, p.w);
  return p.b ? T.add(y, p.b) : y;
}
