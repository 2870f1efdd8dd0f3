// A small, deterministic stand-in for a model + dictionary, so the feature pipeline (build, inspect,
// search, explain, serve) runs end to end in tests and demos without checkpoint files. It is a real
// computation on the tensor library, with the properties that matter for features: causal context
// (a token's latents depend on the previous token), sparse non-negative latents, a decoder, and logits.
//
// Addressed by URI so a database can record it like a file: model "synthetic:seed=1,d=16",
// tokenizer "synthetic", dictionary "synthetic:features=64,seed=2".
import { InputError } from '../errors.js';
import type { DecodeOptions, EncodeOptions, Tokenizer } from '../model/tokenizers/index.js';
import * as T from '../tensor/index.js';
import { sha256Text } from './identity.js';
import type { ActivationSource, LatentBatch, LogitReadout, SourceIdentity } from './source.js';

export const SYNTHETIC_WORDS = [
  'the', 'a', 'cat', 'dog', 'bird', 'fish', 'girl', 'boy', 'mom', 'dad', 'tree', 'park', 'ball', 'sun', 'moon',
  'red', 'big', 'small', 'happy', 'sad', 'blue', 'green', 'saw', 'ran', 'jumped', 'played', 'liked', 'found', 'wanted',
  'went', 'to', 'with', 'and', 'in', 'on', 'was', 'is', 'she', 'he', 'they', 'it', 'one', 'day', 'once', 'upon', 'time',
  'there', 'little', 'named', 'lily', 'tom', 'ben', 'home', 'water', 'sky', 'flower', 'car', 'box', 'toy', 'cake',
] as const;
const PUNCT = ['.', ',', '!', '?'] as const;
const SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'] as const;

/** Word-level tokenizer: a word is one token carrying its leading space (" cat"); punctuation has none. */
export class SyntheticTokenizer implements Tokenizer {
  readonly kind = 'llama2c' as const; // behaves like llama2.c for BOS and the dropped leading space
  readonly bosId = 1;
  readonly eosId = 2;
  private readonly pieces: string[];
  private readonly ids = new Map<string, number>();
  private readonly encoder = new TextEncoder();

