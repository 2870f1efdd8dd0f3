// The llama2.c tokenizer (.bin), encoding and decoding exactly as llama2.c's run.c does.
// File: int32 max_token_length, then per token: float32 score, int32 length, `length` bytes (little-endian).
// Pieces are kept as "binary strings" (one char per byte) so concatenation and lookup work on bytes, as in C.
import { readFile } from 'node:fs/promises';
import { FormatError, InputError } from '../../errors.js';
import { mergeByPriority, type MergeRule } from './priority-merge.js';
import { checkTokenId, utf8Decode, concatBytes, type DecodeOptions, type EncodeOptions, type Tokenizer } from './tokenizer.js';

const BOS_ID = 1;
const EOS_ID = 2;
const BYTE_FALLBACK_OFFSET = 3; // ids 3..258 are the pieces <0x00>..<0xFF>
const MIN_VOCAB = BYTE_FALLBACK_OFFSET + 256;
const MAX_TOKEN_LENGTH_LIMIT = 65536; // far above any real vocabulary (Llama 2: 27); larger means a wrong file
// run.c starts its search from best_score = -1e10, so a pair scoring at or below it never merges.
const SCORE_FLOOR = -1e10;

export interface Llama2cTokenizerOptions {
  /** Number of entries to expect (the model header's vocab_size); default: read to the end of the file. */
  readonly vocabSize?: number;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly kind = 'llama2c' as const;
  readonly vocabSize: number;
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly maxTokenLength: number;
  private readonly pieces: string[]; // binary strings
  private readonly pieceBytes: Uint8Array[];
  private readonly scores: Float32Array;
  private readonly byteValue: Int16Array; // the byte a "<0xNN>" piece stands for, else -1
  private readonly idOfPiece = new Map<string, number>();
  private readonly spaceId: number;
  private readonly codePointIds = new Map<number, number | number[]>();
  private readonly pairCache = new Map<number, number>();
  private readonly rule: MergeRule;

  constructor(maxTokenLength: number, pieceBytes: Uint8Array[], scores: Float32Array, where = 'llama2c tokenizer') {
    this.maxTokenLength = maxTokenLength;
    this.vocabSize = pieceBytes.length;
    this.pieceBytes = pieceBytes;
    this.scores = scores;
    if (this.vocabSize < MIN_VOCAB) {
      throw new FormatError(where, `has ${this.vocabSize} tokens; a llama2.c vocabulary needs at least ${MIN_VOCAB} (3 control tokens, then 256 byte-fallback pieces)`);
    }
    this.pieces = pieceBytes.map(bytesToBinary);
    this.byteValue = new Int16Array(this.vocabSize).fill(-1);
    for (let id = 0; id < this.vocabSize; id++) {
      const piece = this.pieces[id]!;
      // Like C's bsearch over a sorted copy, a duplicated piece resolves to one id; we keep the lowest.
      if (!this.idOfPiece.has(piece)) this.idOfPiece.set(piece, id);
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      if (m) this.byteValue[id] = parseInt(m[1]!, 16);
    }
    const spaceId = this.idOfPiece.get(' ');
    if (spaceId === undefined) {
      throw new FormatError(where, `has no " " piece, which llama2.c's encoder prepends to every non-empty text`);
    }
    this.spaceId = spaceId;
    const V = this.vocabSize;
    this.rule = {
      mergedId: (a, b) => {
        const key = a * V + b;
        let merged = this.pairCache.get(key);
        if (merged === undefined) {
          merged = this.idOfPiece.get(this.pieces[a]! + this.pieces[b]!) ?? -1;
          if (merged >= 0 && !(this.scores[merged]! > SCORE_FLOOR)) merged = -1;
          this.pairCache.set(key, merged);
        }
        return merged;
      },
      priority: (id) => this.scores[id]!,
    };
  }

  encode(text: string, opts: EncodeOptions): number[] {
    const symbols: number[] = [];
    if (opts.bos) symbols.push(BOS_ID);
    if (text.length > 0) {
      symbols.push(this.spaceId); // the dummy prefix: " hello" tokenizes like a word inside a sentence
      for (const ch of text) {
        const found = this.idsOfCodePoint(ch.codePointAt(0)!);
        if (typeof found === 'number') symbols.push(found);
        else for (const id of found) symbols.push(id);
      }
    }
    const ids = mergeByPriority(symbols, this.rule);
    if (opts.eos) ids.push(EOS_ID);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecial ?? true;
    const chunks: Uint8Array[] = [];
    let prev: number | undefined;
    for (const id of ids) {
      checkTokenId(id, this.vocabSize, 'decode');
      if (!(skip && this.isSpecial(id))) chunks.push(this.tokenBytes(id, prev));
      prev = id;
    }
    return utf8Decode(concatBytes(chunks));
  }

  /** As run.c's decode(prev, token), and at the start of a text (no prevId) the dummy-prefix space is dropped too. */
  tokenBytes(id: number, prevId?: number): Uint8Array {
    checkTokenId(id, this.vocabSize, 'tokenBytes');
    const b = this.byteValue[id]!;
    if (b >= 0) return Uint8Array.of(b);
    const bytes = this.pieceBytes[id]!;
    if ((prevId === undefined || prevId === BOS_ID) && bytes[0] === 0x20) return bytes.slice(1);
    return bytes.slice();
  }

