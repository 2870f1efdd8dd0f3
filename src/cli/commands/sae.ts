// `loupe sae <train|eval|cache|sweep|info>`: dictionary learning from the command line, each a few lines
// over src/sae and src/activations.
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import '../../tensor/backend/native/index.js'; // native kernels for harvesting and training
import { ModelActivationSource } from '../../activations/harvest.js';
import { readManifest, writeActivationCache } from '../../activations/disk-cache.js';
import { countWindowTokens, SPLITS, type Split, type TextDataOptions } from '../../activations/token-windows.js';
import { InputError } from '../../errors.js';
import { architectureNames, getArchitecture } from '../../sae/architectures/index.js';
import { evaluateSae } from '../../sae/evaluate.js';
import { loadSae, readSaeInfo } from '../../sae/format.js';
import { runSweep } from '../../sae/sweep.js';
import { runHooks, trainSaeOnCache, trainSaeOnText } from '../../sae/text-training.js';
import type { TrainProgress, TrainResult } from '../../sae/trainer.js';
import { checkArchitectureSettings, type TrainOptions } from '../../sae/trainer-options.js';
import { progress } from '../../util/progress.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

const DOC_SPLITS = ['blank-line', 'line', 'whole', 'single-newline'] as const;

interface DataFlags {
  data: string;
  split?: Split;
  testFraction: number;
  docSplit: (typeof DOC_SPLITS)[number];
  field?: string;
  context: number;
}

interface TrainFlags extends DataFlags {
  model?: string;
  tokenizer?: string;
  cache?: string;
  hook?: string;
  hookIn?: string;
  hookOut?: string;
  arch: string;
  latents: number;
  k?: number;
  l1?: number;
  l0?: number;
  bandwidth?: number;
  lr?: number;
  tokens: number;
  batch: number;
  buffer?: number;
  seed: number;
  out: string;
  checkpointEvery?: number;
  resume?: string;
  skip?: boolean;
  normalize: boolean;
  bDecInit: 'geometric_median' | 'mean' | 'zeros';
  deadTokens?: number;
  json?: boolean;
}

function dataOptions(cmd: Command, defaultSplit: Split): Command {
  return cmd
    .addOption(new Option('--split <which>', `documents to use: a deterministic hash holds out --test-fraction of them as "test"`).choices(SPLITS).default(defaultSplit))
    .option('--test-fraction <f>', 'fraction of documents in the held-out split', parseFloatOption('test-fraction', 0, 1), 0.1)
    .addOption(new Option('--doc-split <how>', 'plain text: how documents are separated').choices(DOC_SPLITS).default('blank-line'))
    .option('--field <name>', 'JSONL: the field holding the text (default "text")')
    .option('--context <n>', 'tokens per window, BOS first', parseIntOption('context', 2), 128);
}

function textData(f: DataFlags): TextDataOptions {
  return { path: f.data, split: f.split, testFraction: f.testFraction, documentSplit: f.docSplit, field: f.field };
}

/**
 * The data settings to use with a dictionary or cache that recorded its own (cfg.json "metadata", or a
 * cache manifest): flags left at their defaults take the recorded context size, and, when --data is the
 * recorded file, its document split and test fraction, so the windows and held-out documents match
 * training. Flags given on the command line win.
 */
export function withRecordedData(f: DataFlags, given: (flag: 'context' | 'docSplit' | 'testFraction') => boolean, recorded: Record<string, unknown>): { data: TextDataOptions; context: number } {
  const data = textData(f);
  let context = f.context;
  if (Number.isInteger(recorded.context_size) && (recorded.context_size as number) >= 2 && !given('context')) context = recorded.context_size as number;
  if (recorded.dataset_path === f.data) {
    if (DOC_SPLITS.includes(recorded.document_split as DataFlags['docSplit']) && !given('docSplit')) data.documentSplit = recorded.document_split as DataFlags['docSplit'];
    if (typeof recorded.test_fraction === 'number' && !given('testFraction')) data.testFraction = recorded.test_fraction;
  }
  return { data, context };
}

/** Whether a flag was given on the command line (rather than left at its default). */
function givenOn(cmd: Command): (flag: string) => boolean {
  return (flag) => cmd.getOptionValueSource(flag) === 'cli';
}

