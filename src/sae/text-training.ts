// Train a dictionary on a model's activations over a text corpus: the harvester feeds the trainer, and the
// run records where its activations came from (model, hooks, data, split, context, BOS policy) so
// evaluation can pick the same held-out split.
import { DiskActivationSource } from '../activations/disk-cache.js';
import { ModelActivationSource } from '../activations/harvest.js';
import type { ActivationSource } from '../activations/source.js';
import type { TextDataOptions } from '../activations/token-windows.js';
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import { getArchitecture } from './architectures/index.js';
import { trainSae, type TrainResult, type TrainRunOptions } from './trainer.js';

export interface TextTrainOptions extends Omit<TrainRunOptions, 'source' | 'hookName' | 'hookNameOut'> {
  model: Transformer;
  tokenizer: Tokenizer;
  data: TextDataOptions;
  /** The hook an SAE reads, or a transcoder's input hook. */
  hook: string;
  /** A transcoder's output hook. */
  hookOut?: string | null;
  /** Tokens per window (default 128). */
  contextSize?: number;
}

/** Hooks a run needs, checked against the architecture. */
export function runHooks(architecture: string, hook: string | undefined, hookOut: string | null | undefined): string[] {
  const arch = getArchitecture(architecture);
  if (!hook) throw new InputError(`give the hook to train on (--hook${arch.transcoder ? ' or --hook-in' : ''}), e.g. blocks.2.hook_resid_post`);
  if (arch.transcoder && !hookOut) throw new InputError(`a ${architecture} maps one hook to another: give --hook-in and --hook-out (e.g. blocks.2.hook_resid_mid -> blocks.2.hook_mlp_out)`);
  if (!arch.transcoder && hookOut) throw new InputError(`--hook-out is for transcoders; architecture "${architecture}" reconstructs its input hook`);
  return arch.transcoder ? [hook, hookOut!] : [hook];
}

export async function trainSaeOnText(o: TextTrainOptions): Promise<TrainResult> {
  const hooks = runHooks(o.architecture, o.hook, o.hookOut);
  const contextSize = o.contextSize ?? 128;
  const source = new ModelActivationSource({ ...o.data, model: o.model, tokenizer: o.tokenizer, hooks, contextSize, loop: true });
  return trainSae({
    ...o,
    source,
    hookName: hooks[0],
    hookNameOut: hooks[1] ?? null,
    metadata: { ...textMetadata(o.data, contextSize), ...o.metadata },
  });
}

/** Train from an activation cache written by `loupe sae cache` (no model needed; loops over the cache). */
export async function trainSaeOnCache(o: Omit<TrainRunOptions, 'source'> & { cache: string; hook: string; hookOut?: string | null }): Promise<TrainResult> {
  const hooks = runHooks(o.architecture, o.hook, o.hookOut);
  const source: ActivationSource = new DiskActivationSource(o.cache, { loop: true, hooks });
  const m = (source as DiskActivationSource).manifest;
  return trainSae({
    ...o,
    source,
    hookName: hooks[0],
    hookNameOut: hooks[1] ?? null,
    modelName: o.modelName || (typeof m.model_name === 'string' ? m.model_name : ''),
    metadata: { ...cacheMetadata(o.cache, m), ...o.metadata },
  });
}

export function textMetadata(data: TextDataOptions, contextSize: number): Record<string, unknown> {
  return {
    dataset_path: data.path,
    context_size: contextSize,
    prepend_bos: true,
    exclude_bos: true,
    split: data.split ?? 'train',
    test_fraction: data.testFraction ?? 0.1,
    document_split: data.documentSplit ?? 'blank-line',
  };
}

/** What a dictionary trained from a cache records: the cache, and the data settings its manifest holds. */
export function cacheMetadata(cache: string, m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { activation_cache: cache };
  for (const k of ['dataset_path', 'context_size', 'prepend_bos', 'exclude_bos', 'split', 'test_fraction', 'document_split']) if (k in m) out[k] = m[k];
  return out;
}
