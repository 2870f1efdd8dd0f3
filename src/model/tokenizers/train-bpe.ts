// Trains a GPT-2-style byte-level BPE tokenizer and returns its tokenizer.json (read back by HfTokenizer).
// Text is split into words with GPT-2's pattern and counted once; merges then work on unique words only,
// and after each merge only the words that contain the merged pair are rescanned, updating pair counts by
// difference. A max-heap with lazy invalidation picks the most frequent pair. Cost: about the total length of
// the affected words per merge, not the whole corpus.
import { InputError } from '../../errors.js';
import { GPT2_SPLIT_PATTERN, byteToChar } from './byte-level.js';
import type { HfTokenizerJson } from './hf-tokenizer.js';

export interface TrainBpeOptions {
  /** Final vocabulary size: special tokens + 256 bytes + merges. */
  readonly vocabSize: number;
  /** A pair must occur at least this often (counting word frequency) to be merged. Default 2. */
  readonly minFrequency?: number;
  /** Special tokens, given ids 0, 1, ... and never split or learned from. Default ["<|endoftext|>"]. */
  readonly specialTokens?: readonly string[];
}

const PAIR_KEY = 2 ** 21; // pair (a, b) -> a * PAIR_KEY + b, exact below 2^53
const BINARY_FRACTION = 0.01; // more control characters / U+FFFD than this and the "text" is binary

/**
 * Each element of `texts` is one document (a word is never split across elements). The result is deterministic:
 * ties between equally frequent pairs go to the pair with the smaller ids.
 */
export async function trainByteLevelBpe(texts: AsyncIterable<string> | Iterable<string>, opts: TrainBpeOptions): Promise<HfTokenizerJson> {
  const specials = [...(opts.specialTokens ?? ['<|endoftext|>'])];
  const minFrequency = opts.minFrequency ?? 2;
  const base = specials.length + 256;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < base || opts.vocabSize > PAIR_KEY) {
    throw new InputError(`vocabSize must be an integer from ${base} (${specials.length} special tokens + 256 bytes) to ${PAIR_KEY}, got ${opts.vocabSize}`, { vocabSize: opts.vocabSize });
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new InputError(`minFrequency must be an integer >= 1, got ${minFrequency}`);
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    throw new InputError(`specialTokens must be distinct non-empty strings, got ${JSON.stringify(specials)}`);
  }

  const pieces: string[] = [...specials, ...byteToChar];
  const alphabet = new Set(byteToChar);
  const clash = specials.find((t) => alphabet.has(t));
  if (clash !== undefined) throw new InputError(`special token ${JSON.stringify(clash)} is also a byte-level character; special tokens need at least two characters`);

  const wordCounts = await countWords(texts, specials);
  const merges = learnMerges(wordCounts, pieces, specials.length, opts.vocabSize, minFrequency);
  return tokenizerJson(specials, pieces, merges);
}