  constructor() {
    this.pieces = [...SPECIALS, ...SYNTHETIC_WORDS.map((w) => ' ' + w), ...PUNCT];
    this.pieces.forEach((p, i) => this.ids.set(p, i));
  }
  get vocabSize(): number {
    return this.pieces.length;
  }
  encode(text: string, opts: EncodeOptions): number[] {
    const out: number[] = [];
    if (opts.bos) out.push(this.bosId);
    for (const m of text.matchAll(/<unk>|[A-Za-z']+|[^\sA-Za-z']/g)) {
      const w = m[0];
      const id = w === '<unk>' ? 3 : (this.ids.get(' ' + w.toLowerCase()) ?? this.ids.get(w));
      out.push(id ?? 3);
    }
    if (opts.eos) out.push(this.eosId);
    return out;
  }
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecial ?? true;
    let text = '';
    let prev: number | undefined;
    for (const id of ids) {
      if (skip && this.isSpecial(id) && id !== 3) continue;
      text += this.decodeToken(id, prev);
      prev = id;
    }
    return text;
  }
  tokenBytes(id: number, prevId?: number): Uint8Array {
    return this.encoder.encode(this.decodeToken(id, prevId));
  }
  decodeToken(id: number, prevId?: number): string {
    const piece = this.tokenString(id);
    if (id === 3) return prevId === undefined || prevId === this.bosId ? '<unk>' : ' <unk>';
    if (this.isSpecial(id)) return piece;
    return (prevId === undefined || prevId === this.bosId) && piece.startsWith(' ') ? piece.slice(1) : piece;
  }
  tokenString(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new InputError(`synthetic tokenizer: token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    return p;
  }
  tokenId(piece: string): number | null {
    return this.ids.get(piece) ?? null;
  }
  isSpecial(id: number): boolean {
    return id < SPECIALS.length;
  }
}

export interface SyntheticOptions {
  modelSeed?: number;
  dModel?: number;
  dictionarySeed?: number;
  nFeatures?: number;
}

/** Parses "synthetic:key=value,key=value" (numbers only). */
export function parseSyntheticUri(uri: string): Record<string, number> {
  if (!uri.startsWith('synthetic')) throw new InputError(`not a synthetic source URI: ${uri}`);
  const out: Record<string, number> = {};
  const rest = uri.slice('synthetic'.length).replace(/^:/, '');
  for (const part of rest.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!k || !Number.isFinite(n)) throw new InputError(`bad synthetic source parameter "${part}" in ${uri} (expected key=number)`);
    out[k] = n;
  }
  return out;
}

export class SyntheticSource implements ActivationSource {
  readonly tokenizer = new SyntheticTokenizer();
  readonly identity: SourceIdentity;
  readonly nFeatures: number;
  readonly preferredBatch = 16;
  private readonly d: number;
  private readonly E_VD: T.Tensor; // token embedding [V, d]
  private readonly W_enc_DF: T.Tensor; // [d, F]
  private readonly b_enc_F: T.Tensor; // [F]
  private readonly W_dec_FD: Float32Array; // [F, d], unit rows

  constructor(opts: SyntheticOptions = {}) {
    const modelSeed = opts.modelSeed ?? 1;
    const dictSeed = opts.dictionarySeed ?? 2;
    this.d = opts.dModel ?? 16;
    this.nFeatures = opts.nFeatures ?? 64;
    const V = this.tokenizer.vocabSize;
    const F = this.nFeatures;
    const d = this.d;
    const mrng = new T.Rng(modelSeed);
    this.E_VD = T.randn([V, d], mrng);
    const drng = new T.Rng(dictSeed);
    const W = T.randn([F, d], drng);
    // Unit decoder rows; encoder = decoder^T, with a threshold so only aligned inputs fire.
    const W_dec = new Float32Array(F * d);
    for (let f = 0; f < F; f++) {
      let n = 0;
      for (let j = 0; j < d; j++) n += W.data[f * d + j]! ** 2;
      n = Math.sqrt(n);
      for (let j = 0; j < d; j++) W_dec[f * d + j] = W.data[f * d + j]! / n;
    }
    this.W_dec_FD = W_dec;
    this.W_enc_DF = T.transpose(new T.Tensor(W_dec, [F, d]));
    this.b_enc_F = T.Tensor.full([F], -0.45 * Math.sqrt(d));
    const modelUri = `synthetic:seed=${modelSeed},d=${d}`;
    const dictUri = `synthetic:features=${F},seed=${dictSeed}`;
    this.identity = {
      model: { path: modelUri, sha256: sha256Text(modelUri), architecture: 'synthetic', dModel: d, nLayers: 1, vocabSize: V },
      tokenizer: { path: 'synthetic', sha256: sha256Text('synthetic-tokenizer-v1') },
      dictionary: { path: dictUri, sha256: sha256Text(dictUri), architecture: 'relu', hookName: 'blocks.0.hook_resid_post', hookNameOut: null, dIn: d, nFeatures: F },
    };
  }

  /** From URIs as recorded in a database. */
  static fromUris(model: string, dictionary: string): SyntheticSource {
    const m = parseSyntheticUri(model);
    const s = parseSyntheticUri(dictionary);
    return new SyntheticSource({ modelSeed: m.seed, dModel: m.d, dictionarySeed: s.seed, nFeatures: s.features });
  }

  async encode(sequences: readonly (readonly number[])[]): Promise<LatentBatch> {
    const B = sequences.length;
    const maxLen = Math.max(...sequences.map((s) => s.length));
    const d = this.d;
    const F = this.nFeatures;
    // resid[b, t] = E[x_t] + 0.6 E[x_{t-1}] (previous-token context), zero at padded positions.
    const resid = new Float32Array(B * maxLen * d);
    const lengths = new Int32Array(B);
    const E = this.E_VD.data;
    sequences.forEach((s, b) => {
      lengths[b] = s.length;
      for (let t = 0; t < s.length; t++) {
        const o = (b * maxLen + t) * d;
        for (let j = 0; j < d; j++) resid[o + j] = E[s[t]! * d + j]! + (t > 0 ? 0.6 * E[s[t - 1]! * d + j]! : 0);
      }
    });
    const pre = T.matmul(new T.Tensor(resid, [B * maxLen, d]), this.W_enc_DF);
    const acts = T.relu(T.add(pre, this.b_enc_F)).data;
    for (let b = 0; b < B; b++) acts.fill(0, (b * maxLen + lengths[b]!) * F, (b + 1) * maxLen * F);
    return { acts_BTF: acts, batch: B, maxLen, lengths, nFeatures: F };
  }

  decoder(): { W_dec: Float32Array; dOut: number } {
    return { W_dec: this.W_dec_FD, dOut: this.d };
  }

  logitReadout(): LogitReadout {
    return { norm: { kind: 'rms', weight: null }, unembed: this.E_VD.data, transposed: true, dModel: this.d, vocabSize: this.tokenizer.vocabSize };
  }
}

/** Deterministic story-like text over the synthetic vocabulary (for corpora in tests). */
export function syntheticCorpus(sentences: number, seed = 7): string {
  const rng = new T.Rng(seed);
  const pick = <X>(xs: readonly X[]): X => xs[rng.int(xs.length)]!;
  const nouns = ['cat', 'dog', 'bird', 'fish', 'girl', 'boy', 'mom', 'dad', 'tree', 'ball', 'car', 'box', 'toy', 'cake', 'flower'];
  const adjs = ['red', 'big', 'small', 'happy', 'sad', 'blue', 'green', 'little'];
  const verbs = ['saw', 'liked', 'found', 'wanted', 'played with'];
  const names = ['lily', 'tom', 'ben'];
  const lines: string[] = [];
  let para: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const s =
      rng.uniform() < 0.3
        ? `once upon a time there was a ${pick(adjs)} ${pick(nouns)} named ${pick(names)}.`
        : `${pick(['she', 'he', 'they', pick(names)])} ${pick(verbs)} the ${pick(adjs)} ${pick(nouns)} in the ${pick(['park', 'home', 'sky', 'water'])}${pick(['.', '!', ','])}`;
    para.push(s);
    if (para.length >= 4 + rng.int(4)) {
      lines.push(para.join(' '), '');
      para = [];
    }
  }
  if (para.length) lines.push(para.join(' '));
  return lines.join('\n') + '\n';
}
