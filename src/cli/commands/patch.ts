// `loupe patch` (activation and attribution patching between a clean and a corrupted prompt) and
// `loupe ablate` (zero / mean / resample ablation of neurons, heads, features): thin layers over
// src/patching (see docs/patching.md).
import { Option, type Command } from 'commander';
import { tokenWindows } from '../../activations/index.js';
import { InputError } from '../../errors.js';
import {
  ABLATION_METHODS,
  ablationEffect,
  activationPatching,
  answerToken,
  attributionPatching,
  METRIC_KINDS,
  parseSites,
  parseTargets,
  patchReport,
  type AblationMethod,
  type MetricKind,
  type PatchDirection,
  type PatchOptions,
  type PatchResult,
} from '../../patching/index.js';
import { loadSae } from '../../sae/format.js';
import { progress } from '../../util/progress.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface PatchFlags {
  model: string;
  tokenizer?: string;
  clean: string;
  corrupt: string;
  answer?: string;
  wrong?: string;
  answerId?: number;
  wrongId?: number;
  metric: MetricKind;
  sites: string;
  method: 'activation' | 'attribution' | 'both';
  direction: PatchDirection;
  bos: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  registerPatch(program);
  registerAblate(program);
}

function registerPatch(program: Command): void {
  program
    .command('patch')
    .description('Activation / attribution patching between a clean and a corrupted prompt: the effect of each site on the answer metric')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--clean <text>', 'the prompt with the behaviour')
    .requiredOption('--corrupt <text>', 'the same prompt with the decisive part changed (same number of tokens)')
    .option('--answer <token>', 'the right next token (one token)')
    .option('--wrong <token>', 'the wrong next token, for the logit difference')
    .option('--answer-id <id>', 'the right next token by id', parseIntOption('answer-id', 0))
    .option('--wrong-id <id>', 'the wrong next token by id', parseIntOption('wrong-id', 0))
    .addOption(new Option('--metric <m>', 'logit_diff: logit(answer) - logit(wrong); loss: -log p(answer)').choices(METRIC_KINDS).default('logit_diff'))
    .option('--sites <list>', 'resid_pre, resid_mid, resid_post, attn_out, mlp_out, heads, final', 'resid_pre,attn_out,mlp_out,heads')
    .addOption(new Option('--method <m>', 'activation (exact, one run per cell), attribution (gradient estimate, one backward pass), both (+ their agreement)').choices(['activation', 'attribution', 'both']).default('activation'))
    .addOption(new Option('--direction <d>', 'denoise: clean activations into the corrupted run; noise: the reverse').choices(['denoise', 'noise']).default('denoise'))
    .option('--no-bos', 'do not prepend BOS to the prompts')
    .option('--json', 'one JSON line: {clean_metric, corrupt_metric, sites: {resid_pre: [[layer][position]], heads: [[layer][head]], ...}}')
    .action(async (f: PatchFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const tok = tokenizer!;
      const pick = (text: string | undefined, id: number | undefined, role: 'answer' | 'wrong'): number | null => {
        if (text !== undefined && id !== undefined) throw new InputError(`give --${role} or --${role}-id, not both`);
        return id ?? (text !== undefined ? answerToken(tok, text, role) : null);
      };
      const answer = pick(f.answer, f.answerId, 'answer');
      if (answer === null) throw new InputError('patching needs the right answer: --answer TOKEN (or --answer-id ID)');
      const opts: PatchOptions = {
        clean: tok.encode(f.clean, { bos: f.bos }),
        corrupt: tok.encode(f.corrupt, { bos: f.bos }),
        metric: { kind: f.metric, answer, wrong: pick(f.wrong, f.wrongId, 'wrong') },
        sites: parseSites(f.sites),
        direction: f.direction,
      };
      let bar: ReturnType<typeof progress> | null = null;
      opts.onProgress = (done, total) => (bar ??= progress({ label: 'patch', total, unit: 'runs' })).update(done);
      const exact = f.method !== 'attribution' ? activationPatching(model, opts) : null;
      const approx = f.method !== 'activation' ? attributionPatching(model, opts) : null;
      (bar as ReturnType<typeof progress> | null)?.stop();
      const main = (exact ?? approx)!;
      const tokens = opts.clean.map((id, i) => (tok.isSpecial(id) ? tok.tokenString(id).trim() : tok.decodeToken(id, i ? opts.clean[i - 1] : undefined)));
      const out = patchReport(main, tokens, exact && approx ? approx : undefined);
      if (f.json) return printJson(out);
      printPatch(main, tokens, out.agreement as Record<string, unknown> | undefined);
    });
}

