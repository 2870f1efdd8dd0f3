// The MLP: plain (act(x W_in + b_in) W_out + b_out) or gated (SwiGLU: (act(x W_gate) * x W_in) W_out).
// Hooks as TransformerLens: hook_pre (the activation's input), hook_pre_linear (gated: the linear side),
// hook_post (after the activation / gating), all [batch, pos, d_mlp].
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import type { ActivationKind } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { MlpParams } from '../params.js';
import { linear } from './linear.js';

export function activation(x: Tensor, kind: ActivationKind): Tensor {
  switch (kind) {
    case 'silu':
      return T.silu(x);
    case 'gelu_tanh':
      return T.gelu(x, 'tanh');
    case 'gelu_erf':
      return T.gelu(x, 'erf');
    case 'relu':
      return T.relu(x);
  }
}

/** x [batch, pos, d_model] (already normalised) -> mlp_out [batch, pos, d_model]. */
export function mlp(x_BTD: Tensor, p: MlpParams, act: ActivationKind, runner: HookRunner, layer: number): Tensor {
  const pre = `blocks.${layer}.mlp`;
  let post_BTF: Tensor;
  if (p.W_gate) {
    const gate_BTF = runner.point(`${pre}.hook_pre`, linear(x_BTD, p.W_gate), layer);
    const lin_BTF = runner.point(`${pre}.hook_pre_linear`, linear(x_BTD, p.W_in, p.b_in), layer);
    post_BTF = T.mul(activation(gate_BTF, act), lin_BTF);
  } else {
    const pre_BTF = runner.point(`${pre}.hook_pre`, linear(x_BTD, p.W_in, p.b_in), layer);
    post_BTF = activation(pre_BTF, act);
  }
  post_BTF = runner.point(`${pre}.hook_post`, post_BTF, layer);
  return linear(post_BTF, p.W_out, p.b_out);
}
