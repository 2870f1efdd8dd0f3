// The common parameter layout every loader fills. Linear weights stay [out, in] (the layout of llama2.c,
// HF Linear and safetensors checkpoints) and are applied with matmul(x, W, {transB: true}), so loading
// needs no transposes. Names follow TransformerLens (W_Q, b_in, ln1.w ...) but the shapes are [out, in]:
//   W_Q [nHeads*dHead, dModel]   W_K, W_V [nKvHeads*dHead, dModel]   W_O [dModel, nHeads*dHead]
//   W_in, W_gate [dMlp, dModel]  W_out [dModel, dMlp]   W_E [vocab, dModel]   W_pos [nCtx, dModel]
//   W_U [vocab, dModel] (the same Tensor as W_E when tied)
import { InputError, ShapeError, closestNames } from '../errors.js';
import { Rng, Tensor } from '../tensor/index.js';
import type { ModelConfig } from './config.js';

export interface NormParams {
  w: Tensor; // [dModel]
  b?: Tensor; // [dModel] (LayerNorm only)
}

export interface AttnParams {
  W_Q: Tensor;
  W_K: Tensor;
  W_V: Tensor;
  W_O: Tensor;
  b_Q?: Tensor;
  b_K?: Tensor;
  b_V?: Tensor;
  b_O?: Tensor;
}

export interface MlpParams {
  W_in: Tensor;
  /** Gated MLPs only: the side that goes through the activation. */
  W_gate?: Tensor;
  W_out: Tensor;
  b_in?: Tensor;
  b_out?: Tensor;
}

export interface BlockParams {
  ln1: NormParams;
  attn: AttnParams;
  /** Absent in attention-only models. */
  ln2?: NormParams;
  mlp?: MlpParams;
}

export interface TransformerParams {
  W_E: Tensor;
  W_pos?: Tensor;
  blocks: BlockParams[];
  lnFinal: NormParams;
  W_U: Tensor;
}

/** Expected shape of every parameter, by name, in the order parameters() lists them. */
export function parameterShapes(c: ModelConfig): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const D = c.dModel;
  const qDim = c.nHeads * c.dHead;
  const kvDim = c.nKvHeads * c.dHead;
  const norm = (prefix: string): void => {
    s.set(`${prefix}.w`, [D]);
    if (c.norm === 'layer') s.set(`${prefix}.b`, [D]);
  };
  s.set('embed.W_E', [c.vocabSize, D]);
  if (c.positional === 'learned') s.set('pos_embed.W_pos', [c.nCtx, D]);
  for (let i = 0; i < c.nLayers; i++) {
    const p = `blocks.${i}`;
    norm(`${p}.ln1`);
    s.set(`${p}.attn.W_Q`, [qDim, D]);
    s.set(`${p}.attn.W_K`, [kvDim, D]);
    s.set(`${p}.attn.W_V`, [kvDim, D]);
    s.set(`${p}.attn.W_O`, [D, qDim]);
    if (c.biases.qkv) {
      s.set(`${p}.attn.b_Q`, [qDim]);
      s.set(`${p}.attn.b_K`, [kvDim]);
      s.set(`${p}.attn.b_V`, [kvDim]);
    }
    if (c.biases.attnOut) s.set(`${p}.attn.b_O`, [D]);
    if (!c.attnOnly) {
      norm(`${p}.ln2`);
      s.set(`${p}.mlp.W_in`, [c.dMlp, D]);
      if (c.gatedMlp) s.set(`${p}.mlp.W_gate`, [c.dMlp, D]);
      s.set(`${p}.mlp.W_out`, [D, c.dMlp]);
      if (c.biases.mlp) {
        s.set(`${p}.mlp.b_in`, [c.dMlp]);
        s.set(`${p}.mlp.b_out`, [D]);
      }
    }
  }
  norm('ln_final');
  if (!c.tiedEmbeddings) s.set('unembed.W_U', [c.vocabSize, D]);
  return s;
}

/**
 * Build the parameter structure from named arrays (a loader's output). Every expected name must be
 * present with the right number of elements; extra names are an error too (a silent mis-load is worse).
 */