export function register(program: Command): void {
  const sae = program.command('sae').description('Sparse dictionaries (SAEs, transcoders): train, evaluate, cache activations, scaling sweeps');
  registerTrain(sae);
  registerEval(sae);
  registerCache(sae);
  registerSweep(sae);
  registerInfo(sae);
}

/** The training flags `sae train` and `sae sweep` share (the sweep takes its sizes from --latents-list). */
function trainCommandOptions(cmd: Command, sweep = false): Command {
  cmd
    .option('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .option('--data <file>', sweep ? 'training text, whose test split gives the held-out loss: .txt or .jsonl' : 'training text: .txt or .jsonl')
    .option(
      '--cache <dir>',
      sweep
        ? 'train every run from an activation cache (`loupe sae cache`) instead of harvesting; held-out rows still come from --model on --data'
        : 'train from an activation cache (`loupe sae cache`) instead of running the model',
    )
    .option('--hook <name>', 'hook point to train on, e.g. blocks.2.hook_resid_post (a transcoder\'s input: also --hook-in)')
    .option('--hook-in <name>', 'transcoders: input hook, e.g. blocks.2.hook_resid_mid')
    .option('--hook-out <name>', 'transcoders: output hook, e.g. blocks.2.hook_mlp_out')
    .addOption(new Option('--arch <name>', 'architecture').choices(architectureNames()).default('topk'));
  if (!sweep) cmd.option('--latents <n>', 'dictionary size d_sae', parseIntOption('latents', 1), 1024);
  return cmd
    .option('--k <n>', sweep ? 'TopK family: one k for every run (or --k-list)' : 'TopK family: active latents per token', parseIntOption('k', 1))
    .option('--l1 <x>', `ReLU: L1 coefficient (penalty weighted by decoder norms; default 2.5)${sweep ? ' for every run (or --l1-list)' : ''}`, parseFloatOption('l1', 0))
    .option('--l0 <x>', 'JumpReLU: L0 coefficient (default 1)', parseFloatOption('l0', 0))
    .option('--bandwidth <x>', 'JumpReLU: straight-through bandwidth (default 0.05)', parseFloatOption('bandwidth', 0))
    .option('--lr <x>', 'peak learning rate (default 2e-4/sqrt(latents/16384) for TopK SAEs, 5x that for TopK transcoders, 4e-4 JumpReLU, 2e-3 ReLU)', parseFloatOption('lr', 0))
    .option('--tokens <n>', 'activations to train on', parseIntOption('tokens', 1), 1_000_000)
    .option('--batch <n>', 'tokens per step', parseIntOption('batch', 1), 4096)
    .option('--buffer <n>', 'rows in the shuffling buffer (the memory bound; default 16 batches, at least 65536)', parseIntOption('buffer', 1))
    .option('--seed <n>', 'random seed', parseIntOption('seed', 0), 0)
    .option('--checkpoint-every <steps>', `checkpoint interval (default ${sweep ? '0: only at the end of each run' : '~10 per run; 0: only at the end'})`, parseIntOption('checkpoint-every', 0))
    .option('--skip', 'transcoders: add a linear skip connection')
    .option('--no-normalize', 'train on raw activations (default: scaled to E||x|| = sqrt(d_in), folded in on save)')
    .addOption(new Option('--b-dec-init <how>', 'b_dec initialisation').choices(['geometric_median', 'mean', 'zeros']).default('geometric_median'))
    .option('--dead-tokens <n>', 'a latent is dead after this many tokens without firing (default min(10M, tokens/10))', parseIntOption('dead-tokens', 1));
}

function registerTrain(sae: Command): void {
  const cmd = sae.command('train').description('Train an SAE or transcoder on a model\'s activations over text; writes OUT in SAELens layout');
  trainCommandOptions(cmd);
  dataOptions(cmd, 'train')
    .requiredOption('--out <dir>', 'output directory (cfg.json, sae_weights.safetensors, checkpoints/)')
    .option('--resume <checkpoint>', 'continue from OUT/checkpoints/step-NNNNNN')
    .option('--json', 'print one JSON line with the final numbers')
    .action(async (f: TrainFlags) => {
      const r = await runTrain(f);
      const summary = {
        out: path.resolve(f.out),
        architecture: r.options.architecture,
        latents: r.options.latents,
        k: r.options.k,
        steps: r.steps,
        tokens: r.tokens,
        seconds: r.seconds,
        tokens_per_s: r.tokens / r.seconds,
        loss: r.final.loss,
        fvu: r.final.fvu,
        l0: r.final.l0,
        dead_fraction: r.final.deadFraction,
      };
      if (f.json) printJson(summary);
      else {
        process.stdout.write(
          `trained ${summary.architecture} (${summary.latents} latents${summary.k ? `, k ${summary.k}` : ''}) on ${summary.tokens} tokens in ${summary.seconds.toFixed(1)} s ` +
            `(${summary.tokens_per_s.toFixed(0)} tok/s): batch FVU ${summary.fvu.toFixed(4)}, L0 ${summary.l0.toFixed(1)}, dead ${(100 * summary.dead_fraction).toFixed(1)}%\n` +
            `wrote ${summary.out} (SAELens layout; evaluate with \`loupe sae eval --sae ${f.out}\`)\n`,
        );
      }
    });
}

export async function runTrain(f: TrainFlags): Promise<TrainResult> {
  const hook = f.hookIn ?? f.hook;
  const hooks = runHooks(f.arch, hook, f.hookOut);
  checkArchitectureSettings(getArchitecture(f.arch), { k: f.k, l1Coefficient: f.l1, l0Coefficient: f.l0, bandwidth: f.bandwidth }); // before loading anything
  const bar = progress({ label: 'sae train', total: f.tokens, unit: 'tok' });
  const onStep = (p: TrainProgress): void => bar.update(p.tokens, { loss: p.loss, fvu: p.fvu, l0: p.l0, dead: p.deadFraction });
  const common: TrainOptions & { out: string; resume?: string; checkpointEvery?: number; bufferRows?: number; onStep: typeof onStep } = {
    architecture: f.arch,
    latents: f.latents,
    k: f.k ?? null,
    tokens: f.tokens,
    batchSize: f.batch,
    lr: f.lr,
    l1Coefficient: f.l1,
    l0Coefficient: f.l0,
    bandwidth: f.bandwidth,
    seed: f.seed,
    skip: f.skip,
    normalizeActivations: f.normalize,
    bDecInit: f.bDecInit,
    deadTokens: f.deadTokens,
    out: f.out,
    resume: f.resume,
    checkpointEvery: f.checkpointEvery,
    bufferRows: f.buffer,
    onStep,
  };
  try {
    if (f.cache) {
      if (f.model || f.data) throw new InputError('--cache trains from stored activations: drop --model/--data (or drop --cache to harvest live)');
      return await trainSaeOnCache({ ...common, cache: f.cache, hook: hooks[0]!, hookOut: hooks[1] ?? null });
    }
    if (!f.model || !f.data) throw new InputError('give --model, --tokenizer and --data (or --cache DIR with stored activations)');
    const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
    return await trainSaeOnText({
      ...common,
      model,
      tokenizer: tokenizer!,
      modelName: modelName(f.model),
      data: textData(f),
      hook: hooks[0]!,
      hookOut: hooks[1] ?? null,
      contextSize: f.context,
    });
  } finally {
    bar.stop();
  }
}

interface EvalFlags extends DataFlags {
  model: string;
  tokenizer?: string;
  sae: string;
  maxTokens?: number;
  json?: boolean;
}

function registerEval(sae: Command): void {
  const cmd = sae
    .command('eval')
    .description('Evaluate a dictionary: L0, MSE, FVU, cosine, dead fraction, and CE loss clean / spliced / zero-ablated, loss recovered, KL')
    .requiredOption('--model <path>', 'the model the dictionary belongs to')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--sae <dir>', 'dictionary directory (SAELens layout)')
    .requiredOption('--data <file>', 'evaluation text: .txt or .jsonl')
    .option('--max-tokens <n>', 'stop after about this many tokens', parseIntOption('max-tokens', 1))
    .option('--json', 'print one JSON line');
  dataOptions(cmd, 'test').action(async (f: EvalFlags, command: Command) => {
    const dict = loadSae(f.sae);
    const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
    // The windows (and, on the same file, the document split) the dictionary was trained with, unless flags say otherwise.
    const { data, context } = withRecordedData(f, givenOn(command), readSaeInfo(f.sae).metadata);
    const total = f.maxTokens ?? (await countWindowTokens(data, tokenizer!, context));
    const bar = progress({ label: 'sae eval', total, unit: 'tok' });
    let r;
    try {
      r = await evaluateSae({ ...data, model, tokenizer: tokenizer!, sae: dict, contextSize: context, maxTokens: f.maxTokens, onProgress: (t) => bar.update(t) });
    } finally {
      bar.stop();
    }
    const out = {
      l0: r.l0,
      fvu: r.fvu,
      mse: r.mse,
      cosine: r.cosine,
      dead_fraction: r.dead_fraction,
      ce_loss_clean: r.ce_loss_clean,
      ce_loss_spliced: r.ce_loss_spliced,
      ce_loss_ablated: r.ce_loss_ablated,
      ce_loss_recovered: r.ce_loss_recovered,
      kl: r.kl,
      tokens: r.tokens,
      predictions: r.predictions,
      split: data.split,
      context_size: context,
      log_density: r.log_density,
    };
    if (f.json) printJson(out);
    else {
      const p = (v: number, d = 4) => v.toFixed(d);
      process.stdout.write(
        `${dict.cfg.architecture} ${dict.dSae} latents at ${dict.cfg.hookName}${dict.isTranscoder ? ` -> ${dict.cfg.hookNameOut}` : ''}, ${r.tokens} tokens (${data.split} split, windows of ${context})\n` +
          `  L0 ${p(r.l0, 2)}  FVU ${p(r.fvu)}  MSE ${p(r.mse, 6)}  cosine ${p(r.cosine)}  dead ${(100 * r.dead_fraction).toFixed(1)}%\n` +
          `  CE clean ${p(r.ce_loss_clean)}  spliced ${p(r.ce_loss_spliced)}  zero-ablated ${p(r.ce_loss_ablated)}  recovered ${p(r.ce_loss_recovered)}  KL ${p(r.kl, 5)}\n`,
      );
    }
  });
}

interface CacheFlags extends DataFlags {
  model: string;
  tokenizer?: string;
  hook: string[];
  tokens: number;
  out: string;
  shardRows: number;
  json?: boolean;
}

function registerCache(sae: Command): void {
  const cmd = sae
    .command('cache')
    .description('Harvest activations once into safetensors shards that `sae train --cache`, sweeps and bench/reference/sae.py stream back')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--data <file>', 'text: .txt or .jsonl')
    .requiredOption('--hook <name...>', 'hook point(s), row-aligned (e.g. a transcoder\'s input and output)')
    .option('--tokens <n>', 'activation rows to store (BOS positions are not stored)', parseIntOption('tokens', 1), 1_000_000)
    .requiredOption('--out <dir>', 'cache directory')
    .option('--shard-rows <n>', 'rows per shard', parseIntOption('shard-rows', 1), 65536)
    .option('--json', 'print the manifest on one line');
  dataOptions(cmd, 'train').action(async (f: CacheFlags) => {
    const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
    const source = new ModelActivationSource({ ...textData(f), model, tokenizer: tokenizer!, hooks: f.hook, contextSize: f.context, loop: f.split !== 'test' });
    const bar = progress({ label: 'sae cache', total: f.tokens, unit: 'tok' });
    let manifest;
    try {
      manifest = await writeActivationCache(source, f.out, {
        rows: f.tokens,
        shardRows: f.shardRows,
        info: { model_name: modelName(f.model), dataset_path: f.data, split: f.split, test_fraction: f.testFraction, document_split: f.docSplit, context_size: f.context, prepend_bos: true, exclude_bos: true },
        onProgress: (rows) => bar.update(rows),
      });
    } finally {
      bar.stop();
    }
    if (f.json) printJson(manifest);
    else process.stdout.write(`wrote ${manifest.rows} rows of ${manifest.hooks.join(', ')} in ${manifest.shards.length} shard(s) to ${f.out}\n`);
  });
}

interface SweepFlags extends Omit<TrainFlags, 'latents' | 'resume'> {
  latentsList: string;
  kList?: string;
  l1List?: string;
  evalTokens: number;
}

function registerSweep(sae: Command): void {
  const cmd = sae
    .command('sweep')
    .description('Train a grid over dictionary size and k (or L1); report held-out loss against size and tokens with fitted power laws (table + SVG)');
  trainCommandOptions(cmd, true);
  dataOptions(cmd, 'train')
    .requiredOption('--out <dir>', 'sweep directory: one run per grid point, sweep.json, sweep.svg, sweep.md')
    .requiredOption('--latents-list <n,n,...>', 'dictionary sizes, e.g. 256,512,1024,2048')
    .option('--k-list <k,k,...>', 'TopK family: k values, e.g. 8,16,32')
    .option('--l1-list <x,x,...>', 'ReLU: L1 coefficients')
    .option('--eval-tokens <n>', 'held-out activations for the loss curves', parseIntOption('eval-tokens', 1), 20_000)
    .option('--json', 'print the sweep summary on one line')
    .action(async (f: SweepFlags, command: Command) => {
      const list = (s: string | undefined, flag: string): number[] | undefined =>
        s === undefined
          ? undefined
          : s.split(',').map((v) => {
              const n = Number(v.trim());
              if (!Number.isFinite(n) || n <= 0) throw new InputError(`${flag}: "${v}" is not a positive number`);
              return n;
            });
      // The same refusals as `sae train` for single-value flags; the lists are checked by runSweep.
      checkArchitectureSettings(getArchitecture(f.arch), { k: f.k, l1Coefficient: f.l1, l0Coefficient: f.l0, bandwidth: f.bandwidth });
      if (f.k !== undefined && f.kList !== undefined) throw new InputError('give --k (one k for every run) or --k-list, not both');
      if (f.l1 !== undefined && f.l1List !== undefined) throw new InputError('give --l1 (one coefficient for every run) or --l1-list, not both');
      if (f.cache && command.getOptionValueSource('split') === 'cli') throw new InputError('--split picks the documents to harvest; with --cache the training rows are the cache\'s: drop --split');
      const hooks = runHooks(f.arch, f.hookIn ?? f.hook, f.hookOut);
      if (!f.model || !f.data) {
        throw new InputError(
          f.cache
            ? 'give --model, --tokenizer and --data with --cache: the cache replaces the training harvest, but the held-out loss runs the model on the test split of --data'
            : 'give --model, --tokenizer and --data for the sweep (add --cache DIR to train from stored activations)',
        );
      }
      // Training from a cache: held-out windows and documents follow what the cache recorded, unless flags say otherwise.
      const { data, context } = f.cache ? withRecordedData(f, givenOn(command), readManifest(f.cache)) : { data: textData(f), context: f.context };
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const r = await runSweep({
        model,
        tokenizer: tokenizer!,
        modelName: modelName(f.model),
        data,
        contextSize: context,
        hooks,
        out: f.out,
        cache: f.cache,
        architecture: f.arch,
        latents: list(f.latentsList, '--latents-list')!,
        ks: f.k !== undefined ? [f.k] : list(f.kList, '--k-list'),
        l1s: f.l1 !== undefined ? [f.l1] : list(f.l1List, '--l1-list'),
        l0Coefficient: f.l0,
        bandwidth: f.bandwidth,
        skip: f.skip,
        normalizeActivations: f.normalize,
        bDecInit: f.bDecInit,
        deadTokens: f.deadTokens,
        tokens: f.tokens,
        batchSize: f.batch,
        lr: f.lr,
        seed: f.seed,
        checkpointEvery: f.checkpointEvery,
        evalTokens: f.evalTokens,
        bufferRows: f.buffer,
        log: (line) => process.stderr.write(line + '\n'),
      });
      if (f.json) printJson(r.summary);
      else process.stdout.write(r.table + `\nwrote ${path.join(f.out, 'sweep.json')}, ${path.join(f.out, 'sweep.svg')}, ${path.join(f.out, 'sweep.md')}\n`);
    });
}

function registerInfo(sae: Command): void {
  sae
    .command('info')
    .description('Show a dictionary\'s config (architecture, sizes, hooks) and how it was trained')
    .argument('<dir>', 'dictionary directory (SAELens layout)')
    .option('--json', 'print one JSON line')
    .action((dir: string, f: { json?: boolean }) => {
      const d = loadSae(dir);
      const info = readSaeInfo(dir);
      const out = { ...d.cfg, metadata: info.metadata, training: info.loupe };
      if (f.json) printJson(out);
      else process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}

function modelName(p: string): string {
  const base = path.basename(p.replace(/[/\\]+$/, ''));
  return base.replace(/\.(bin|safetensors)$/i, '');
}
