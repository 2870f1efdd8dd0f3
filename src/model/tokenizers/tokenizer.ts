// The one interface every tokenizer offers, plus a streaming decoder built on it.
// BOS is an explicit argument of every encode call: a silent default is a classic source of wrong results.
import { InputError } from '../../errors.js';

export interface EncodeOptions {
  /** Prepend the BOS token. Required: there is no default. */
  readonly bos: boolean;
  /** Append the EOS token (default false). */
  readonly eos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, added special tokens) from the text. Default true. */
  readonly skipSpecial?: boolean;
}

export type TokenizerKind = 'llama2c' | 'hf-bpe';

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Ids run over [0, vocabSize). */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  encode(text: string, opts: EncodeOptions): number[];
  /** The text of a whole sequence; bytes are joined before UTF-8 decoding, so split characters come out whole. */
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  /**
   * The raw bytes one token adds to the text when it follows prevId (undefined: start of the text).
   * Context matters: the leading space of the first word is dropped. Special tokens give their piece.
   */
  tokenBytes(id: number, prevId?: number): Uint8Array;
  /** tokenBytes as a string; a token that is part of a multi-byte character shows U+FFFD (use TokenStream). */
  decodeToken(id: number, prevId?: number): string;
  /** The raw vocabulary piece, for display (e.g. "Ġcat", "<0x0A>", " the"). */
  tokenString(id: number): string;
  /** The id of a raw vocabulary piece (inverse of tokenString), or null. */
  tokenId(piece: string): number | null;
  isSpecial(id: number): boolean;
}

/** Throws unless id is an integer in [0, vocabSize). */
export function checkTokenId(id: number, vocabSize: number, where: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new InputError(`${where}: token id ${id} is outside the vocabulary [0, ${vocabSize})`, { id, vocabSize });
  }
}

/**
 * Decodes generated tokens one at a time into text, holding back bytes of a character that is not complete yet.
 * Pass the last prompt token as prevId so the first generated token is decoded in context.
 */
export class TokenStream {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });
  private prevId: number | undefined;
  constructor(private readonly tokenizer: Tokenizer, prevId?: number) {
    this.prevId = prevId;
  }
  /** The text that became complete with this token (possibly ""). */
  push(id: number): string {
    const bytes = this.tokenizer.tokenBytes(id, this.prevId);
    this.prevId = id;
    return this.utf8.decode(bytes, { stream: true });
  }
  /** Whatever is held back (an incomplete character decodes to U+FFFD). */
  flush(): string {
    return this.utf8.decode();
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
export function utf8Decode(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Concatenates byte chunks. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
