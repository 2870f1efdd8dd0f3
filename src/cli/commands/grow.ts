// `loupe grow`: train a decoder-only transformer from text (library: src/grow/grow.ts). Only flags the
// user gives are passed on; defaults live in src/grow/spec.ts, so a --resume can tell "not given" from
// "given and different".
import { Option, type Command } from 'commander';
import { ARCH_NAMES, grow, type GrowResult, type GrowSpecInput } from '../../grow/index.js';
import { progress } from '../../util/progress.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { InputError } from '../../errors.js';

interface GrowFlags {
  data?: string;
  out: string;
  resume?: boolean;
  arch?: (typeof ARCH_NAMES)[number];
  layers?: number;
  dModel?: number;
  heads?: number;
  ctx?: number;
  vocab?: number;
  dMlp?: number;
  positional?: 'rope' | 'learned' | 'none';
  steps?: number;
  batch?: number;
  lr?: number;
  warmup?: number;
  decay?: 'cosine' | 'linear' | 'constant';
  minLrRatio?: number;
  weightDecay?: number;
  gradClip?: number;
  seed?: number;
  initStd?: number;
  split?: 'auto' | 'blank-line' | 'line' | 'whole' | 'single-newline';
  valFraction?: number;
  tokenizer?: string;
  repeatFraction?: number;
  repeatMinLen?: number;
  repeatMaxLen?: number;
  checkpointEvery?: number;
  checkpointAt?: number[];
  evalBatches?: number;
  logEvery?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('grow')
    .description('Train a decoder-only transformer on a text file: byte-level BPE tokenizer, AdamW with warmup + cosine decay, checkpoints in Hugging Face layout (see docs/grow.md)')
    .option('--data <file>', 'training text (plain text or JSONL with a "text" field); required unless --resume')
    .requiredOption('--out <dir>', 'run directory: tokenizer, checkpoint-<step>/ directories, metrics.jsonl, curve.svg')
    .option('--resume', 'continue the run in --out from its latest complete checkpoint (--steps may be raised)');
  addGrowFlags(cmd);
  cmd.option('--json', 'print the result as one JSON line').action(async (f: GrowFlags) => {
    const result = await runGrowCommand(f.out, specFromFlags(f), f.resume === true, f.json === true);
    if (f.json) printJson(resultJson(result));
    else printSummary(result);
    if (result.interrupted) process.exitCode = 130;
  });
}

/** Architecture, training, data and checkpoint flags (shared with `loupe organisms`). */
export function addGrowFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--arch <name>', 'llama (RMSNorm, RoPE, SwiGLU) | gpt2 (LayerNorm, learned positions, GELU) | attn-only (llama-style, no MLPs); default llama').choices(ARCH_NAMES))
    .option('--layers <n>', 'transformer blocks (default 2)', parseIntOption('layers', 1))
    .option('--d-model <n>', 'residual width (default 128)', parseIntOption('d-model', 1))
    .option('--heads <n>', 'attention heads (default 4)', parseIntOption('heads', 1))
    .option('--ctx <n>', 'context length in tokens (default 128)', parseIntOption('ctx', 2))
    .option('--vocab <n>', 'vocabulary size of the BPE tokenizer to train (default 2048)', parseIntOption('vocab', 1))
    .option('--d-mlp <n>', 'MLP width (default 4 x d-model)', parseIntOption('d-mlp', 1))
    .addOption(new Option('--positional <kind>', 'positions: rope | learned | none (default: rope for llama/attn-only, learned for gpt2)').choices(['rope', 'learned', 'none']))
    .option('--steps <n>', 'optimizer steps (default 1000)', parseIntOption('steps', 1))
    .option('--batch <n>', 'sequences per step (default 16)', parseIntOption('batch', 1))
    .option('--lr <x>', 'peak learning rate (default 1e-3)', parseFloatOption('lr', 0))
    .option('--warmup <n>', 'linear warmup steps (default min(100, steps / 10))', parseIntOption('warmup', 0))
    .addOption(new Option('--decay <kind>', 'learning-rate decay after warmup (default cosine)').choices(['cosine', 'linear', 'constant']))
    .option('--min-lr-ratio <x>', 'final learning rate / peak (default 0.1)', parseFloatOption('min-lr-ratio', 0, 1))
    .option('--weight-decay <x>', 'AdamW decoupled weight decay on matrices and embeddings (default 0.1)', parseFloatOption('weight-decay', 0, 1))
    .option('--grad-clip <x>', 'clip the global gradient norm (0: off; default 1)', parseFloatOption('grad-clip', 0))
    .option('--seed <n>', 'seed of the initialisation, batch order and synthetic data (default 0)', parseIntOption('seed', 0))
    .option('--init-std <x>', 'standard deviation of the initial weights (default 0.02)', parseFloatOption('init-std', 0))
    .addOption(new Option('--split <mode>', 'documents of a plain-text file (default auto: single-newline for unwrapped paragraphs such as TinyStories, else blank-line)').choices(['auto', 'blank-line', 'line', 'whole', 'single-newline']))
    .option('--val-fraction <x>', 'share of documents held out for evaluation (default 0.05)', parseFloatOption('val-fraction', 0, 0.5))
    .option('--tokenizer <file>', 'use this tokenizer.json instead of training one')
    .option('--repeat-fraction <x>', 'share of sequences that are a random token segment repeated to fill the context (default 0)', parseFloatOption('repeat-fraction', 0, 1))
    .option('--repeat-min-len <n>', 'shortest repeated segment (default 8)', parseIntOption('repeat-min-len', 1))
    .option('--repeat-max-len <n>', 'longest repeated segment (default 32)', parseIntOption('repeat-max-len', 1))
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps (the last step always gets one)', parseIntOption('checkpoint-every', 0))
    .option('--checkpoint-at <steps>', 'also checkpoint at these steps, e.g. 0,50,100,200 (0 = the initial model)', parseStepList)
    .option('--eval-batches <n>', 'held-out batches evaluated at each checkpoint (default 4)', parseIntOption('eval-batches', 0))
    .option('--log-every <n>', 'append a metrics.jsonl line every n steps (default 10)', parseIntOption('log-every', 1));
}

