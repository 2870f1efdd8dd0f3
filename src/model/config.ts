// One transformer, many checkpoints: every architecture Loupe runs is this config plus a parameter set.
// The families differ only in the switches below (norm, positions, activation, gating, parallel blocks,
// biases, tied unembedding); loaders translate checkpoint configs into it.
import { InputError } from '../errors.js';

export type ArchFamily = 'llama' | 'gpt2' | 'neox';
export type NormKind = 'rms' | 'layer';
export type PositionalKind = 'rope' | 'learned' | 'none';
export type ActivationKind = 'silu' | 'gelu_tanh' | 'gelu_erf' | 'relu';

export interface RopeConfig {
  /** 'interleaved' rotates pairs (2i, 2i+1) (llama2.c, Meta); 'half' rotates (i, i + r/2) (HF Llama, NeoX). */
  layout: 'interleaved' | 'half';
  /** Frequency base (theta). */
  base: number;
  /** Rotate only the first rotaryDim features of each head (NeoX partial rotary); = dHead for full. */
  rotaryDim: number;
  /** Explicit inverse frequencies [rotaryDim/2] (scaled variants such as Llama 3); overrides base. */
  invFreq?: number[];
}

export interface BiasConfig {
  /** Biases on the query, key and value projections (GPT-2, NeoX, Qwen2). */
  qkv: boolean;
  /** Bias on the attention output projection (GPT-2, NeoX). */
  attnOut: boolean;
  /** Biases on the MLP projections (GPT-2, NeoX). */
  mlp: boolean;
}

export interface ModelConfig {
  family: ArchFamily;
  /** Free-form name for display (e.g. "stories260K"). */
  name?: string;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention); = nHeads for multi-head attention. */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  vocabSize: number;
  /** Longest sequence the model accepts (positions 0..nCtx-1). */
  nCtx: number;
  norm: NormKind;
  normEps: number;
  positional: PositionalKind;
  /** Present exactly when positional is 'rope'. */
  rope?: RopeConfig;
  act: ActivationKind;
  /** SwiGLU-style MLP: act(x W_gate) * (x W_in) (Llama). */
  gatedMlp: boolean;
  /** attn and MLP both read resid_pre and add to it (GPT-J, NeoX); no hook_resid_mid then. */
  parallelAttnMlp: boolean;
  biases: BiasConfig;
  /** The unembedding is the token embedding (GPT-2, llama2.c with a shared classifier). */
  tiedEmbeddings: boolean;
  /** No MLPs at all (attention-only model organisms). */
  attnOnly: boolean;
  /** The id a caller prepends when asking for BOS; null when the model has none. */
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** Everything a family-specific constructor needs; the rest takes the family's defaults. */
export type ConfigInput = Partial<ModelConfig> & Pick<ModelConfig, 'dModel' | 'nLayers' | 'nHeads' | 'vocabSize'>;

/** Llama family (llama2.c, Llama 2/3, Mistral, Qwen2, SmolLM): RMSNorm, RoPE, GQA, SwiGLU, no biases. */
export function llamaConfig(c: ConfigInput): ModelConfig {
  const dHead = c.dHead ?? c.dModel / c.nHeads;
  return finish({
    family: 'llama',
    nKvHeads: c.nHeads,
    dHead,
    dMlp: 4 * c.dModel,
    nCtx: 2048,
    norm: 'rms',
    normEps: 1e-5,
    positional: 'rope',
    rope: { layout: 'half', base: 10000, rotaryDim: dHead },
    act: 'silu',
    gatedMlp: true,
    parallelAttnMlp: false,
    biases: { qkv: false, attnOut: false, mlp: false },
    tiedEmbeddings: false,
    attnOnly: false,
    bosTokenId: 1,
    eosTokenId: 2,
    ...c,
  });
}

/** GPT-2 family: LayerNorm, learned positions, GELU (tanh), biases everywhere, tied unembedding. */
export function gpt2Config(c: ConfigInput): ModelConfig {
  return finish({
    family: 'gpt2',
    nKvHeads: c.nHeads,
    dHead: c.dModel / c.nHeads,
    dMlp: 4 * c.dModel,
    nCtx: 1024,
    norm: 'layer',
    normEps: 1e-5,
    positional: 'learned',
    act: 'gelu_tanh',
    gatedMlp: false,
    parallelAttnMlp: false,
    biases: { qkv: true, attnOut: true, mlp: true },
    tiedEmbeddings: true,
    attnOnly: false,
    bosTokenId: c.vocabSize === 50257 ? 50256 : null,
    eosTokenId: c.vocabSize === 50257 ? 50256 : null,
    ...c,
  });
}

