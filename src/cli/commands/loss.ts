// `loupe loss`: mean next-token loss of a model on a text file (windowing in docs/model.md).
import * as fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { textLoss } from '../../analysis/lens/index.js';
import { InputError } from '../../errors.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface LossFlags {
  model: string;
  tokenizer?: string;
  data: string;
  ctx: number;
  bos?: boolean;
  maxWindows?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('loss')
    .description('Mean next-token loss (nats) over a text file: non-overlapping windows of --ctx tokens, BOS first in each by default')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: tokenizer.json beside an HF checkpoint)')
    .requiredOption('--data <file>', 'UTF-8 text file')
    .option('--ctx <n>', 'window length in tokens', parseIntOption('ctx', 1), 256)
    .option('--no-bos', 'feed windows without a BOS token (the first token of each window is then not predicted)')
    .option('--max-windows <n>', 'stop after this many windows', parseIntOption('max-windows', 1))
    .option('--json', 'print {"loss", "tokens", "windows", "ctx", "bos"} on one line')
    .action(async (f: LossFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      let text: string;
      try {
        text = fs.readFileSync(f.data, 'utf8');
      } catch {
        throw new InputError(`--data ${f.data}: cannot read the file`);
      }
      const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'loss |{bar}| {value}/{total} windows', clearOnComplete: true }, cliProgress.Presets.shades_classic);
      let started = false;
      const r = textLoss(model, tokenizer!, text, {
        ctx: f.ctx,
        bos: f.bos === false ? false : undefined,
        maxWindows: f.maxWindows,
        onProgress: (done, total) => {
          if (!started) bar.start(total, 0);
          started = true;
          bar.update(done);
        },
      });
      if (started) bar.stop();
      if (f.json) printJson({ loss: r.loss, tokens: r.tokens, windows: r.windows, ctx: r.ctx, bos: r.bos });
      else process.stdout.write(`loss ${r.loss.toFixed(4)} nats/token (perplexity ${Math.exp(r.loss).toFixed(2)}) over ${r.tokens} tokens in ${r.windows} windows of ${r.ctx}${r.bos ? ', BOS first' : ''}\n`);
    });
}