/** Flags -> spec input, leaving out what was not given. */
export function specFromFlags(f: Omit<GrowFlags, 'out' | 'resume' | 'json'>): GrowSpecInput {
  return {
    model: { arch: f.arch, layers: f.layers, dModel: f.dModel, heads: f.heads, ctx: f.ctx, vocab: f.vocab, dMlp: f.dMlp, positional: f.positional },
    train: {
      steps: f.steps, batch: f.batch, lr: f.lr, warmupSteps: f.warmup, decay: f.decay, minLrRatio: f.minLrRatio,
      weightDecay: f.weightDecay, gradClip: f.gradClip, seed: f.seed, initStd: f.initStd,
    },
    data: {
      path: f.data, split: f.split, valFraction: f.valFraction, tokenizer: f.tokenizer,
      repeatFraction: f.repeatFraction, repeatMinLen: f.repeatMinLen, repeatMaxLen: f.repeatMaxLen,
    },
    checkpoints: { every: f.checkpointEvery, at: f.checkpointAt, evalBatches: f.evalBatches, logEvery: f.logEvery },
  };
}

/** Run grow with a progress bar (loss, tokens/s) on stderr; Ctrl-C checkpoints and stops. */
export async function runGrowCommand(out: string, spec: GrowSpecInput, resume: boolean, quietMessages: boolean): Promise<GrowResult> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: stop now
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let bar: ReturnType<typeof progress> | null = null;
  try {
    return await grow({
      out,
      spec,
      resume,
      signal: controller.signal,
      onMessage: (m) => {
        if (!quietMessages || process.stderr.isTTY) process.stderr.write(`${bar && process.stderr.isTTY ? '\n' : ''}grow: ${m}\n`);
      },
      onProgress: (p) => {
        bar ??= progress({ label: 'grow', total: p.totalSteps, unit: 'step' });
        bar.update(p.step, { loss: p.smoothLoss, lr: p.lr.toExponential(1), 'tok/s': Math.round(p.tokensPerS) });
      },
    });
  } finally {
    (bar as ReturnType<typeof progress> | null)?.stop();
    process.off('SIGINT', onSigint);
  }
}

export function resultJson(r: GrowResult): Record<string, unknown> {
  return {
    out: r.out,
    steps: r.steps,
    train_loss: r.trainLoss,
    eval_loss: r.evalLoss,
    tokens_per_s: r.tokensPerS,
    elapsed_s: r.elapsedS,
    checkpoints: r.checkpoints,
    interrupted: r.interrupted,
    resumed_from: r.resumedFrom,
    config: r.config,
  };
}

function printSummary(r: GrowResult): void {
  const c = r.config;
  const lines = [
    `${r.interrupted ? 'stopped' : 'grew'} ${c.name} (${c.nLayers} layer${c.nLayers === 1 ? '' : 's'}, d_model ${c.dModel}, ${c.nHeads} heads, vocab ${c.vocabSize}, ctx ${c.nCtx}) to step ${r.steps}`,
    `train loss ${fmt(r.trainLoss)}, held-out loss ${fmt(r.evalLoss)}, ${Math.round(r.tokensPerS)} tokens/s, ${r.elapsedS.toFixed(0)} s of training`,
    `checkpoints: ${r.checkpoints.length ? r.checkpoints.join(', ') : 'none written this session'}`,
    `curve: ${r.out}/curve.svg`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** "0,50,100" -> [0, 50, 100]. */
export function parseStepList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new InputError(`expected a comma-separated list of steps, e.g. 0,50,100, got "${v}"`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`"${p}" is not a step (a non-negative integer) in "${v}"`);
    return n;
  });
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(4);
}