/** GPT-NeoX / Pythia: LayerNorm, partial rotary (half layout), parallel attention + MLP, untied. */
export function neoxConfig(c: ConfigInput & { rotaryPct?: number }): ModelConfig {
  const { rotaryPct, ...rest } = c;
  const dHead = c.dHead ?? c.dModel / c.nHeads;
  return finish({
    family: 'neox',
    nKvHeads: c.nHeads,
    dHead,
    dMlp: 4 * c.dModel,
    nCtx: 2048,
    norm: 'layer',
    normEps: 1e-5,
    positional: 'rope',
    rope: { layout: 'half', base: 10000, rotaryDim: Math.floor(dHead * (rotaryPct ?? 0.25)) },
    act: 'gelu_erf',
    gatedMlp: false,
    parallelAttnMlp: true,
    biases: { qkv: true, attnOut: true, mlp: true },
    tiedEmbeddings: false,
    attnOnly: false,
    bosTokenId: 0,
    eosTokenId: 0,
    ...rest,
  });
}

function finish(c: ModelConfig): ModelConfig {
  if (c.positional !== 'rope') delete c.rope;
  validateConfig(c);
  return c;
}

/** Throws InputError naming the first inconsistent field. */
export function validateConfig(c: ModelConfig): void {
  const fail = (m: string): never => {
    throw new InputError(`model config: ${m}`, { config: c });
  };
  for (const k of ['dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dHead', 'vocabSize', 'nCtx'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) fail(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (!Number.isInteger(c.dMlp) || c.dMlp < 0 || (!c.attnOnly && c.dMlp === 0)) fail(`dMlp must be a positive integer, got ${c.dMlp}`);
  if (!['llama', 'gpt2', 'neox'].includes(c.family)) fail(`unknown family "${c.family}" (known: llama, gpt2, neox)`);
  if (c.nHeads % c.nKvHeads !== 0) fail(`nHeads ${c.nHeads} must be a multiple of nKvHeads ${c.nKvHeads}`);
  if (c.norm !== 'rms' && c.norm !== 'layer') fail(`norm must be "rms" or "layer", got "${c.norm}"`);
  if (!(c.normEps > 0)) fail(`normEps must be positive, got ${c.normEps}`);
  if (!['silu', 'gelu_tanh', 'gelu_erf', 'relu'].includes(c.act)) fail(`act must be silu, gelu_tanh, gelu_erf or relu, got "${c.act}"`);
  if (!['rope', 'learned', 'none'].includes(c.positional)) fail(`positional must be rope, learned or none, got "${c.positional}"`);
  if (c.positional === 'rope') {
    const r = c.rope;
    if (!r) return fail('positional "rope" needs a rope config');
    if (r.layout !== 'interleaved' && r.layout !== 'half') fail(`rope.layout must be "interleaved" or "half", got "${r.layout}"`);
    if (!Number.isInteger(r.rotaryDim) || r.rotaryDim < 2 || r.rotaryDim % 2 !== 0 || r.rotaryDim > c.dHead) {
      fail(`rope.rotaryDim must be even and in [2, dHead=${c.dHead}], got ${r.rotaryDim}`);
    }
    if (r.invFreq && r.invFreq.length !== r.rotaryDim / 2) fail(`rope.invFreq needs ${r.rotaryDim / 2} entries, got ${r.invFreq.length}`);
  }
  for (const k of ['bosTokenId', 'eosTokenId'] as const) {
    const v = c[k];
    if (v !== null && (!Number.isInteger(v) || v < 0 || v >= c.vocabSize)) fail(`${k} ${v} is outside the vocabulary [0, ${c.vocabSize})`);
  }
}

/** Fields with defaults filled in, for configs read back from JSON (older or hand-written ones). */
export function configFromJson(raw: Record<string, unknown>): ModelConfig {
  const family = raw.family as ArchFamily;
  const base = raw as unknown as ConfigInput;
  const c = family === 'gpt2' ? gpt2Config(base) : family === 'neox' ? neoxConfig(base) : family === 'llama' ? llamaConfig(base) : null;
  if (!c) throw new InputError(`model config: unknown family ${JSON.stringify(raw.family)} (known: llama, gpt2, neox)`);
  return c;
}

/** Parameter count (tied unembedding counted once). */
export function parameterCount(c: ModelConfig): number {
  const attn = c.dModel * c.nHeads * c.dHead * 2 + c.dModel * c.nKvHeads * c.dHead * 2;
  const mlp = c.attnOnly ? 0 : c.dModel * c.dMlp * (c.gatedMlp ? 3 : 2);
  const embed = c.vocabSize * c.dModel * (c.tiedEmbeddings ? 1 : 2) + (c.positional === 'learned' ? c.nCtx * c.dModel : 0);
  return embed + c.nLayers * (attn + mlp);
}
