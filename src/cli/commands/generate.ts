// `loupe generate`: sample a continuation of a prompt, streaming tokens to stdout as they come; with
// several prompts (repeated --prompt, --prompts-file) they decode together as one batch (generateBatch)
// and each row is printed when all are done.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { generate, generateBatch, type Tokenizer, type Transformer } from '../../model/index.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer, parseIds } from './model-common.js';

interface GenerateFlags {
  model: string;
  tokenizer?: string;
  prompt: string[];
  promptsFile?: string;
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
    .description('Generate text from a prompt, or from several as one batch (greedy with --temperature 0), with a KV cache')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: tokenizer.json beside an HF checkpoint)')
    .option('--prompt <text>', 'prompt text; repeat for several prompts, generated as one batch (default: empty, BOS only)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--prompts-file <file>', 'more prompts, one per line (blank lines skipped), after any --prompt')
    .option('--max-new-tokens <n>', 'tokens to generate', parseIntOption('max-new-tokens', 0), 128)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', parseFloatOption('temperature', 0), 1)
    .option('--top-k <k>', 'sample from the k most likely tokens', parseIntOption('top-k', 1))
    .option('--top-p <p>', 'nucleus sampling: smallest set with probability >= p', parseFloatOption('top-p', 0, 1))
    .option('--seed <n>', 'sampler seed (prompt i of several: seed + i)', parseIntOption('seed', 0), 0)
    .option('--no-bos', 'do not prepend the BOS token to the prompt')
    .option('--stop <ids>', 'comma-separated stop token ids (default: the model\'s EOS and BOS)')
    .option('--json', 'print {"prompt_ids", "ids", "text", "stop_reason"} on one line instead of streaming; with several prompts {"results": [{"prompt", "prompt_ids", "text", "ids", "stop_reason"}, ...]}')
    .action(async (f: GenerateFlags) => {
      const prompts = promptTexts(f);
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      if (prompts.length > 1) return generateMany(model, tokenizer!, prompts, f);
      const promptIds = tokenizer!.encode(prompts[0]!, { bos: f.bos });
      if (!f.json) process.stdout.write(tokenizer!.decode(promptIds));
      const result = generate(model, tokenizer, promptIds, {
        ...decodingOptions(f),
        onText: f.json ? undefined : (piece) => process.stdout.write(piece),
      });
      if (f.json) printJson({ prompt_ids: promptIds, ids: result.ids, text: result.text, stop_reason: result.stopReason });
      else process.stdout.write('\n');
    });
}

/** What one prompt or a batch of them decodes with: length, sampler, seed, stop tokens. */
function decodingOptions(f: GenerateFlags) {
  return {
    maxNewTokens: f.maxNewTokens,
    temperature: f.temperature,
    topK: f.topK,
    topP: f.topP,
    seed: f.seed,
    stopTokens: f.stop !== undefined ? parseIds(f.stop, '--stop') : undefined,
  };
}

function promptTexts(f: GenerateFlags): string[] {
  const prompts = f.prompt.slice();
  if (f.promptsFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(f.promptsFile, 'utf8');
    } catch {
      throw new InputError(`--prompts-file ${f.promptsFile}: cannot read the file`);
    }
    const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
    if (lines.length === 0) throw new InputError(`--prompts-file ${f.promptsFile}: no prompts (one per line)`);
    prompts.push(...lines);
  }
  return prompts.length > 0 ? prompts : [''];
}

/** Several prompts as one batch; row i samples with seed + i. */
function generateMany(model: Transformer, tokenizer: Tokenizer, prompts: string[], f: GenerateFlags): void {
  const promptIds = prompts.map((p) => tokenizer.encode(p, { bos: f.bos }));
  const results = generateBatch(model, tokenizer, promptIds, decodingOptions(f));
  if (f.json) {
    printJson({ results: results.map((r, i) => ({ prompt: prompts[i], prompt_ids: promptIds[i], text: r.text, ids: r.ids, stop_reason: r.stopReason })) });
    return;
  }
  results.forEach((r, i) => process.stdout.write(`--- prompt ${i + 1} of ${prompts.length} ---\n${tokenizer.decode(promptIds[i]!)}${r.text}\n`));
}
