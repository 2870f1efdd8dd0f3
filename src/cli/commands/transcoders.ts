// `loupe transcoders <train|eval|info>`: transcoders for every layer of a model (per-layer or cross-layer),
// their quality per layer, and what a set on disk holds (library: src/circuits/train.ts, evaluate.ts).
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import '../../tensor/backend/native/index.js';
import { evaluateTranscoders } from '../../circuits/evaluate.js';
import { trainTranscoders } from '../../circuits/train.js';
import { INPUT_SITES, TranscoderSet, type InputSite, type LayerQuality } from '../../circuits/transcoder-set.js';
import { InputError } from '../../errors.js';
import { progress } from '../../util/progress.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface TrainFlags {
  model: string;
  tokenizer?: string;
  data: string;
  arch: 'topk' | 'relu' | 'clt';
  kind?: 'per-layer' | 'clt';
  latents: number;
  k?: number;
  l1?: number;
  tokens: number;
  batch: number;
  lr?: number;
  seed: number;
  input: InputSite;
  skip?: boolean;
  context: number;
  evalTokens: number;
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('transcoders').description('Transcoders for every layer (per-layer or cross-layer): train, evaluate, inspect (see docs/circuits.md)');
  cmd
    .command('train')
    .description('Train transcoders for every MLP of a model from one pass over a text corpus; writes DIR/transcoders.json')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: beside an HF checkpoint)')
    .requiredOption('--data <file>', 'training text (.txt or .jsonl); 10% of documents are held out for the quality numbers')
    .addOption(new Option('--arch <name>', 'topk or relu: per-layer transcoders; clt: a TopK cross-layer transcoder').choices(['topk', 'relu', 'clt']).default('topk'))
    .option('--latents <n>', 'latents per layer', parseIntOption('latents', 1), 512)
    .option('--k <n>', 'TopK: active latents per token and layer', parseIntOption('k', 1))
    .option('--l1 <x>', 'ReLU: L1 coefficient (default 2.5)', parseFloatOption('l1', 0))
    .option('--tokens <n>', 'activations to train on (per layer)', parseIntOption('tokens', 1), 1_000_000)
    .option('--batch <n>', 'tokens per step', parseIntOption('batch', 1), 1024)
    .option('--lr <x>', 'peak learning rate (default for topk/relu as `sae train`, 2e-4/sqrt(latents/16384) for TopK; clt: 8e-4/sqrt(latents/16384))', parseFloatOption('lr', 0))
    .option('--seed <n>', 'random seed', parseIntOption('seed', 0), 0)
    .addOption(new Option('--input <site>', 'what layer L\'s latents read').choices(INPUT_SITES as string[]).default('ln2.hook_normalized'))
    .option('--skip', 'per-layer: add a linear skip connection')
    .option('--context <n>', 'tokens per window, BOS first', parseIntOption('context', 2), 128)
    .option('--eval-tokens <n>', 'held-out tokens for the per-layer quality (0: skip)', parseIntOption('eval-tokens', 0), 8192)
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print the summary (with per-layer quality) as one JSON line')
    .action(async (f: TrainFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const kind = f.arch === 'clt' ? 'clt' : 'per-layer';
      const arch = f.arch === 'relu' ? 'relu' : 'topk';
      if (arch === 'topk' && f.k === undefined) throw new InputError(`--arch ${f.arch} needs --k (active latents per token), e.g. --k 16`);
      if (arch === 'relu' && f.k !== undefined) throw new InputError('--arch relu takes no --k (its sparsity comes from --l1)');
      if (arch === 'topk' && f.l1 !== undefined) throw new InputError(`--arch ${f.arch} takes no --l1 (k fixes its L0; --l1 is for --arch relu)`);
      const bar = progress({ label: `transcoders (${kind})`, total: f.tokens, unit: 'tok' });
      let evalBar: ReturnType<typeof progress> | null = null;
      let r;
      try {
        r = await trainTranscoders({
          model,
          tokenizer: tokenizer!,
          data: { path: f.data },
          kind,
          arch,
          latents: f.latents,
          k: f.k ?? null,
          l1Coefficient: f.l1,
          tokens: f.tokens,
          batchSize: f.batch,
          lr: f.lr,
          seed: f.seed,
          site: f.input,
          skip: f.skip,
          contextSize: f.context,
          evalTokens: f.evalTokens,
          out: f.out,
          modelName: path.basename(f.model),
          onProgress: (p) => bar.update(p.tokens, { loss: p.loss, fvu: p.fvu }),
          onEval: (t) => {
            evalBar ??= progress({ label: 'held-out quality', total: f.evalTokens, unit: 'tok' });
            evalBar.update(Math.min(t, f.evalTokens));
          },
        });
      } finally {
        bar.stop();
        (evalBar as ReturnType<typeof progress> | null)?.stop();
      }
      const summary = {
        out: path.resolve(f.out),
        kind,
        architecture: r.set.info.training?.architecture,
        latents: f.latents,
        k: f.k ?? null,
        tokens: r.tokens,
        train_seconds: r.trainSeconds,
        seconds: r.seconds,
        ce_loss_clean: r.evaluation?.ce_loss_clean ?? null,
        ce_loss_replaced: r.evaluation?.ce_loss_replaced ?? null,
        ce_loss_recovered: r.evaluation?.ce_loss_recovered ?? null,
        layers: r.quality,
      };
      if (f.json) printJson(summary);
      else process.stdout.write(`trained ${kind} transcoders (${f.latents} latents per layer) on ${r.tokens} tokens in ${r.trainSeconds.toFixed(0)} s; wrote ${summary.out}\n${qualityTable(r.quality)}`);
    });

  cmd
    .command('eval')
    .description('Per-layer quality of a transcoder set on held-out text: FVU, L0, CE loss recovered per layer and for all layers at once')
    .requiredOption('--model <path>', 'the model')
    .option('--tokenizer <path>', 'its tokenizer')
    .requiredOption('--transcoders <dir>', 'transcoder set')
    .requiredOption('--data <file>', 'text (.txt or .jsonl)')
    .addOption(new Option('--split <which>', 'documents to use').choices(['train', 'test', 'all']).default('test'))
    .option('--context <n>', 'tokens per window', parseIntOption('context', 2), 128)
    .option('--tokens <n>', 'tokens to evaluate on', parseIntOption('tokens', 1), 8192)
    .option('--json', 'print the result as one JSON line')
    .action(async (f: { model: string; tokenizer?: string; transcoders: string; data: string; split: 'train' | 'test' | 'all'; context: number; tokens: number; json?: boolean }) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const set = TranscoderSet.load(f.transcoders);
      const bar = progress({ label: 'transcoders eval', total: f.tokens, unit: 'tok' });
      let r;
      try {
        r = await evaluateTranscoders({ path: f.data, split: f.split, model, tokenizer: tokenizer!, set, contextSize: f.context, maxTokens: f.tokens, onProgress: (t) => bar.update(Math.min(t, f.tokens)) });
      } finally {
        bar.stop();
      }
      if (f.json) printJson(r);
      else process.stdout.write(`CE loss clean ${r.ce_loss_clean.toFixed(4)}, all MLPs replaced ${r.ce_loss_replaced.toFixed(4)}, all ablated ${r.ce_loss_ablated.toFixed(4)}: recovered ${r.ce_loss_recovered.toFixed(3)}\n${qualityTable(r.layers)}`);
    });

  cmd
    .command('info')
    .description('What a transcoder set holds: kind, sizes, and the quality recorded at training time')
    .argument('<dir>', 'transcoder set directory')
    .option('--json', 'one JSON line')
    .action((dir: string, f: { json?: boolean }) => {
      const set = TranscoderSet.load(dir);
      const info = { ...set.summary(), training: set.info.training ?? null, quality: set.info.quality ?? null };
      if (f.json) printJson(info);
      else process.stdout.write(`${JSON.stringify(set.summary())}\n${set.info.quality ? qualityTable(set.info.quality) : ''}`);
    });
}

function qualityTable(rows: readonly LayerQuality[]): string {
  const num = (v: unknown, d = 3): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
  const lines = ['layer   fvu     l0      dead    ce_recovered'];
  for (const q of rows) lines.push(`${String(q.layer).padEnd(8)}${num(q.fvu).padEnd(8)}${num(q.l0, 1).padEnd(8)}${num(q.dead_fraction).padEnd(8)}${num(q.ce_loss_recovered)}`);
  return lines.join('\n') + '\n';
}
