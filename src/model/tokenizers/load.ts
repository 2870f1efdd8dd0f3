// loadTokenizer: one entry point for every tokenizer file Loupe reads, chosen by name and then by content.
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FormatError, InputError } from '../../errors.js';
import { parseHfTokenizer, type HfTokenizerOptions, loadHfTokenizer } from './hf-tokenizer.js';
import { parseLlama2cTokenizer } from './llama2c.js';
import type { Tokenizer } from './tokenizer.js';

export interface LoadTokenizerOptions extends HfTokenizerOptions {
  /**
   * The model's vocabulary size, to catch a tokenizer that does not belong to the model: a llama2.c file must
   * hold exactly this many tokens; a tokenizer.json must not produce ids at or above it (models may pad).
   */
  readonly vocabSize?: number;
}

/** Loads a llama2.c tokenizer .bin, a tokenizer.json, or a directory holding tokenizer.json. */
export async function loadTokenizer(path: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new InputError(`tokenizer not found: ${path}`, { path });
  }
  if (isDir) {
    const inner = join(path, 'tokenizer.json');
    try {
      await stat(inner);
    } catch {
      throw new InputError(`${path} is a directory without tokenizer.json; pass a tokenizer.json or a llama2.c tokenizer .bin`, { path });
    }
    return checkVocab(await loadHfTokenizer(inner, opts), inner, opts.vocabSize);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.model') {
    throw new FormatError(path, 'sentencepiece .model files are not read; use the tokenizer.json, or export a .bin with llama2.c\'s tokenizer.py');
  }
  if (ext === '.json') return checkVocab(await loadHfTokenizer(path, opts), path, opts.vocabSize);
  const data = await readFile(path);
  if (ext === '.bin') return parseLlama2cTokenizer(data, path, { vocabSize: opts.vocabSize });
  // Unknown name: JSON starts with "{", anything else is tried as llama2.c.
  const first = data.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b) return checkVocab(parseHfTokenizer(data.toString('utf8'), path, opts), path, opts.vocabSize);
  try {
    return parseLlama2cTokenizer(data, path, { vocabSize: opts.vocabSize });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FormatError(path, `${basename(path)} is neither a tokenizer.json nor a llama2.c tokenizer .bin (read as .bin: ${why})`);
  }
}

function checkVocab(tokenizer: Tokenizer, path: string, modelVocab: number | undefined): Tokenizer {
  if (modelVocab !== undefined && tokenizer.vocabSize > modelVocab) {
    throw new FormatError(path, `has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${modelVocab}: this tokenizer does not belong to the model`);
  }
  return tokenizer;
}
