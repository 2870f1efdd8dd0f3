// A slow, obviously-correct forward pass for tests: plain loops, float64 accumulation, one position at a
// time, reading checkpoint tensors by their real names in their real layouts (HF GPT-2 Conv1D [in, out],
// NeoX's per-head fused qkv, HF Llama's half-split RoPE, llama2.c's interleaved RoPE). It shares no code
// with the fast path (no Tensor ops, no loaders, no params.ts), so agreement means both are right.

export type NamedTensors = Map<string, { shape: number[]; data: Float32Array }>;
export type RefConfig = Record<string, unknown>;
export type RefKind = 'gpt2' | 'neox' | 'llama-hf' | 'llama2c';

type Vec = Float64Array;

class Weights {
  constructor(private readonly w: NamedTensors) {}
  get(name: string): Float32Array {
    const t = this.w.get(name);
    if (!t) throw new Error(`reference: missing tensor ${name}`);
    return t.data;
  }
  has(name: string): boolean {
    return this.w.has(name);
  }
}

/** y = W x, W stored [out, in]. */
function matvec(W: Float32Array, x: Vec, out: number, bias?: Float32Array): Vec {
  const inDim = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < inDim; i++) s += W[o * inDim + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** y = x W, W stored [in, out] (GPT-2's Conv1D). */
function conv1d(W: Float32Array, x: Vec, out: number, bias?: Float32Array): Vec {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < x.length; i++) s += W[i * out + o]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function layerNorm(x: Vec, w: Float32Array, b: Float32Array, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  v /= n;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = ((x[i]! - mean) / Math.sqrt(v + eps)) * w[i]! + b[i]!;
  return y;
}

function rmsNorm(x: Vec, w: Float32Array, eps: number): Vec {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]!);
}

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): independent of the tensor library's erf.
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

function act(name: string, x: number): number {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return Math.max(0, x);
  }
  throw new Error(`reference: activation ${name}`);
}

/** Rotate one head vector in place at `pos`. interleaved: pairs (2i, 2i+1); else (i, i + rot/2). */
function ropeHead(v: Vec, off: number, rot: number, pos: number, base: number, interleaved: boolean): void {
  const half = rot / 2;
  for (let i = 0; i < half; i++) {
    const freq = 1 / Math.pow(base, (2 * i) / rot);
    const c = Math.cos(pos * freq);
    const s = Math.sin(pos * freq);
    const ia = interleaved ? off + 2 * i : off + i;
    const ib = interleaved ? off + 2 * i + 1 : off + i + half;
    const a = v[ia]!;
    const b = v[ib]!;
    v[ia] = a * c - b * s;
    v[ib] = b * c + a * s;
  }
}

/**
 * Causal attention over all positions: q[t] [H*dh], k[t], v[t] [Hkv*dh]; head h uses kv head
 * floor(h * Hkv / H). Returns z[t] [H*dh].
 */
function attend(q: Vec[], k: Vec[], v: Vec[], H: number, Hkv: number, dh: number): Vec[] {
  const T = q.length;
  const out: Vec[] = [];
  for (let t = 0; t < T; t++) {
    const z = new Float64Array(H * dh);
    for (let h = 0; h < H; h++) {
      const kh = Math.floor((h * Hkv) / H);
      const scores = new Float64Array(t + 1);
      let m = -Infinity;
      for (let s = 0; s <= t; s++) {
        let d = 0;
        for (let i = 0; i < dh; i++) d += q[t]![h * dh + i]! * k[s]![kh * dh + i]!;
        scores[s] = d / Math.sqrt(dh);
        m = Math.max(m, scores[s]!);
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s]! - m);
      for (let s = 0; s <= t; s++) for (let i = 0; i < dh; i++) z[h * dh + i] += (scores[s]! / sum) * v[s]![kh * dh + i]!;
    }
    out.push(z);
  }
  return out;
}

const add = (a: Vec, b: Vec): Vec => a.map((x, i) => x + b[i]!);
const row = (E: Float32Array, id: number, D: number): Vec => Float64Array.from(E.subarray(id * D, (id + 1) * D));
const n = (c: RefConfig, k: string, d?: number): number => (c[k] ?? d) as number;

/** Logits [T][V] for one sequence of ids. */
export function referenceLogits(kind: RefKind, cfg: RefConfig, tensors: NamedTensors, ids: readonly number[]): Vec[] {
  const w = new Weights(tensors);
  switch (kind) {
    case 'gpt2':
      return gpt2(cfg, w, ids);
    case 'neox':
      return neox(cfg, w, ids);
    case 'llama-hf':
      return llama(cfg, w, ids, false);
    case 'llama2c':
      return llama(cfg, w, ids, true);
  }
}