function printPatch(r: PatchResult, tokens: string[], agreement?: Record<string, unknown>): void {
  const out = [`${r.method} patching (${r.direction}), metric ${r.metric}: clean ${r.cleanMetric.toFixed(4)}, corrupted ${r.corruptMetric.toFixed(4)}`];
  for (const s of r.sites) {
    const cols = s.axis === 'head' ? Array.from({ length: s.width }, (_, h) => `h${h}`) : tokens.map((t) => JSON.stringify(t).slice(0, 8));
    out.push('', `${s.kind} (rows: ${s.hooks.length === 1 ? s.hooks[0] : 'layers'}; columns: ${s.axis}s)`, `      ${cols.map((c) => c.padStart(8)).join(' ')}`);
    s.effects.forEach((row, l) => out.push(`${String(l).padStart(5)} ${row.map((v) => v.toFixed(3).padStart(8)).join(' ')}`));
  }
  if (agreement) out.push('', `attribution vs activation: Pearson r overall ${String(agreement.overall)}`);
  process.stdout.write(out.join('\n') + '\n');
}

interface AblateFlags {
  model: string;
  tokenizer?: string;
  targets: string;
  sae?: string;
  method: AblationMethod;
  data?: string;
  prompt?: string;
  reference?: string;
  tokens: number;
  referenceTokens: number;
  context: number;
  seed: number;
  json?: boolean;
}

function registerAblate(program: Command): void {
  program
    .command('ablate')
    .description('Ablate neurons, heads or dictionary features (zero, mean, resample) and report the change in next-token loss')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--targets <list>', 'what to ablate: head:LAYER.HEAD, neuron:LAYER.INDEX, feature:INDEX (with --sae), comma-separated')
    .option('--sae <dir>', 'dictionary for feature targets')
    .addOption(new Option('--method <m>', 'zero; mean over --reference; resample from --reference').choices(ABLATION_METHODS).default('zero'))
    .option('--data <file>', 'text to score (held-out split of a .txt / .jsonl)')
    .option('--prompt <text>', 'or one prompt to score')
    .option('--reference <file>', 'text the mean / resample values come from (train split; default --data)')
    .option('--tokens <n>', 'tokens of --data to score', parseIntOption('tokens', 2), 4096)
    .option('--reference-tokens <n>', 'tokens of --reference to average / sample over', parseIntOption('reference-tokens', 2), 8192)
    .option('--context <n>', 'tokens per window', parseIntOption('context', 2, 65536), 64)
    .option('--seed <n>', 'resample seed', parseIntOption('seed', 0), 0)
    .option('--json', 'one JSON line: {clean_loss, ablated_loss, delta, tokens}')
    .action(async (f: AblateFlags) => {
      if ((f.data === undefined) === (f.prompt === undefined)) throw new InputError('give the text to score: --data FILE or --prompt TEXT');
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const tok = tokenizer!;
      const windows = async (path: string, split: 'train' | 'test', budget: number): Promise<number[][]> => {
        const out: number[][] = [];
        let n = 0;
        for await (const w of tokenWindows({ path, split }, tok, { contextSize: f.context })) {
          out.push(Array.from(w));
          if ((n += w.length) >= budget) break;
        }
        if (out.length === 0) throw new InputError(`${path}: no text in the ${split} split`);
        return out;
      };
      const scored = f.prompt !== undefined ? [tok.encode(f.prompt, { bos: true })] : await windows(f.data!, 'test', f.tokens);
      const refPath = f.reference ?? f.data;
      if (f.method !== 'zero' && refPath === undefined) throw new InputError(`${f.method} ablation needs --reference FILE (text to take values from)`);
      const reference = f.method !== 'zero' ? await windows(refPath!, 'train', f.referenceTokens) : undefined;
      const targets = parseTargets(f.targets, f.sae ? loadSae(f.sae) : null);
      const r = ablationEffect(model, scored, targets, { method: f.method, reference, seed: f.seed, bosId: tok.bosId });
      const out = { clean_loss: r.cleanLoss, ablated_loss: r.ablatedLoss, delta: r.delta, tokens: r.tokens, method: f.method, targets: f.targets };
      if (f.json) return printJson(out);
      process.stdout.write(`${f.method} ablation of ${f.targets} over ${r.tokens} tokens: loss ${r.cleanLoss.toFixed(4)} -> ${r.ablatedLoss.toFixed(4)} (${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(4)})\n`);
    });
}
