// `loupe generate`: sample a continuation of a prompt, streaming tokens to stdout as they come.
import type { Command } from 'commander';
import { generate } from '../../model/index.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer, parseIds } from './model-common.js';

interface GenerateFlags {
  model: string;
  tokenizer?: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  bos: boolean;
  stop?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('Generate text from a prompt (greedy with --temperature 0), with a KV cache')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: tokenizer.json beside an HF checkpoint)')
    .option('--prompt <text>', 'prompt text', '')
    .option('--max-new-tokens <n>', 'tokens to generate', parseIntOption('max-new-tokens', 0), 128)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', parseFloatOption('temperature', 0), 1)
    .option('--top-k <k>', 'sample from the k most likely tokens', parseIntOption('top-k', 1))
    .option('--top-p <p>', 'nucleus sampling: smallest set with probability >= p', parseFloatOption('top-p', 0, 1))
    .option('--seed <n>', 'sampler seed', parseIntOption('seed', 0), 0)
    .option('--no-bos', 'do not prepend the BOS token to the prompt')
    .option('--stop <ids>', 'comma-separated stop token ids (default: the model\'s EOS and BOS)')
    .option('--json', 'print {"prompt_ids", "ids", "text", "stop_reason"} on one line instead of streaming')
    .action(async (f: GenerateFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const promptIds = tokenizer!.encode(f.prompt, { bos: f.bos });
      if (!f.json) process.stdout.write(tokenizer!.decode(promptIds));
      const result = generate(model, tokenizer, promptIds, {
        maxNewTokens: f.maxNewTokens,
        temperature: f.temperature,
        topK: f.topK,
        topP: f.topP,
        seed: f.seed,
        stopTokens: f.stop !== undefined ? parseIds(f.stop, '--stop') : undefined,
        onText: f.json ? undefined : (piece) => process.stdout.write(piece),
      });
      if (f.json) printJson({ prompt_ids: promptIds, ids: result.ids, text: result.text, stop_reason: result.stopReason });
      else process.stdout.write('\n');
    });
}