function gpt2(c: RefConfig, w: Weights, ids: readonly number[]): Vec[] {
  const D = n(c, 'n_embd');
  const H = n(c, 'n_head');
  const F = (c.n_inner as number | null) ?? 4 * D;
  const V = n(c, 'vocab_size');
  const eps = n(c, 'layer_norm_epsilon', 1e-5);
  const a = (c.activation_function as string) ?? 'gelu_new';
  let x = ids.map((id, t) => add(row(w.get('wte.weight'), id, D), row(w.get('wpe.weight'), t, D)));
  for (let l = 0; l < n(c, 'n_layer'); l++) {
    const p = `h.${l}`;
    const q: Vec[] = [], k: Vec[] = [], v: Vec[] = [];
    for (const xt of x) {
      const qkv = conv1d(w.get(`${p}.attn.c_attn.weight`), layerNorm(xt, w.get(`${p}.ln_1.weight`), w.get(`${p}.ln_1.bias`), eps), 3 * D, w.get(`${p}.attn.c_attn.bias`));
      q.push(qkv.slice(0, D));
      k.push(qkv.slice(D, 2 * D));
      v.push(qkv.slice(2 * D));
    }
    const z = attend(q, k, v, H, H, D / H);
    x = x.map((xt, t) => add(xt, conv1d(w.get(`${p}.attn.c_proj.weight`), z[t]!, D, w.get(`${p}.attn.c_proj.bias`))));
    x = x.map((xt) => {
      const h = conv1d(w.get(`${p}.mlp.c_fc.weight`), layerNorm(xt, w.get(`${p}.ln_2.weight`), w.get(`${p}.ln_2.bias`), eps), F, w.get(`${p}.mlp.c_fc.bias`));
      return add(xt, conv1d(w.get(`${p}.mlp.c_proj.weight`), h.map((u) => act(a, u)), D, w.get(`${p}.mlp.c_proj.bias`)));
    });
  }
  const U = c.tie_word_embeddings === false ? w.get('lm_head.weight') : w.get('wte.weight');
  return x.map((xt) => matvec(U, layerNorm(xt, w.get('ln_f.weight'), w.get('ln_f.bias'), eps), V));
}

function neox(c: RefConfig, w: Weights, ids: readonly number[]): Vec[] {
  const D = n(c, 'hidden_size');
  const H = n(c, 'num_attention_heads');
  const dh = D / H;
  const rot = Math.floor(dh * n(c, 'rotary_pct', 0.25));
  const base = n(c, 'rotary_emb_base', 10000);
  const F = n(c, 'intermediate_size');
  const V = n(c, 'vocab_size');
  const eps = n(c, 'layer_norm_eps', 1e-5);
  const parallel = c.use_parallel_residual !== false;
  const a = (c.hidden_act as string) ?? 'gelu';
  const hasBias = c.attention_bias !== false;
  let x = ids.map((id) => row(w.get('gpt_neox.embed_in.weight'), id, D));
  for (let l = 0; l < n(c, 'num_hidden_layers'); l++) {
    const p = `gpt_neox.layers.${l}`;
    const ln = (xt: Vec, which: string): Vec => layerNorm(xt, w.get(`${p}.${which}.weight`), w.get(`${p}.${which}.bias`), eps);
    const attnOut = (xs: Vec[]): Vec[] => {
      const q: Vec[] = [], k: Vec[] = [], v: Vec[] = [];
      xs.forEach((xt, t) => {
        const qkv = matvec(w.get(`${p}.attention.query_key_value.weight`), ln(xt, 'input_layernorm'), 3 * D, hasBias ? w.get(`${p}.attention.query_key_value.bias`) : undefined);
        const qt = new Float64Array(D), kt = new Float64Array(D), vt = new Float64Array(D);
        for (let h = 0; h < H; h++)
          for (let i = 0; i < dh; i++) {
            qt[h * dh + i] = qkv[h * 3 * dh + i]!;
            kt[h * dh + i] = qkv[h * 3 * dh + dh + i]!;
            vt[h * dh + i] = qkv[h * 3 * dh + 2 * dh + i]!;
          }
        for (let h = 0; h < H; h++) {
          ropeHead(qt, h * dh, rot, t, base, false);
          ropeHead(kt, h * dh, rot, t, base, false);
        }
        q.push(qt), k.push(kt), v.push(vt);
      });
      return attend(q, k, v, H, H, dh).map((z) => matvec(w.get(`${p}.attention.dense.weight`), z, D, hasBias ? w.get(`${p}.attention.dense.bias`) : undefined));
    };
    const mlpOut = (xt: Vec): Vec => {
      const h = matvec(w.get(`${p}.mlp.dense_h_to_4h.weight`), xt, F, w.get(`${p}.mlp.dense_h_to_4h.bias`));
      return matvec(w.get(`${p}.mlp.dense_4h_to_h.weight`), h.map((u) => act(a, u)), D, w.get(`${p}.mlp.dense_4h_to_h.bias`));
    };
    const att = attnOut(x);
    if (parallel) x = x.map((xt, t) => add(add(xt, att[t]!), mlpOut(ln(xt, 'post_attention_layernorm'))));
    else {
      x = x.map((xt, t) => add(xt, att[t]!));
      x = x.map((xt) => add(xt, mlpOut(ln(xt, 'post_attention_layernorm'))));
    }
  }
  const U = c.tie_word_embeddings === true ? w.get('gpt_neox.embed_in.weight') : w.get('embed_out.weight');
  return x.map((xt) => matvec(U, layerNorm(xt, w.get('gpt_neox.final_layer_norm.weight'), w.get('gpt_neox.final_layer_norm.bias'), eps), V));
}

