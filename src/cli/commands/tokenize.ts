// `loupe tokenize`: text -> token ids with the model's tokenizer. BOS is prepended by default, as run.c does.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FormatError, InputError } from '../../errors.js';
import { CONFIG_FILE, readHfConfig, readLlama2cConfig } from '../../io/index.js';
import { loadTokenizer } from '../../model/tokenizers/index.js';
import { printJson } from '../output.js';

interface TokenizeFlags {
  tokenizer: string;
  model?: string;
  text: string;
  bos: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description('Encode text into token ids (llama2.c tokenizer .bin or tokenizer.json)')
    .requiredOption('--tokenizer <path>', 'llama2.c tokenizer .bin, tokenizer.json, or a directory holding tokenizer.json')
    .option('--model <path>', 'the model, to check that the tokenizer matches its vocabulary size')
    .requiredOption('--text <text>', 'text to encode')
    .option('--no-bos', 'do not prepend the BOS token')
    .option('--json', 'print {"ids": [...]} on one line')
    .action(async (flags: TokenizeFlags) => {
      const vocabSize = flags.model !== undefined ? await modelVocabSize(flags.model) : undefined;
      const tokenizer = await loadTokenizer(flags.tokenizer, vocabSize !== undefined ? { vocabSize } : {});
      const ids = tokenizer.encode(flags.text, { bos: flags.bos });
      if (flags.json) {
        printJson({ ids });
        return;
      }
      const width = String(tokenizer.vocabSize - 1).length;
      const lines = ids.map((id, i) => `${String(i).padStart(4)}  ${String(id).padStart(width)}  ${JSON.stringify(tokenizer.tokenString(id))}`);
      process.stdout.write(`${ids.length} tokens${flags.bos ? ' (BOS first)' : ''}\n   #  ${'id'.padStart(width)}  piece\n${lines.join('\n')}\n`);
    });
}

/** The vocabulary size a model declares: config.json's vocab_size in a Hugging Face directory, else the llama2.c header's. */
async function modelVocabSize(path: string): Promise<number> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new InputError(`model not found: ${path}`, { path });
  }
  if (!isDir) return readLlama2cConfig(path).vocabSize;
  const v = readHfConfig(path).raw.vocab_size;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new FormatError(join(path, CONFIG_FILE), `vocab_size is ${JSON.stringify(v)}; expected a positive integer`);
  }
  return v;
}