/** Splits documents into GPT-2 words (special tokens cut out) and counts them; rejects empty and binary input. */
async function countWords(texts: AsyncIterable<string> | Iterable<string>, specials: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const specialSplit = specials.length ? new RegExp(specials.map(escapeRegExp).join('|'), 'g') : null;
  let chars = 0;
  let suspicious = 0;
  let documents = 0;
  for await (const text of texts) {
    if (typeof text !== 'string') throw new InputError(`training texts must be strings, found ${typeof text} in document ${documents}`);
    documents++;
    chars += text.length;
    if (text.includes('\0')) throw new InputError(`document ${documents - 1} contains NUL bytes: this looks like binary data, not text`);
    // eslint-disable-next-line no-control-regex
    suspicious += (text.match(/[\u0001-\u0008\u000e-\u001f\u007f\ufffd]/g) ?? []).length;
    for (const part of specialSplit ? text.split(specialSplit) : [text]) {
      for (const m of part.matchAll(GPT2_SPLIT_PATTERN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
  if (chars === 0) throw new InputError(`no text to train on (${documents} documents, all empty)`);
  if (suspicious > BINARY_FRACTION * chars) {
    throw new InputError(`${((100 * suspicious) / chars).toFixed(1)}% of the characters are control characters or U+FFFD (invalid UTF-8): this looks like binary data, not text`);
  }
  if (counts.size === 0) throw new InputError('no text to train on: the documents hold only special tokens');
  return counts;
}

/**
 * Learns merges until `pieces` (specials, then the 256 byte characters from id firstByteId) holds vocabSize
 * entries; appends the new pieces and returns the merges as [left, right] pieces. Like the Rust trainer, a merge
 * whose result already exists (e.g. "ab"+"c" after "a"+"bc") reuses that id: it adds a merge, not a token.
 */
function learnMerges(wordCounts: Map<string, number>, pieces: string[], firstByteId: number, vocabSize: number, minFrequency: number): [string, string][] {
  const enc = new TextEncoder();
  const idOf = new Map<string, number>(pieces.map((p, id) => [p, id]));
  const words: Int32Array[] = [];
  const freq: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Int32Array.from(enc.encode(word), (b) => b + firstByteId));
    freq.push(count);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>(); // may list a word twice or after it lost the pair: checked on use
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i]! * PAIR_KEY + w[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[wi]!);
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      list.push(wi);
    }
  });
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push(count, key);

  const merges: [string, string][] = [];
  const visited = new Int32Array(words.length).fill(-1);
  while (pieces.length < vocabSize) {
    const best = popValid(heap, pairCount);
    if (best === null || best.count < minFrequency) {
      throw new InputError(
        `the text supports a vocabulary of only ${pieces.length} tokens (no pair left seen at least minFrequency=${minFrequency} times), ` +
          `but vocabSize is ${vocabSize}; use a smaller vocabSize, more text, or a lower minFrequency`,
        { supportedVocabSize: pieces.length, vocabSize },
      );
    }
    const a = Math.floor(best.key / PAIR_KEY);
    const b = best.key % PAIR_KEY;
    const piece = pieces[a]! + pieces[b]!;
    let c = idOf.get(piece);
    if (c === undefined) {
      c = pieces.length;
      pieces.push(piece);
      idOf.set(piece, c);
    }
    merges.push([pieces[a]!, pieces[b]!]);
    const stamp = merges.length;
    const changed = new Set<number>();
    for (const wi of pairWords.get(best.key) ?? []) {
      if (visited[wi] === stamp) continue;
      visited[wi] = stamp;
      const old = words[wi]!;
      const merged = mergeWord(old, a, b, c);
      if (merged === old) continue;
      const f = freq[wi]!;
      for (let i = 0; i + 1 < old.length; i++) addPair(pairCount, changed, old[i]! * PAIR_KEY + old[i + 1]!, -f);
      for (let i = 0; i + 1 < merged.length; i++) {
        const key = merged[i]! * PAIR_KEY + merged[i + 1]!;
        addPair(pairCount, changed, key, f);
        if (merged[i] === c || merged[i + 1] === c) {
          let list = pairWords.get(key);
          if (!list) pairWords.set(key, (list = []));
          list.push(wi);
        }
      }
      words[wi] = merged;
    }
    pairWords.delete(best.key);
    for (const key of changed) {
      const count = pairCount.get(key) ?? 0;
      if (count > 0) heap.push(count, key);
      else pairCount.delete(key);
    }
  }
  return merges;
}

/** Replaces non-overlapping (a, b) left to right; returns `word` itself when nothing changed. */
function mergeWord(word: Int32Array, a: number, b: number, c: number): Int32Array {
  let out: number[] | null = null;
  for (let i = 0; i < word.length; i++) {
    if (word[i] === a && word[i + 1] === b && i + 1 < word.length) {
      out ??= Array.from(word.subarray(0, i));
      out.push(c);
      i++;
    } else if (out) {
      out.push(word[i]!);
    }
  }
  return out ? Int32Array.from(out) : word;
}

function addPair(pairCount: Map<number, number>, changed: Set<number>, key: number, delta: number): void {
  pairCount.set(key, (pairCount.get(key) ?? 0) + delta);
  changed.add(key);
}

/** Pops entries until one matches the pair's current count (older entries are stale). */
function popValid(heap: PairHeap, pairCount: Map<number, number>): { count: number; key: number } | null {
  while (heap.size > 0) {
    const top = heap.pop();
    if (top.count > 0 && pairCount.get(top.key) === top.count) return top;
  }
  return null;
}

/** Max-heap of (count, pair key); ties go to the smaller key, i.e. the smaller (left, right) ids. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  push(count: number, key: number): void {
    let i = this.counts.length;
    this.counts.push(count);
    this.keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, key, this.counts[p]!, this.keys[p]!)) break;
      this.counts[i] = this.counts[p]!;
      this.keys[i] = this.keys[p]!;
      i = p;
    }
    this.counts[i] = count;
    this.keys[i] = key;
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    const n = this.counts.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && this.before(this.counts[r]!, this.keys[r]!, this.counts[l]!, this.keys[l]!) ? r : l;
        if (!this.before(this.counts[child]!, this.keys[child]!, lastCount, lastKey)) break;
        this.counts[i] = this.counts[child]!;
        this.keys[i] = this.keys[child]!;
        i = child;
      }
      this.counts[i] = lastCount;
      this.keys[i] = lastKey;
    }
    return top;
  }
  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
}

function tokenizerJson(specials: readonly string[], pieces: readonly string[], merges: readonly [string, string][]): HfTokenizerJson {
  const vocab: Record<string, number> = {};
  pieces.forEach((p, id) => (vocab[p] = id));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "a b" strings: byte-level pieces never contain a space (it is "Ġ"), and every tokenizers version reads this form.
      merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
