// Text corpora as fixed-length token windows for harvesting: documents (plain text or JSONL) are encoded
// with BOS at the start of each, concatenated, and cut into windows of `contextSize` tokens; every window
// starts with BOS (prepended when the cut falls inside a document), as SAELens does with prepend_bos.
// A deterministic hash of each document's text assigns it to the train or test split, so held-out
// evaluation never sees a training document, in any order and without reading the file twice.
import { InputError } from '../errors.js';
import { readDocuments, type ReadDocumentsOptions } from '../io/text.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';

export type Split = 'train' | 'test' | 'all';
export const SPLITS: readonly Split[] = ['train', 'test', 'all'];

export interface TextDataOptions {
  /** A .txt (documents split by `documentSplit`) or .jsonl/.ndjson file (field `field`, default "text"). */
  path: string;
  format?: ReadDocumentsOptions['format'];
  field?: string;
  /** Plain text: how documents are separated (io/text.ts; default 'blank-line'). */
  documentSplit?: ReadDocumentsOptions['split'];
  /** Which documents: 'train' (default), 'test' (held out), 'all'. */
  split?: Split;
  /** Fraction of documents held out for 'test' (default 0.1). */
  testFraction?: number;
}

export interface WindowOptions {
  contextSize: number;
  /** Start again from the first document after the last (training on more tokens than the corpus). */
  loop?: boolean;
  /** Skip this many windows first (resuming). */
  skipWindows?: number;
}

/** FNV-1a over the UTF-16 code units: a stable hash for the split. */
export function documentHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function inSplit(text: string, split: Split, testFraction: number): boolean {
  if (split === 'all') return true;
  const isTest = (documentHash(text) % 10_000) / 10_000 < testFraction;
  return split === 'test' ? isTest : !isTest;
}

/** Documents of a file in the chosen split. */
export async function* splitDocuments(data: TextDataOptions): AsyncGenerator<string> {
  const split = data.split ?? 'train';
  if (!SPLITS.includes(split)) throw new InputError(`unknown split "${split}" (expected ${SPLITS.join(', ')})`);
  const fraction = data.testFraction ?? 0.1;
  if (!(fraction >= 0 && fraction <= 1)) throw new InputError(`test fraction must be in [0, 1], got ${fraction}`);
  for await (const doc of readDocuments(data.path, { format: data.format, field: data.field, split: data.documentSplit })) {
    if (inSplit(doc, split, fraction)) yield doc;
  }
}

/**
 * Token windows [contextSize] (the last one may be shorter), each starting with BOS. With `loop`, the
 * corpus repeats forever; without, it ends after one pass.
 */
export async function* tokenWindows(data: TextDataOptions, tokenizer: Tokenizer, opts: WindowOptions): AsyncGenerator<Int32Array> {
  const T = opts.contextSize;
  if (!Number.isInteger(T) || T < 2) throw new InputError(`context size must be an integer >= 2, got ${T}`);
  const bos = tokenizer.bosId;
  if (bos === null) throw new InputError('harvesting needs a tokenizer with a BOS token (windows start with BOS)');
  let skip = opts.skipWindows ?? 0;
  for (let pass = 0; ; pass++) {
    let window: number[] = [];
    let any = false;
    for await (const doc of splitDocuments(data)) {
      const ids = tokenizer.encode(doc, { bos: true });
      for (const id of ids) {
        if (window.length === 0 && id !== bos) window.push(bos);
        window.push(id);
        if (window.length === T) {
          any = true;
          if (skip > 0) skip--;
          else yield Int32Array.from(window);
          window = [];
        }
      }
    }
    if (window.length > 1) {
      any = true;
      if (skip > 0) skip--;
      else yield Int32Array.from(window);
    }
    if (!any || !opts.loop) return;
  }
}

/**
 * Tokens in one pass over the windows of a split, BOS positions left out as harvesting and evaluation
 * leave them out (for progress totals; tokenises without a model).
 */
export async function countWindowTokens(data: TextDataOptions, tokenizer: Tokenizer, contextSize: number): Promise<number> {
  let n = 0;
  for await (const w of tokenWindows(data, tokenizer, { contextSize })) for (const id of w) if (id !== tokenizer.bosId) n++;
  return n;
}
