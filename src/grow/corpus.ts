// Training text -> documents -> token streams. Each document is encoded on its own and prefixed with the
// tokenizer's special token (<|endoftext|>, id 0), GPT-2 style, so the model learns where stories start
// and generation can begin from that token alone. The last documents are held out for evaluation.
import * as fs from 'node:fs';
import { InputError } from '../errors.js';
import { readDocuments } from '../io/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import type { DataSpec } from './spec.js';

export type DocumentSplit = Exclude<DataSpec['split'], 'auto'>;

/** Average non-blank line length above which a plain-text file is taken to hold unwrapped paragraphs. */
const UNWRAPPED_LINE_CHARS = 120;

/**
 * 'auto' resolves from the start of the file: unwrapped paragraphs (long lines, TinyStories: 165 characters
 * on average, wrapped prose 30-70) some of which follow each other directly -> 'single-newline' (a blank line
 * separates paragraphs, a plain newline documents: the TinyStories dump layout); anything else (wrapped prose,
 * verse, one long line per document separated by blank lines) -> 'blank-line'. JSONL files ignore the split.
 */
export function chooseSplit(file: string, split: DataSpec['split']): DocumentSplit {
  if (split !== 'auto') return split;
  const head = readHead(file, 256 * 1024);
  const all = head.split(/\r?\n/);
  const lines = all.filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'blank-line';
  const avg = lines.reduce((s, l) => s + l.length, 0) / lines.length;
  let adjacent = 0;
  for (let i = 1; i < all.length - 1; i++) if (all[i]!.trim() !== '' && all[i - 1]!.trim() !== '') adjacent++;
  return avg >= UNWRAPPED_LINE_CHARS && adjacent > 0 ? 'single-newline' : 'blank-line';
}

export interface DocumentSets {
  train: string[];
  heldout: string[];
  split: DocumentSplit;
}

/**
 * Read the documents and hold out the last `valFraction` of them (at least one). A file that is one
 * document is cut by characters instead, at a line break near the cut point.
 */
export async function readDocumentSets(file: string, split: DataSpec['split'], valFraction: number): Promise<DocumentSets> {
  const chosen = chooseSplit(file, split);
  const docs: string[] = [];
  for await (const d of readDocuments(file, { split: chosen })) docs.push(d);
  if (docs.length >= 2) {
    const nHeld = Math.min(docs.length - 1, Math.max(1, Math.round(docs.length * valFraction)));
    return { train: docs.slice(0, docs.length - nHeld), heldout: docs.slice(docs.length - nHeld), split: chosen };
  }
  const text = docs[0]!;
  let cut = Math.floor(text.length * (1 - valFraction));
  const nl = text.indexOf('\n', cut);
  if (nl > 0 && nl < text.length - 1) cut = nl + 1;
  const train = text.slice(0, cut);
  const heldout = text.slice(cut);
  if (train.trim() === '' || heldout.trim() === '') throw new InputError(`${file}: too little text to hold out ${valFraction} of it for evaluation`);
  return { train: [train], heldout: [heldout], split: chosen };
}

/** A token stream: documents back to back, each starting with the separator token. */
export interface TokenStreamData {
  ids: Int32Array;
  /** Offset of each document's separator token in ids. */
  docStarts: Int32Array;
}

export function encodeDocuments(tokenizer: Tokenizer, docs: readonly string[], separatorId: number): TokenStreamData {
  const parts: number[][] = [];
  let total = 0;
  for (const d of docs) {
    const ids = tokenizer.encode(d, { bos: false });
    parts.push(ids);
    total += ids.length + 1;
  }
  const ids = new Int32Array(total);
  const docStarts = new Int32Array(parts.length);
  let o = 0;
  parts.forEach((p, i) => {
    docStarts[i] = o;
    ids[o++] = separatorId;
    ids.set(p, o);
    o += p.length;
  });
  return { ids, docStarts };
}

/** The id of the tokenizer's document separator: its BOS (for trained tokenizers <|endoftext|>, id 0). */
export function separatorIdOf(tokenizer: Tokenizer): number {
  if (tokenizer.bosId !== null) return tokenizer.bosId;
  if (tokenizer.eosId !== null) return tokenizer.eosId;
  const eot = tokenizer.tokenId('<|endoftext|>');
  if (eot !== null) return eot;
  throw new InputError('the tokenizer has no BOS/EOS or <|endoftext|> token to separate documents with');
}

/** The first id after the special tokens (trained tokenizers: specials first, then the 256 bytes). */
export function firstOrdinaryId(t: Tokenizer): number {
  let id = 0;
  while (id < t.vocabSize && t.isSpecial(id)) id++;
  return id;
}

function readHead(file: string, bytes: number): string {
  let fd: number;
  try {
    if (fs.statSync(file).isDirectory()) throw new InputError(`${file}: expected a text file, found a directory`, { path: file });
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: no such file`, { path: file });
  }
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
