// The MLP: plain (act(x W_in + b_in) W_out + b_out) or gated (SwiGLU: (act(x W_gate) * x W_in) W_out).
// Hooks as TransformerLens: hook_pre (the activation's input), hook_pre_linear (gated: the linear side),
// hook_post (after the activation / gating), all [batch, pos, d_mlp].
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { expFast, normalCdf } from '../../tensor/ops/fastmath.js';
import type { ActivationKind } from '../config.js';
import type { HookRunner } from '../hooks.js';
import type { MlpParams } from '../params.js';
import { fusedLinear, linear } from './linear.js';

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

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The activation as a scalar function, same formulas as the tensor ops (for the in-place path). */
function scalarActivation(kind: ActivationKind): (v: number) => number {
  switch (kind) {
    case 'silu':
      return (v) => v / (1 + expFast(-v));
    case 'gelu_tanh':
      return (v) => v / (1 + expFast(-2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
    case 'gelu_erf':
      return (v) => v * normalCdf(v);
    case 'relu':
      return (v) => (v > 0 ? v : 0);
  }
}

/** x [batch, pos, d_model] (already normalised) -> mlp_out [batch, pos, d_model]. */
export function mlp(x_BTD: Tensor, p: MlpParams, act: ActivationKind, runner: HookRunner, layer: number): Tensor {
  const pre = `blocks.${layer}.mlp`;
  const preName = `${pre}.hook_pre`;
  const linName = `${pre}.hook_pre_linear`;
  let post_BTF: Tensor | null = null;
  if (p.W_gate) {
    const gate_BTF = runner.point(preName, linear(x_BTD, p.W_gate), layer);
    const lin_BTF = runner.point(linName, linear(x_BTD, p.W_in, p.b_in), layer);
    post_BTF = inPlaceOk(gate_BTF, runner, preName) && !lin_BTF.requiresGrad ? gateInPlace(gate_BTF, lin_BTF, act) : T.mul(activation(gate_BTF, act), lin_BTF);
  } else {
    // Inference with nobody watching the pre-activation: GEMM, bias and GELU in one native call
    // (null where the backend declines or something needs a gradient).
    if (act === 'gelu_tanh' && !runner.wants(preName)) post_BTF = fusedLinear(x_BTD, p.W_in, p.b_in, 'gelu_tanh');
    if (!post_BTF) {
      const pre_BTF = runner.point(preName, linear(x_BTD, p.W_in, p.b_in), layer);
      post_BTF = inPlaceOk(pre_BTF, runner, preName) ? activateInPlace(pre_BTF, act) : activation(pre_BTF, act);
    }
  }
  post_BTF = runner.point(`${pre}.hook_post`, post_BTF, layer);
  return linear(post_BTF, p.W_out, p.b_out);
}

/**
 * Inference (no tape) with nobody holding the pre-activation (not cached or hooked, so it is the fresh
 * matmul output): the activation can overwrite it, saving a [rows, d_mlp] array per layer.
 */
function inPlaceOk(pre: Tensor, runner: HookRunner, name: string): boolean {
  return !pre.requiresGrad && !runner.wants(name);
}

function activateInPlace(x: Tensor, kind: ActivationKind): Tensor {
  const f = scalarActivation(kind);
  const d = x.data;
  for (let i = 0; i < d.length; i++) d[i] = f(d[i]!);
  return x;
}

/** act(gate) * lin, written into gate's storage. */
function gateInPlace(gate: Tensor, lin: Tensor, kind: ActivationKind): Tensor {
  const f = scalarActivation(kind);
  const g = gate.data;
  const l = lin.data;
  for (let i = 0; i < g.length; i++) g[i] = f(g[i]!) * l[i]!;
  return gate;
}
