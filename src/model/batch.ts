// A batch of token sequences of different lengths, right-padded to the longest. Padded keys are never
// attended to, and padded positions' outputs are meaningless (callers read positions < length only),
// so each sequence's results equal running it alone. BOS is never added here: the caller's ids are
// exactly what the model sees (encode with {bos: true} to get one).
import { InputError } from '../errors.js';

export class TokenBatch {
  /** [batch * maxLen] row-major; padded slots hold padId (a valid id, so lookups stay in range). */
  readonly ids: Int32Array;
  /** Real length of each sequence, [batch]. */
  readonly lengths: Int32Array;
  readonly batch: number;
  /** Longest sequence (the padded length T). */
  readonly maxLen: number;

  constructor(ids: Int32Array, lengths: Int32Array, maxLen: number) {
    if (ids.length !== lengths.length * maxLen) throw new InputError(`TokenBatch: ${ids.length} ids for ${lengths.length} rows of ${maxLen}`);
    this.ids = ids;
    this.lengths = lengths;
    this.batch = lengths.length;
    this.maxLen = maxLen;
  }

  /** From sequences (any lengths >= 1); shorter ones are right-padded with padId. */
  static from(seqs: readonly (readonly number[] | Int32Array)[], padId = 0): TokenBatch {
    if (seqs.length === 0) throw new InputError('TokenBatch: needs at least one sequence');
    let T = 0;
    for (const [i, s] of seqs.entries()) {
      if (s.length === 0) throw new InputError(`TokenBatch: sequence ${i} is empty (to start from nothing, pass the BOS id)`);
      T = Math.max(T, s.length);
    }
    const ids = new Int32Array(seqs.length * T).fill(padId);
    const lengths = new Int32Array(seqs.length);
    seqs.forEach((s, b) => {
      for (let t = 0; t < s.length; t++) {
        const v = s[t]!;
        if (!Number.isInteger(v)) throw new InputError(`TokenBatch: sequence ${b} position ${t} holds ${v}, not an integer token id`);
        ids[b * T + t] = v;
      }
      lengths[b] = s.length;
    });
    return new TokenBatch(ids, lengths, T);
  }

  /** A batch of one. */
  static single(ids: readonly number[] | Int32Array): TokenBatch {
    return TokenBatch.from([ids]);
  }

  /** True when some sequence is shorter than maxLen. */
  get padded(): boolean {
    for (let b = 0; b < this.batch; b++) if (this.lengths[b] !== this.maxLen) return true;
    return false;
  }

  /** The real (unpadded) ids of sequence b. */
  sequence(b: number): number[] {
    return Array.from(this.ids.subarray(b * this.maxLen, b * this.maxLen + this.lengths[b]!));
  }

  /** Total number of real tokens. */
  get tokenCount(): number {
    let n = 0;
    for (let b = 0; b < this.batch; b++) n += this.lengths[b]!;
    return n;
  }
}

/** What run() accepts as input: a batch, one sequence, or several. */
export type TokenInput = TokenBatch | readonly number[] | Int32Array | readonly (readonly number[] | Int32Array)[];

export function toBatch(input: TokenInput): TokenBatch {
  if (input instanceof TokenBatch) return input;
  if (input instanceof Int32Array) return TokenBatch.single(input);
  if (input.length > 0 && typeof input[0] !== 'number') return TokenBatch.from(input as readonly (readonly number[] | Int32Array)[]);
  return TokenBatch.single(input as readonly number[]);
}