  decodeToken(id: number, prevId?: number): string {
    return utf8Decode(this.tokenBytes(id, prevId));
  }

  tokenString(id: number): string {
    checkTokenId(id, this.vocabSize, 'tokenString');
    return utf8Decode(this.pieceBytes[id]!);
  }

  tokenId(piece: string): number | null {
    return this.idOfPiece.get(bytesToBinary(new TextEncoder().encode(piece))) ?? null;
  }

  isSpecial(id: number): boolean {
    return id === BOS_ID || id === EOS_ID;
  }

  /** The score of a token (merge priority: higher merges first). */
  score(id: number): number {
    checkTokenId(id, this.vocabSize, 'score');
    return this.scores[id]!;
  }

  /** The vocabulary piece for one code point, or its UTF-8 bytes as byte-fallback ids (byte + 3). */
  private idsOfCodePoint(cp: number): number | number[] {
    let found = this.codePointIds.get(cp);
    if (found === undefined) {
      const bytes = new TextEncoder().encode(String.fromCodePoint(cp)); // a lone surrogate becomes EF BF BD, as in UTF-8 input
      const id = this.idOfPiece.get(bytesToBinary(bytes));
      found = id ?? Array.from(bytes, (b) => b + BYTE_FALLBACK_OFFSET);
      this.codePointIds.set(cp, found);
    }
    return found;
  }
}

/** Parses a llama2.c tokenizer file; `where` names it in errors. */
export function parseLlama2cTokenizer(data: Uint8Array, where: string, opts: Llama2cTokenizerOptions = {}): Llama2cTokenizer {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < 4) {
    throw new FormatError(where, `is ${data.byteLength} bytes; a llama2.c tokenizer starts with an int32 max_token_length`);
  }
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0 || maxTokenLength > MAX_TOKEN_LENGTH_LIMIT) {
    throw new FormatError(where, `max_token_length is ${maxTokenLength}; expected 1..${MAX_TOKEN_LENGTH_LIMIT} (is this a llama2.c tokenizer .bin?)`);
  }
  const expected = opts.vocabSize;
  if (expected !== undefined && (!Number.isInteger(expected) || expected <= 0)) {
    throw new InputError(`vocabSize must be a positive integer, got ${expected}`);
  }
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let at = 4;
  while (at < data.byteLength && (expected === undefined || pieces.length < expected)) {
    const i = pieces.length;
    if (at + 8 > data.byteLength) {
      throw new FormatError(where, `truncated in token ${i}: needs 8 bytes (score, length) at offset ${at}, the file has ${data.byteLength}`);
    }
    const score = view.getFloat32(at, true);
    const len = view.getInt32(at + 4, true);
    if (Number.isNaN(score)) throw new FormatError(where, `token ${i} at offset ${at} has a NaN score`);
    if (len < 0 || len > maxTokenLength) {
      throw new FormatError(where, `token ${i} at offset ${at + 4} has length ${len}; expected 0..${maxTokenLength} (max_token_length)`);
    }
    at += 8;
    if (at + len > data.byteLength) {
      throw new FormatError(where, `truncated in token ${i}: needs ${len} bytes at offset ${at}, the file has ${data.byteLength}`);
    }
    pieces.push(data.slice(at, at + len));
    scores.push(score);
    at += len;
  }
  if (expected !== undefined && pieces.length < expected) {
    throw new FormatError(where, `holds ${pieces.length} tokens; the model expects vocab_size ${expected}`);
  }
  if (expected !== undefined && at < data.byteLength) {
    throw new FormatError(where, `holds more than the ${expected} tokens the model expects (${data.byteLength - at} bytes left after token ${expected - 1})`);
  }
  return new Llama2cTokenizer(maxTokenLength, pieces, Float32Array.from(scores), where);
}

export async function loadLlama2cTokenizer(path: string, opts: Llama2cTokenizerOptions = {}): Promise<Llama2cTokenizer> {
  return parseLlama2cTokenizer(await readFile(path), path, opts);
}

/** Serialises a vocabulary to the llama2.c .bin layout (used by tests and exporters). */
export function serializeLlama2cTokenizer(pieces: readonly (string | Uint8Array)[], scores: ArrayLike<number>): Uint8Array {
  const enc = new TextEncoder();
  const bytes = pieces.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
  const maxLen = bytes.reduce((m, b) => Math.max(m, b.length), 1);
  const out = new Uint8Array(4 + bytes.reduce((s, b) => s + 8 + b.length, 0));
  const view = new DataView(out.buffer);
  view.setInt32(0, maxLen, true);
  let at = 4;
  bytes.forEach((b, i) => {
    view.setFloat32(at, scores[i]!, true);
    view.setInt32(at + 4, b.length, true);
    out.set(b, at + 8);
    at += 8 + b.length;
  });
  return out;
}

function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 4096)));
  }
  return s;
}