/**
 * Llama: HF names and half-split RoPE, or (llama2c) the llama2.c fields as "tokenEmbedding", "wq.{l}" ...
 * with interleaved RoPE, eps 1e-5, theta 10000.
 */
function llama(c: RefConfig, w: Weights, ids: readonly number[], l2c: boolean): Vec[] {
  const D = l2c ? n(c, 'dim') : n(c, 'hidden_size');
  const H = l2c ? n(c, 'n_heads') : n(c, 'num_attention_heads');
  const Hkv = l2c ? n(c, 'n_kv_heads') : n(c, 'num_key_value_heads', H);
  const dh = l2c ? D / H : n(c, 'head_dim', D / H);
  const F = l2c ? n(c, 'hidden_dim') : n(c, 'intermediate_size');
  const V = l2c ? n(c, 'vocab_size') : n(c, 'vocab_size');
  const L = l2c ? n(c, 'n_layers') : n(c, 'num_hidden_layers');
  const eps = l2c ? 1e-5 : n(c, 'rms_norm_eps', 1e-6);
  const base = l2c ? 10000 : n(c, 'rope_theta', 10000);
  const qwen = c.model_type === 'qwen2';
  const qkvBias = !l2c && (qwen || c.attention_bias === true);
  const oBias = !l2c && !qwen && c.attention_bias === true;
  const N = l2c
    ? { emb: 'tokenEmbedding', ln1: (i: number) => `rmsAtt.${i}`, q: (i: number) => `wq.${i}`, k: (i: number) => `wk.${i}`, v: (i: number) => `wv.${i}`, o: (i: number) => `wo.${i}`, ln2: (i: number) => `rmsFfn.${i}`, gate: (i: number) => `w1.${i}`, up: (i: number) => `w3.${i}`, down: (i: number) => `w2.${i}`, norm: 'rmsFinal', head: 'wcls' }
    : { emb: 'model.embed_tokens.weight', ln1: (i: number) => `model.layers.${i}.input_layernorm.weight`, q: (i: number) => `model.layers.${i}.self_attn.q_proj`, k: (i: number) => `model.layers.${i}.self_attn.k_proj`, v: (i: number) => `model.layers.${i}.self_attn.v_proj`, o: (i: number) => `model.layers.${i}.self_attn.o_proj`, ln2: (i: number) => `model.layers.${i}.post_attention_layernorm.weight`, gate: (i: number) => `model.layers.${i}.mlp.gate_proj.weight`, up: (i: number) => `model.layers.${i}.mlp.up_proj.weight`, down: (i: number) => `model.layers.${i}.mlp.down_proj.weight`, norm: 'model.norm.weight', head: 'lm_head.weight' };
  const wt = (name: string): Float32Array => w.get(l2c ? name : `${name}.weight`);
  const bias = (name: string, on: boolean): Float32Array | undefined => (on ? w.get(`${name}.bias`) : undefined);
  let x = ids.map((id) => row(w.get(N.emb), id, D));
  for (let l = 0; l < L; l++) {
    const q: Vec[] = [], k: Vec[] = [], v: Vec[] = [];
    x.forEach((xt, t) => {
      const h = rmsNorm(xt, w.get(N.ln1(l)), eps);
      const qt = matvec(wt(N.q(l)), h, H * dh, bias(N.q(l), qkvBias));
      const kt = matvec(wt(N.k(l)), h, Hkv * dh, bias(N.k(l), qkvBias));
      for (let hh = 0; hh < H; hh++) ropeHead(qt, hh * dh, dh, t, base, l2c);
      for (let hh = 0; hh < Hkv; hh++) ropeHead(kt, hh * dh, dh, t, base, l2c);
      q.push(qt), k.push(kt), v.push(matvec(wt(N.v(l)), h, Hkv * dh, bias(N.v(l), qkvBias)));
    });
    const z = attend(q, k, v, H, Hkv, dh);
    x = x.map((xt, t) => add(xt, matvec(wt(N.o(l)), z[t]!, D, bias(N.o(l), oBias))));
    x = x.map((xt) => {
      const h = rmsNorm(xt, w.get(N.ln2(l)), eps);
      const g = matvec(w.get(N.gate(l)), h, F);
      const u = matvec(w.get(N.up(l)), h, F);
      return add(xt, matvec(w.get(N.down(l)), g.map((gi, i) => act('silu', gi) * u[i]!), D));
    });
  }
  const tied = l2c ? c.shared_classifier === true : c.tie_word_embeddings === true;
  const U = tied ? w.get(N.emb) : w.get(N.head);
  return x.map((xt) => matvec(U, rmsNorm(xt, w.get(N.norm), eps), V));
}
