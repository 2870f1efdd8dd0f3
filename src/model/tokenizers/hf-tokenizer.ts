// Hugging Face tokenizer.json (BPE models: GPT-2 byte-level and sentencepiece-style Llama with byte fallback).
// Encoding and whole-sequence decoding are done by @huggingface/tokenizers (Hugging Face's own pure-JS port,
// synchronous, no dependencies); this file validates the JSON, replaces the post-processor's BOS/EOS insertion
// by the explicit options, and adds per-token bytes for streaming, which the library does not offer.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer as HfLibTokenizer } from '@huggingface/tokenizers';
import { FormatError, InputError } from '../../errors.js';
import { byteLevelToBytes, byteToChar } from './byte-level.js';
import { checkTokenId, type DecodeOptions, type EncodeOptions, type Tokenizer } from './tokenizer.js';

export interface HfAddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** The parts of tokenizer.json this loader reads; the pipeline components stay loose JSON. */
export interface HfTokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens: HfAddedToken[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type: 'BPE';
    vocab: Record<string, number>;
    merges: (string | [string, string])[];
    unk_token?: string | null;
    byte_fallback?: boolean;
    [key: string]: unknown;
  };
}

export interface HfTokenizerOptions {
  /** BOS token content; null for none. Default: the post-processor template's first special token, else a usual name. */
  readonly bosToken?: string | null;
  /** EOS token content; null for none. Default: the template's last special token, else a usual name. */
  readonly eosToken?: string | null;
}

/** The slice of the library's Tokenizer we call (its published typings do not resolve under NodeNext). */
interface LibTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: (number | undefined)[]; tokens: string[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  id_to_token(id: number): string | undefined;
  token_to_id(token: string): number | undefined;
}

type PieceStyle =
  | { kind: 'byte-level' }
  | { kind: 'metaspace'; replacement: string; byteFallback: boolean; stripStart: boolean }
  | { kind: 'library' };

