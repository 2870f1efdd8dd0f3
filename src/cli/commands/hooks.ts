// `loupe hooks`: list a model's hook points with their shapes, or print one activation for a prompt.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { hookShape } from '../../model/index.js';
import { printJson } from '../output.js';
import { loadModelAndTokenizer, parseIds } from './model-common.js';

interface HooksFlags {
  model: string;
  tokenizer?: string;
  show?: string;
  ids?: string;
  text?: string;
  bos: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('hooks')
    .description('List hook points (TransformerLens names) with shapes, or show one activation for --ids / --text')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--show <hook>', 'hook point to record, e.g. blocks.0.attn.hook_pattern')
    .option('--ids <ids>', 'comma-separated token ids for --show (used exactly as given)')
    .option('--text <text>', 'text for --show (BOS prepended unless --no-bos)')
    .option('--tokenizer <path>', 'tokenizer for --text')
    .option('--no-bos', 'with --text: do not prepend BOS')
    .option('--json', 'one JSON line: {"hooks": [{name, shape}]} or {"hook", "shape", "values"}')
    .action(async (f: HooksFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, f.text !== undefined);
      if (f.show === undefined) {
        const hooks = model.hookNames().map((name) => ({ name, shape: hookShape(name, model.config) }));
        if (f.json) printJson({ hooks });
        else for (const h of hooks) process.stdout.write(`${h.name.padEnd(36)} [${h.shape.join(', ')}]\n`);
        return;
      }
      if ((f.ids === undefined) === (f.text === undefined)) throw new InputError('--show needs exactly one of --ids or --text');
      const ids = f.ids !== undefined ? parseIds(f.ids) : tokenizer!.encode(f.text!, { bos: f.bos });
      const act = model.run(ids, { cache: [f.show], withGrad: false }).cache.get(f.show);
      if (f.json) {
        printJson({ hook: f.show, shape: act.shape, values: Array.from(act.data) });
        return;
      }
      let sq = 0;
      for (const v of act.data) sq += v * v;
      process.stdout.write(`${f.show} [${act.shape.join(', ')}] (${hookShape(f.show, model.config).join(', ')}): rms ${Math.sqrt(sq / act.size).toFixed(5)}\n`);
    });
}
