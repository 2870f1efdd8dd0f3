// Shared by the `loupe sae` subcommands (sae.ts, sae-sweep.ts): the data flags, the training flags that
// `sae train` and `sae sweep` share, and reading back the data settings a dictionary or cache recorded.
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { SPLITS, type Split, type TextDataOptions } from '../../activations/token-windows.js';
import { architectureNames } from '../../sae/architectures/index.js';
import { parseFloatOption, parseIntOption } from '../output.js';

export const DOC_SPLITS = ['blank-line', 'line', 'whole', 'single-newline'] as const;

export interface DataFlags {
  data: string;
  split?: Split;
  testFraction: number;
  docSplit: (typeof DOC_SPLITS)[number];
  field?: string;
  context: number;
}

export interface TrainFlags extends DataFlags {
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

export function dataOptions(cmd: Command, defaultSplit: Split): Command {
  return cmd
    .addOption(new Option('--split <which>', `documents to use: a deterministic hash holds out --test-fraction of them as "test"`).choices(SPLITS).default(defaultSplit))
    .option('--test-fraction <f>', 'fraction of documents in the held-out split', parseFloatOption('test-fraction', 0, 1), 0.1)
    .addOption(new Option('--doc-split <how>', 'plain text: how documents are separated').choices(DOC_SPLITS).default('blank-line'))
    .option('--field <name>', 'JSONL: the field holding the text (default "text")')
    .option('--context <n>', 'tokens per window, BOS first', parseIntOption('context', 2), 128);
}

export function textData(f: DataFlags): TextDataOptions {
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
export function givenOn(cmd: Command): (flag: string) => boolean {
  return (flag) => cmd.getOptionValueSource(flag) === 'cli';
}

/** The training flags `sae train` and `sae sweep` share (the sweep takes its sizes from --latents-list). */
export function trainCommandOptions(cmd: Command, sweep = false): Command {
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
    .option('--l1 <x>', `ReLU, Gated: L1 coefficient (ReLU: weighted by decoder norms; Gated: on the gate only; default 2.5)${sweep ? ' for every run (or --l1-list)' : ''}`, parseFloatOption('l1', 0))
    .option('--l0 <x>', 'JumpReLU: L0 coefficient (default 1)', parseFloatOption('l0', 0))
    .option('--bandwidth <x>', 'JumpReLU: straight-through bandwidth (default 0.05)', parseFloatOption('bandwidth', 0))
    .option('--lr <x>', 'peak learning rate (default 2e-4/sqrt(latents/16384) for TopK SAEs, 5x that for TopK transcoders, 4e-4 JumpReLU, 2e-3 ReLU and Gated)', parseFloatOption('lr', 0))
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

/** The model's name as a dictionary records it: the checkpoint's file or folder name, without extension. */
export function modelName(p: string): string {
  const base = path.basename(p.replace(/[/\\]+$/, ''));
  return base.replace(/\.(bin|safetensors)$/i, '');
}
