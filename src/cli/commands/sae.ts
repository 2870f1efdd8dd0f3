// `loupe sae <train|eval|cache|sweep|info>`: dictionary learning from the command line, each a few lines
// over src/sae and src/activations (`sae sweep` in sae-sweep.ts, shared flags in sae-common.ts).
import * as path from 'node:path';
import type { Command } from 'commander';
import '../../tensor/backend/native/index.js'; // native kernels for harvesting and training
import { ModelActivationSource } from '../../activations/harvest.js';
import { writeActivationCache } from '../../activations/disk-cache.js';
import { countWindowTokens } from '../../activations/token-windows.js';
import { InputError } from '../../errors.js';
import { getArchitecture } from '../../sae/architectures/index.js';
import { evaluateSae } from '../../sae/evaluate.js';
import { loadSae, readSaeInfo } from '../../sae/format.js';
import { runHooks, trainSaeOnCache, trainSaeOnText } from '../../sae/text-training.js';
import type { TrainProgress, TrainResult } from '../../sae/trainer.js';
import { checkArchitectureSettings, type TrainOptions } from '../../sae/trainer-options.js';
import { progress } from '../../util/progress.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';
import { dataOptions, givenOn, modelName, textData, trainCommandOptions, withRecordedData, type DataFlags, type TrainFlags } from './sae-common.js';
import { registerSweep } from './sae-sweep.js';

export function register(program: Command): void {
  const sae = program.command('sae').description('Sparse dictionaries (SAEs, transcoders): train, evaluate, cache activations, scaling sweeps');
  registerTrain(sae);
  registerEval(sae);
  registerCache(sae);
  registerSweep(sae);
  registerInfo(sae);
}

function registerTrain(sae: Command): void {
  const cmd = sae.command('train').description('Train an SAE or transcoder on a model\'s activations over text; writes OUT in SAELens layout');
  trainCommandOptions(cmd);
  dataOptions(cmd, 'train')
    .requiredOption('--out <dir>', 'output directory (cfg.json, sae_weights.safetensors, checkpoints/)')
    .option('--resume <checkpoint>', 'continue from OUT/checkpoints/step-NNNNNN')
    .option('--json', 'print one JSON line with the final numbers')
    .action(async (f: TrainFlags, command: Command) => {
      const r = await runTrain(f, givenOn(command));
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

/** Flags that only say how to harvest from text; a cache fixed its model, documents and windows when it was written. */
const HARVEST_FLAGS = { model: '--model', tokenizer: '--tokenizer', data: '--data', split: '--split', testFraction: '--test-fraction', docSplit: '--doc-split', field: '--field', context: '--context' } as const;

/** `given` says which flags were on the command line (defaults are not "given"). */
export async function runTrain(f: TrainFlags, given: (flag: string) => boolean = () => false): Promise<TrainResult> {
  if (f.cache) {
    // The flags without a default count as given whenever set (runTrain called without `given`).
    const set = (key: keyof typeof HARVEST_FLAGS): boolean => given(key) || ((key === 'model' || key === 'tokenizer' || key === 'data' || key === 'field') && f[key] !== undefined);
    const harvestOnly = (Object.keys(HARVEST_FLAGS) as (keyof typeof HARVEST_FLAGS)[]).filter(set).map((key) => HARVEST_FLAGS[key]);
    if (harvestOnly.length) {
      throw new InputError(`--cache trains from stored activations, whose model, documents and windows the cache fixed: drop ${harvestOnly.join(', ')} (or drop --cache to harvest live)`, { given: harvestOnly });
    }
  }
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
    .option('--max-tokens <n>', 'stop after this many tokens (BOS positions not counted), cutting the last window short', parseIntOption('max-tokens', 1))
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
