// `loupe logits`: the model's logits for a token sequence, one row per position over the whole vocabulary.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { argmax } from '../../model/index.js';
import { printJson } from '../output.js';
import { loadModelAndTokenizer, parseIds } from './model-common.js';

interface LogitsFlags {
  model: string;
  ids?: string;
  text?: string;
  tokenizer?: string;
  bos: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('logits')
    .description('Logits of every position of a token sequence (ids are used exactly as given: no BOS is added)')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--ids <ids>', 'comma-separated token ids, e.g. 1,317,269')
    .option('--text <text>', 'text to encode instead of --ids (needs a tokenizer; BOS prepended unless --no-bos)')
    .option('--tokenizer <path>', 'tokenizer for --text')
    .option('--no-bos', 'with --text: do not prepend BOS')
    .option('--json', 'print {"logits": [[...vocab] per position]} on one line')
    .action(async (f: LogitsFlags) => {
      if ((f.ids === undefined) === (f.text === undefined)) throw new InputError('give exactly one of --ids or --text');
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, f.text !== undefined);
      const ids = f.ids !== undefined ? parseIds(f.ids) : tokenizer!.encode(f.text!, { bos: f.bos });
      const logits = model.forward(ids);
      const V = model.config.vocabSize;
      const rows = ids.map((_, t) => logits.data.subarray(t * V, (t + 1) * V));
      if (f.json) {
        printJson({ logits: rows.map((r) => Array.from(r)) });
        return;
      }
      for (const [t, r] of rows.entries()) {
        const top = argmax(r);
        const piece = tokenizer ? ` ${JSON.stringify(tokenizer.tokenString(top))}` : '';
        process.stdout.write(`${String(t).padStart(4)}  id ${String(ids[t]).padStart(6)}  -> top ${top}${piece}  logit ${r[top]!.toFixed(4)}\n`);
      }
    });
}