const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<bos>', '<|bos|>', '<|startoftext|>', '<|endoftext|>'];
const EOS_NAMES = ['</s>', '<|end_of_text|>', '<eos>', '<|eos|>', '<|endoftext|>'];
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export class HfTokenizer implements Tokenizer {
  readonly kind = 'hf-bpe' as const;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** The validated tokenizer.json. */
  readonly json: HfTokenizerJson;
  private readonly lib: LibTokenizer;
  private readonly addedById = new Map<number, HfAddedToken>();
  private readonly style: PieceStyle;
  private readonly where: string;

  constructor(json: unknown, where = 'tokenizer.json', opts: HfTokenizerOptions = {}) {
    this.where = where;
    this.json = validateTokenizerJson(json, where);
    let maxId = -1;
    for (const id of Object.values(this.json.model.vocab)) maxId = Math.max(maxId, id);
    for (const t of this.json.added_tokens) {
      this.addedById.set(t.id, t);
      maxId = Math.max(maxId, t.id);
    }
    this.vocabSize = maxId + 1;
    try {
      // clean_up_tokenization_spaces would rewrite " ," to "," and break round trips; the Rust library never does it.
      this.lib = new HfLibTokenizer(this.json, { clean_up_tokenization_spaces: false }) as unknown as LibTokenizer;
    } catch (err) {
      throw new FormatError(where, `could not build the tokenizer: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.style = pieceStyle(this.json);
    checkCoverage(this.json, where);
    this.bosId = this.resolveSpecial(opts.bosToken, 'first', BOS_NAMES, 'bosToken');
    this.eosId = this.resolveSpecial(opts.eosToken, 'last', EOS_NAMES, 'eosToken');
  }

  encode(text: string, opts: EncodeOptions): number[] {
    if (opts.bos && this.bosId === null) throw new InputError(`${this.where}: bos requested but this tokenizer has no BOS token`);
    if (opts.eos && this.eosId === null) throw new InputError(`${this.where}: eos requested but this tokenizer has no EOS token`);
    const out: number[] = [];
    if (opts.bos) out.push(this.bosId!);
    if (text.length > 0) {
      // add_special_tokens false: the post-processor must not add BOS/EOS behind our back.
      const { ids, tokens } = this.lib.encode(text, { add_special_tokens: false });
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === undefined) {
          throw new FormatError(this.where, `cannot encode the piece ${JSON.stringify(tokens[i])}: not in the vocabulary, and there is no unk_token or byte fallback`);
        }
        out.push(id);
      }
    }
    if (opts.eos) out.push(this.eosId!);
    return out;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    for (const id of ids) checkTokenId(id, this.vocabSize, 'decode');
    const skip = opts.skipSpecial ?? true;
    const kept = skip ? ids.filter((id) => !this.isSpecial(id)) : ids.slice();
    if (kept.length === 0) return '';
    return this.lib.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  tokenBytes(id: number, prevId?: number): Uint8Array {
    checkTokenId(id, this.vocabSize, 'tokenBytes');
    const piece = this.lib.id_to_token(id) ?? '';
    const enc = new TextEncoder();
    if (this.addedById.has(id)) return enc.encode(piece); // added tokens are kept verbatim by every decoder
    switch (this.style.kind) {
      case 'byte-level':
        return byteLevelToBytes(piece);
      case 'metaspace': {
        const m = this.style.byteFallback ? BYTE_PIECE.exec(piece) : null;
        if (m) return Uint8Array.of(parseInt(m[1]!, 16));
        let s = piece.replaceAll(this.style.replacement, ' ');
        // The decoder strips the space that the normalizer put before the first word.
        if (this.style.stripStart && (prevId === undefined || prevId === this.bosId) && s.startsWith(' ')) s = s.slice(1);
        return enc.encode(s);
      }
      case 'library':
        return enc.encode(this.lib.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
    }
  }

  decodeToken(id: number, prevId?: number): string {
    return new TextDecoder().decode(this.tokenBytes(id, prevId));
  }

  tokenString(id: number): string {
    checkTokenId(id, this.vocabSize, 'tokenString');
    return this.lib.id_to_token(id) ?? '';
  }

  tokenId(piece: string): number | null {
    return this.lib.token_to_id(piece) ?? null;
  }

  isSpecial(id: number): boolean {
    return id === this.bosId || id === this.eosId || this.addedById.get(id)?.special === true;
  }

  /** An explicit name, else the post-processor template, else the first usual name present. */
  private resolveSpecial(explicit: string | null | undefined, end: 'first' | 'last', names: string[], option: string): number | null {
    if (explicit === null) return null;
    if (explicit !== undefined) {
      const id = this.lib.token_to_id(explicit);
      if (id === undefined) throw new InputError(`${this.where}: ${option} ${JSON.stringify(explicit)} is not in the vocabulary`);
      return id;
    }
    const fromTemplate = templateSpecial(this.json.post_processor, end);
    if (fromTemplate !== undefined) {
      const id = this.lib.token_to_id(fromTemplate);
      if (id !== undefined) return id;
    }
    for (const name of names) {
      const id = this.lib.token_to_id(name);
      if (id !== undefined) return id;
    }
    return null;
  }
}

/** Builds a tokenizer from a parsed tokenizer.json object or its text. */
export function parseHfTokenizer(json: unknown, where = 'tokenizer.json', opts: HfTokenizerOptions = {}): HfTokenizer {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (err) {
      throw new FormatError(where, `is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return new HfTokenizer(json, where, opts);
}

/**
 * Loads tokenizer.json; BOS/EOS names come from opts, else from a tokenizer_config.json beside it
 * (bos_token / eos_token), else from the post-processor template or the usual names.
 */
export async function loadHfTokenizer(path: string, opts: HfTokenizerOptions = {}): Promise<HfTokenizer> {
  const text = await readFile(path, 'utf8');
  const config = await readTokenizerConfig(join(dirname(path), 'tokenizer_config.json'));
  return parseHfTokenizer(text, path, {
    bosToken: opts.bosToken !== undefined ? opts.bosToken : config.bosToken,
    eosToken: opts.eosToken !== undefined ? opts.eosToken : config.eosToken,
  });
}

async function readTokenizerConfig(path: string): Promise<{ bosToken?: string; eosToken?: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {}; // optional file
  }
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (err) {
    throw new FormatError(path, `is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  // A token there is a string or an AddedToken object {content: ...}.
  const name = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : isRecord(v) && typeof v.content === 'string' ? v.content : undefined;
  if (!isRecord(cfg)) return {};
  const out: { bosToken?: string; eosToken?: string } = {};
  const bos = name(cfg.bos_token);
  const eos = name(cfg.eos_token);
  if (bos !== undefined) out.bosToken = bos;
  if (eos !== undefined) out.eosToken = eos;
  return out;
}

function validateTokenizerJson(json: unknown, where: string): HfTokenizerJson {
  if (!isRecord(json)) throw new FormatError(where, `expected a JSON object (tokenizer.json), found ${json === null ? 'null' : typeof json}`);
  const model = json.model;
  if (!isRecord(model)) throw new FormatError(where, 'has no "model" object');
  const type = model.type ?? (model.merges !== undefined ? 'BPE' : undefined);
  if (type !== 'BPE') {
    throw new FormatError(where, `model type ${JSON.stringify(type)} is not supported; Loupe reads BPE tokenizers (GPT-2 byte-level, Llama sentencepiece-style)`);
  }
  if (!isRecord(model.vocab)) throw new FormatError(where, 'model.vocab must be an object {piece: id}');
  const seen = new Map<number, string>();
  for (const [piece, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new FormatError(where, `model.vocab[${JSON.stringify(piece)}] is ${JSON.stringify(id)}; expected a non-negative integer id`);
    const other = seen.get(id as number);
    if (other !== undefined) throw new FormatError(where, `model.vocab gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(piece)}`);
    seen.set(id as number, piece);
  }
  if (!Array.isArray(model.merges)) throw new FormatError(where, 'model.merges must be an array');
  // A merge whose result is missing from the vocabulary would make the model drop text silently.
  const prefix = model.continuing_subword_prefix;
  const plainMerges = prefix === undefined || prefix === null || prefix === '';
  const vocab = model.vocab;
  model.merges.forEach((m, i) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'string' && x.length > 0)) {
      throw new FormatError(where, `model.merges[${i}] is ${JSON.stringify(m)}; expected "a b" (one space) or ["a", "b"]`);
    }
    if (plainMerges && !(Object.hasOwn(vocab, pair[0]) && Object.hasOwn(vocab, pair[1]) && Object.hasOwn(vocab, pair[0] + pair[1]))) {
      throw new FormatError(where, `model.merges[${i}] ${JSON.stringify(m)} uses or makes a piece that is not in model.vocab`);
    }
  });
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new FormatError(where, 'added_tokens must be an array');
  added.forEach((t, i) => {
    if (!isRecord(t) || !Number.isInteger(t.id) || (t.id as number) < 0 || typeof t.content !== 'string' || t.content.length === 0) {
      throw new FormatError(where, `added_tokens[${i}] must be {id: non-negative integer, content: non-empty string, ...}`);
    }
    const other = seen.get(t.id as number);
    if (other !== undefined && other !== t.content) {
      throw new FormatError(where, `added_tokens[${i}] gives id ${t.id} to ${JSON.stringify(t.content)}, but the vocab has ${JSON.stringify(other)} there`);
    }
  });
  // The library wants every pipeline key present; tokenizer.json files written by the Rust library always have them.
  return {
    ...json,
    added_tokens: added as HfAddedToken[],
    normalizer: json.normalizer ?? null,
    pre_tokenizer: json.pre_tokenizer ?? null,
    post_processor: json.post_processor ?? null,
    decoder: json.decoder ?? null,
    model: { ...model, type: 'BPE' } as HfTokenizerJson['model'],
  };
}

/**
 * Without an unk token, a character the vocabulary cannot spell is silently dropped by the BPE model (in the Rust
 * library too). Refuse such files unless every byte can be spelled: the byte-level alphabet or <0xNN> fallback.
 */
function checkCoverage(json: HfTokenizerJson, where: string): void {
  const vocab = json.model.vocab;
  const unk = json.model.unk_token;
  if (typeof unk === 'string' && Object.hasOwn(vocab, unk)) return;
  const byteLevel = flatten(json.pre_tokenizer, 'pretokenizers').some((p) => p.type === 'ByteLevel');
  if (byteLevel && byteToChar.every((c) => Object.hasOwn(vocab, c))) return;
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  if (json.model.byte_fallback === true && byteToChar.every((_, b) => Object.hasOwn(vocab, hex(b)))) return;
  throw new FormatError(
    where,
    'has no unk_token and cannot spell every byte (no complete byte-level alphabet or <0xNN> byte fallback): characters outside the vocabulary would be dropped silently',
  );
}

/** How one token's piece turns into bytes, read off the decoder pipeline. */
function pieceStyle(json: HfTokenizerJson): PieceStyle {
  const decoders = flatten(json.decoder, 'decoders');
  if (decoders.some((d) => d.type === 'ByteLevel')) return { kind: 'byte-level' };
  const metaspace = decoders.find((d) => d.type === 'Metaspace');
  const replace = decoders.find((d) => d.type === 'Replace' && isRecord(d.pattern) && d.content === ' ');
  const byteFallback = decoders.some((d) => d.type === 'ByteFallback');
  if (!metaspace && !replace && !byteFallback) return { kind: 'library' };
  const replacement = metaspace
    ? typeof metaspace.replacement === 'string' ? metaspace.replacement : '\u2581'
    : replace && isRecord(replace.pattern) && typeof replace.pattern.String === 'string' ? replace.pattern.String : '\u2581';
  const stripStart =
    decoders.some((d) => d.type === 'Strip' && d.content === ' ' && typeof d.start === 'number' && d.start > 0) ||
    (metaspace !== undefined && metaspace.prepend_scheme !== 'never' && metaspace.add_prefix_space !== false);
  return { kind: 'metaspace', replacement, byteFallback: byteFallback && json.model.byte_fallback !== false, stripStart };
}

/** The content of the first or last SpecialToken in a TemplateProcessing "single" template, if any. */
function templateSpecial(postProcessor: unknown, end: 'first' | 'last'): string | undefined {
  for (const p of flatten(postProcessor, 'processors')) {
    if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) continue;
    const items = p.single as unknown[];
    const item = end === 'first' ? items[0] : items[items.length - 1];
    if (isRecord(item) && isRecord(item.SpecialToken) && typeof item.SpecialToken.id === 'string') {
      const name = item.SpecialToken.id;
      const spec = isRecord(p.special_tokens) ? p.special_tokens[name] : undefined;
      if (isRecord(spec) && Array.isArray(spec.tokens) && typeof spec.tokens[0] === 'string') return spec.tokens[0];
      return name;
    }
  }
  return undefined;
}

/** A component or a Sequence of them, as a flat list. */
function flatten(component: unknown, key: 'decoders' | 'processors' | 'pretokenizers'): Record<string, unknown>[] {
  if (!isRecord(component)) return [];
  if (component.type === 'Sequence' && Array.isArray(component[key])) {
    return (component[key] as unknown[]).flatMap((c) => flatten(c, key));
  }
  return [component];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