export function paramsFromNamed(c: ModelConfig, named: Map<string, Float32Array>, where: string): TransformerParams {
  const shapes = parameterShapes(c);
  for (const name of named.keys()) {
    if (!shapes.has(name)) throw new InputError(`${where}: unexpected parameter "${name}"`, { name });
  }
  const t = (name: string): Tensor => {
    const shape = shapes.get(name)!;
    const data = named.get(name);
    if (!data) {
      throw new InputError(`${where}: missing parameter "${name}" (closest present: ${closestNames(name, named.keys()).join(', ')})`, { name });
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new ShapeError(where, `parameter "${name}" has ${data.length} values, expected [${shape.join(', ')}]`);
    return new Tensor(data, shape);
  };
  const opt = (name: string): Tensor | undefined => (shapes.has(name) ? t(name) : undefined);
  const norm = (prefix: string): NormParams => {
    const p: NormParams = { w: t(`${prefix}.w`) };
    const b = opt(`${prefix}.b`);
    if (b) p.b = b;
    return p;
  };
  const W_E = t('embed.W_E');
  const params: TransformerParams = { W_E, blocks: [], lnFinal: norm('ln_final'), W_U: c.tiedEmbeddings ? W_E : t('unembed.W_U') };
  const W_pos = opt('pos_embed.W_pos');
  if (W_pos) params.W_pos = W_pos;
  for (let i = 0; i < c.nLayers; i++) {
    const p = `blocks.${i}`;
    const attn: AttnParams = { W_Q: t(`${p}.attn.W_Q`), W_K: t(`${p}.attn.W_K`), W_V: t(`${p}.attn.W_V`), W_O: t(`${p}.attn.W_O`) };
    for (const k of ['b_Q', 'b_K', 'b_V', 'b_O'] as const) {
      const b = opt(`${p}.attn.${k}`);
      if (b) attn[k] = b;
    }
    const block: BlockParams = { ln1: norm(`${p}.ln1`), attn };
    if (!c.attnOnly) {
      block.ln2 = norm(`${p}.ln2`);
      const mlp: MlpParams = { W_in: t(`${p}.mlp.W_in`), W_out: t(`${p}.mlp.W_out`) };
      for (const k of ['W_gate', 'b_in', 'b_out'] as const) {
        const v = opt(`${p}.mlp.${k}`);
        if (v) mlp[k] = v;
      }
      block.mlp = mlp;
    }
    params.blocks.push(block);
  }
  return params;
}

/** Every parameter by name (a tied unembedding appears once, as embed.W_E). */
export function namedParameters(c: ModelConfig, p: TransformerParams): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  const norm = (prefix: string, n: NormParams): void => {
    out.push([`${prefix}.w`, n.w]);
    if (n.b) out.push([`${prefix}.b`, n.b]);
  };
  out.push(['embed.W_E', p.W_E]);
  if (p.W_pos) out.push(['pos_embed.W_pos', p.W_pos]);
  p.blocks.forEach((b, i) => {
    const pre = `blocks.${i}`;
    norm(`${pre}.ln1`, b.ln1);
    for (const k of ['W_Q', 'W_K', 'W_V', 'W_O', 'b_Q', 'b_K', 'b_V', 'b_O'] as const) {
      const v = b.attn[k];
      if (v) out.push([`${pre}.attn.${k}`, v]);
    }
    if (b.ln2) norm(`${pre}.ln2`, b.ln2);
    if (b.mlp) {
      for (const k of ['W_in', 'W_gate', 'W_out', 'b_in', 'b_out'] as const) {
        const v = b.mlp[k];
        if (v) out.push([`${pre}.mlp.${k}`, v]);
      }
    }
  });
  norm('ln_final', p.lnFinal);
  if (!c.tiedEmbeddings) out.push(['unembed.W_U', p.W_U]);
  // Keep the listing and the expected shapes in step (catches a loader that forgot a parameter).
  const expected = parameterShapes(c);
  if (expected.size !== out.length) throw new ShapeError('parameters', `listed ${out.length} parameters, config expects ${expected.size}`);
  return out;
}

export interface InitOptions {
  seed?: number;
  /** Standard deviation of weight matrices and embeddings (GPT-2: 0.02). */
  std?: number;
  /** Random (instead of zero/one) biases and norm weights: tests use this to exercise every parameter. */
  randomAffine?: boolean;
}

/**
 * Seeded random initialisation, GPT-2 style: N(0, std) weights, output projections (W_O, W_out) scaled
 * by 1/sqrt(2 nLayers) so the residual stream does not grow with depth, zero biases, unit norm weights.
 */
export function initParams(c: ModelConfig, opts: InitOptions = {}): Map<string, Float32Array> {
  const rng = new Rng(opts.seed ?? 0);
  const std = opts.std ?? 0.02;
  const named = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (leaf === 'w') {
      for (let i = 0; i < n; i++) data[i] = opts.randomAffine ? 1 + 0.2 * rng.normal() : 1;
    } else if (leaf.startsWith('b')) {
      if (opts.randomAffine) for (let i = 0; i < n; i++) data[i] = 0.1 * rng.normal();
    } else {
      const s = leaf === 'W_O' || leaf === 'W_out' ? std / Math.sqrt(2 * c.nLayers) : std;
      for (let i = 0; i < n; i++) data[i] = s * rng.normal();
    }
    named.set(name, data);
  }
  return named;
}
