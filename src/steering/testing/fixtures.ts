// Test fixtures for steering and patching: a word-level tokenizer, a small random llama-style model over
// its vocabulary, and random dictionaries of each architecture at one of its hooks.
import { InputError } from '../../errors.js';
import { llamaConfig, Transformer } from '../../model/index.js';
import type { DecodeOptions, EncodeOptions, Tokenizer } from '../../model/tokenizers/index.js';
import { defaultConfig, initializeSae, Sae, type SaeConfig } from '../../sae/index.js';
import { Rng } from '../../tensor/index.js';

const WORDS = ['the', 'a', 'dog', 'cat', 'ran', 'sat', 'on', 'mat', 'big', 'red', 'ball', 'park', 'and', 'saw', 'happy', 'Tom', 'Lily', 'went', 'to', 'home'];
const SPECIALS = ['<unk>', '<s>', '</s>'];

/** One token per word (with its leading space) or punctuation mark; BOS 1, EOS 2. */
export class WordTokenizer implements Tokenizer {
  readonly kind = 'llama2c' as const;
  readonly bosId = 1;
  readonly eosId = 2;
  private readonly pieces = [...SPECIALS, ...WORDS.map((w) => ' ' + w), '.', ','];
  private readonly enc = new TextEncoder();
  get vocabSize(): number {
    return this.pieces.length;
  }
  encode(text: string, opts: EncodeOptions): number[] {
    const out = opts.bos ? [this.bosId] : [];
    for (const m of text.matchAll(/[A-Za-z]+|[.,]/g)) {
      const i = this.pieces.indexOf(/^[.,]$/.test(m[0]) ? m[0] : ' ' + m[0]);
      out.push(i >= 0 ? i : 0);
    }
    if (opts.eos) out.push(this.eosId);
    return out;
  }
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    let s = '';
    let prev: number | undefined;
    for (const id of ids) {
      if ((opts.skipSpecial ?? true) && this.isSpecial(id)) continue;
      s += this.decodeToken(id, prev);
      prev = id;
    }
    return s;
  }
  tokenBytes(id: number, prevId?: number): Uint8Array {
    return this.enc.encode(this.decodeToken(id, prevId));
  }
  decodeToken(id: number, prevId?: number): string {
    if (this.isSpecial(id)) return '';
    const p = this.tokenString(id);
    return prevId === undefined || prevId === this.bosId ? p.trimStart() : p;
  }
  tokenString(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new InputError(`token id ${id} is outside the vocabulary`);
    return p;
  }
  tokenId(piece: string): number | null {
    const i = this.pieces.indexOf(piece);
    return i >= 0 ? i : null;
  }
  isSpecial(id: number): boolean {
    return id < SPECIALS.length;
  }
}

export const tinyTokenizer = new WordTokenizer();

/** A 2-layer llama-style model over the word vocabulary (d_model 16, 4 heads, 2 KV heads). */
export function tinyModel(seed = 1): Transformer {
  return Transformer.random(llamaConfig({ dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 24, vocabSize: tinyTokenizer.vocabSize, nCtx: 64 }), { seed, std: 0.3, randomAffine: true });
}

/** A random dictionary reading `hook` (width 16), with a non-zero b_dec and b_enc. */
export function tinySae(partial: Partial<SaeConfig> & Pick<SaeConfig, 'architecture'>, hook = 'blocks.0.hook_resid_post', seed = 3): Sae {
  const s = Sae.zeros(defaultConfig({ dIn: 16, dSae: 40, hookName: hook, ...(partial.architecture.includes('topk') ? { k: 6 } : {}), ...partial }));
  initializeSae(s, { seed });
  const rng = new Rng(seed + 100);
  for (let i = 0; i < s.dOut; i++) s.params.b_dec_O.data[i] = 0.1 * rng.normal();
  for (let i = 0; i < s.dSae; i++) s.params.b_enc_F.data[i] = 0.05 * rng.normal();
  if (s.params.threshold_F) s.params.threshold_F.data.fill(0.05);
  return s;
}
