// `loupe heads`: previous-token, duplicate-token and induction scores of every head, on repeated random
// tokens (definitions in docs/model.md and analysis/lens/head-detectors.ts).
import type { Command } from 'commander';
import { headScores } from '../../analysis/lens/index.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface HeadsFlags {
  model: string;
  tokenizer?: string;
  seqLen?: number;
  batch: number;
  seed: number;
  bos?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('heads')
    .description('Score every attention head as previous-token, duplicate-token and induction head on repeated random tokens')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'tokenizer, to keep special tokens out of the random sequences')
    .option('--seq-len <n>', 'length of the random block that is repeated (default min(50, context/2))', parseIntOption('seq-len', 2))
    .option('--batch <n>', 'random sequences averaged over', parseIntOption('batch', 1), 8)
    .option('--seed <n>', 'seed of the random tokens', parseIntOption('seed', 0), 0)
    .option('--no-bos', 'do not start the sequences with BOS')
    .option('--json', 'print the scores as one JSON line')
    .action(async (f: HeadsFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, false);
      const s = headScores(model, { seqLen: f.seqLen, batch: f.batch, seed: f.seed, bos: f.bos === false ? false : undefined, tokenizer });
      const layers = s.previousToken.map((row, l) =>
        row.map((_, h) => ({ layer: l, head: h, previous_token: s.previousToken[l]![h]!, duplicate_token: s.duplicateToken[l]![h]!, induction: s.induction[l]![h]! })),
      );
      if (f.json) {
        printJson({ seq_len: s.seqLen, batch: s.batch, seed: s.seed, bos: s.bos, previous_token: s.previousToken, duplicate_token: s.duplicateToken, induction: s.induction, heads: layers.flat() });
        return;
      }
      process.stdout.write(`repeated random tokens: ${s.bos ? 'BOS + ' : ''}${s.seqLen} + ${s.seqLen}, batch ${s.batch}, seed ${s.seed}\nlayer head  prev-token  dup-token  induction\n`);
      for (const h of layers.flat()) {
        process.stdout.write(`${String(h.layer).padStart(5)} ${String(h.head).padStart(4)}  ${h.previous_token.toFixed(4).padStart(10)}  ${h.duplicate_token.toFixed(4).padStart(9)}  ${h.induction.toFixed(4).padStart(9)}\n`);
      }
    });
}
