// Shared by the tokenizer tests: paths to ../shared data and small generated tokenizer.json fixtures.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteToChar } from './byte-level.js';
import type { HfTokenizerJson } from './hf-tokenizer.js';

// dist/model/tokenizers/ -> repository root -> ../shared
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Absolute path of a file under ../shared, or null when it is absent (tests then skip). */
export function sharedFile(relative: string): string | null {
  const p = join(repoRoot, '..', 'shared', relative);
  return existsSync(p) ? p : null;
}

export const TOK512 = 'models/stories260K/tok512.bin';
export const TINYSTORIES = 'data/tinystories-sample.txt';

/**
 * A small GPT-2-style tokenizer: the 256 byte characters as ids 0..255 (in byte order), then one id per merge,
 * then "<|endoftext|>" as an added special token, like GPT-2's 50256.
 */
export function gpt2StyleJson(merges: [string, string][]): HfTokenizerJson {
  const vocab: Record<string, number> = {};
  byteToChar.forEach((c, b) => (vocab[c] = b));
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const eot = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = eot;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}

/**
 * A small Llama-style (sentencepiece BPE) tokenizer as transformers' converter writes it: <unk> <s> </s>, the 256
 * byte pieces <0x00>..<0xFF> (ids 3..258), then `chars`, then one id per merge. `style` picks the legacy layout
 * (normalizer Prepend "▁" + Replace " "->"▁", decoder Replace/ByteFallback/Fuse/Strip) or the newer Metaspace one.
 */
export function llamaStyleJson(chars: string[], merges: [string, string][], style: 'legacy' | 'metaspace' = 'legacy'): HfTokenizerJson {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = b + 3;
  for (const c of chars) vocab[c] ??= Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const legacy = style === 'legacy';
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: legacy
      ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] }
      : null,
    pre_tokenizer: legacy ? null : { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: legacy
      ? {
          type: 'Sequence',
          decoders: [
            { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
            { type: 'ByteFallback' },
            { type: 'Fuse' },
            { type: 'Strip', content: ' ', start: 1, stop: 0 },
          ],
        }
      : { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}
