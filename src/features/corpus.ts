// The corpus sample a build studies: documents from a text or JSONL file, tokenised into one stream and
// cut into sequences of `context` tokens (BOS first under the "bos" policy).
//
// Every sequence is canonical: encode(decode(body), {bos}) gives back exactly its ids, where body is
// the ids after the BOS. A window cut from a token stream may not be (a word split at the cut
// re-tokenises differently), so such a window is replaced by the tokenisation of its own text, and
// dropped in the rare case that is still not a fixed point. This is what lets `features inspect` on an
// example's text (the stored decode of the body) reproduce the stored activations exactly.
import { readDocuments, type ReadDocumentsOptions } from '../io/text.js';
import type { Tokenizer } from '../model/tokenizers/index.js';

export interface CorpusOptions {
  file: string;
  /** Tokens per sequence, BOS included. */
  context: number;
  bos: boolean;
  split?: ReadDocumentsOptions['split'];
  field?: string;
}

export interface CorpusSequence {
  ids: number[];
  /** decode(ids without BOS): the text that re-encodes to ids. */
  text: string;
}

export interface CorpusCounters {
  /** Windows replaced by the tokenisation of their own text. */
  canonicalised: number;
  /** Windows dropped because no canonical form fit. */
  dropped: number;
}

/** Streams canonical sequences; stops when the file ends (a final partial window is dropped). */
export async function* corpusSequences(tokenizer: Tokenizer, opts: CorpusOptions, counters: CorpusCounters = { canonicalised: 0, dropped: 0 }): AsyncGenerator<CorpusSequence> {
  const body = opts.context - (opts.bos ? 1 : 0);
  if (body < 1) throw new Error('context too small');
  let buffer: number[] = [];
  for await (const doc of readDocuments(opts.file, { split: opts.split, field: opts.field })) {
    const ids = tokenizer.encode(doc, { bos: false });
    for (const id of ids) buffer.push(id);
    let at = 0;
    while (buffer.length - at >= body) {
      const seq = canonical(tokenizer, buffer.slice(at, at + body), opts, counters);
      at += body;
      if (seq) yield seq;
    }
    buffer = buffer.slice(at);
  }
}

export function canonical(tokenizer: Tokenizer, window: number[], opts: { context: number; bos: boolean }, counters: CorpusCounters): CorpusSequence | null {
  const prefix = opts.bos ? [tokenizer.bosId!] : [];
  let ids = [...prefix, ...window];
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = tokenizer.decode(ids.slice(prefix.length));
    const again = tokenizer.encode(text, { bos: opts.bos });
    if (sameIds(again, ids)) {
      if (attempt > 0) counters.canonicalised++;
      return { ids, text };
    }
    ids = again.slice(0, opts.context);
    if (ids.length <= prefix.length) break;
  }
  counters.dropped++;
  return null;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
