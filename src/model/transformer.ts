// The one transformer: a config, a parameter set, and a forward pass with hook points at every site.
// Families differ only through the config (see config.ts); loaders fill the parameters (see loaders/).
import { InputError } from '../errors.js';
import * as T from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import { toBatch, type TokenBatch, type TokenInput } from './batch.js';
import { attention } from './components/attention.js';
import { embed } from './components/embed.js';
import { mlp } from './components/mlp.js';
import { applyNorm } from './components/norm.js';
import { unembed } from './components/unembed.js';
import { validateConfig, type ModelConfig } from './config.js';
import { HookRunner, hookNames, selectNames, type ActivationCache, type CacheRequest, type ForwardHook, type GradHook } from './hooks.js';
import type { KVCache } from './kv-cache.js';
import { initParams, namedParameters, paramsFromNamed, type InitOptions, type TransformerParams } from './params.js';

export interface RunOptions {
  /** Hook points to record: true (all), a list of names, or a filter. Nothing is cached by default. */
  cache?: CacheRequest;
  /** Forward hooks: read an activation, or return a replacement. Scoped to this call. */
  hooks?: readonly ForwardHook[];
  /** Backward hooks on activations; the run records the tape (call T.backward on a loss afterwards). */
  gradHooks?: readonly GradHook[];
  /** true: record the tape (training, gradients); false: never; default: the ambient T.noGrad state. */
  withGrad?: boolean;
  /** Decode incrementally: the input holds only new tokens, positions continue after the cached ones. */
  kvCache?: KVCache;
  /** Absolute position of the first token when not using a KV cache (default 0). */
  positionOffset?: number;
  /** Run blocks 0..stopAtLayer-1 only and return no logits (activation harvesting). */
  stopAtLayer?: number;
  /** Logits of each sequence's last real position only: [batch, 1, d_vocab]. */
  lastLogitsOnly?: boolean;
  /**
   * Hook points whose activations are kept on the tape and returned in result.captured, so that
   * T.grad(metric, [result.captured.get(name)]) gives d metric / d activation (implies withGrad).
   */
  capture?: readonly string[];
}

export interface RunResult {
  /** [batch, pos, d_vocab] (pos = 1 with lastLogitsOnly); null with stopAtLayer. */
  logits: Tensor | null;
  cache: ActivationCache;
  batch: TokenBatch;
  /** The activations named in opts.capture, on the tape (empty otherwise). */
  captured: Map<string, Tensor>;
}

export interface GradientResult {
  /** The metric's value. */
  value: number;
  /** d metric / d activation, by hook name, each with the activation's shape. */
  grads: Map<string, Tensor>;
  /** The activations the gradients are taken at. */
  activations: Map<string, Tensor>;
  logits: Tensor;
}

export class Transformer {
  readonly config: ModelConfig;
  readonly params: TransformerParams;
  private readonly names: string[];
  private readonly nameSet: Set<string>;
  private readonly ropeInvFreq: Float32Array | null;
  private readonly scoped: (readonly ForwardHook[])[] = [];

  constructor(config: ModelConfig, params: TransformerParams) {
    validateConfig(config);
    this.config = config;
    this.params = params;
    this.names = hookNames(config);
    this.nameSet = new Set(this.names);
    const r = config.rope;
    this.ropeInvFreq = r ? (r.invFreq ? Float32Array.from(r.invFreq) : T.ropeInvFreq(r.rotaryDim, r.base)) : null;
  }

  /** From named parameter arrays (names as parameters() lists them); arrays are used, not copied. */
  static fromNamed(config: ModelConfig, named: Map<string, Float32Array>, where = 'model'): Transformer {
    return new Transformer(config, paramsFromNamed(config, named, where));
  }

  /** Seeded random initialisation (see initParams). */
  static random(config: ModelConfig, opts: InitOptions = {}): Transformer {
    return Transformer.fromNamed(config, initParams(config, opts), 'random init');
  }

  /** Every hook point, in forward order. */
  hookNames(): string[] {
    return this.names.slice();
  }

  /** Every parameter with its name (set requiresGrad on these to train). */
  parameters(): [string, Tensor][] {
    return namedParameters(this.config, this.params);
  }

  /** Logits [batch, pos, d_vocab] of a plain forward pass. */
  forward(input: TokenInput): Tensor {
    return this.run(input).logits!;
  }

  run(input: TokenInput, opts: RunOptions = {}): RunResult {
    const batch = toBatch(input);
    const kv = opts.kvCache ?? null;
    // Positions per sequence when the cache's sequences differ in length or the new tokens are padded.
    const rowOffsets = kv && (kv.ragged || batch.padded) ? kv.lengths() : null;
    const offset = kv ? kv.length : opts.positionOffset ?? 0;
    this.checkInput(batch, offset, kv, rowOffsets);
    const stop = opts.stopAtLayer;
    if (stop !== undefined && (!Number.isInteger(stop) || stop < 0 || stop > this.config.nLayers)) {
      throw new InputError(`stopAtLayer must be an integer in [0, ${this.config.nLayers}], got ${stop}`);
    }
    const runner = new HookRunner(batch, this.names, {
      cache: opts.cache,
      hooks: [...this.scoped.flat(), ...(opts.hooks ?? [])],
      gradHooks: opts.gradHooks,
      capture: opts.capture,
    });
    runner.offset = rowOffsets ? rowOffsets[0]! : offset;
    runner.rowOffsets = rowOffsets;
    runner.keepTape = opts.withGrad === true;
    const record = opts.withGrad ?? (runner.needsTape ? true : undefined);
    const body = (): RunResult => this.forwardPass(batch, runner, rowOffsets ?? offset, opts);
    const out = record === true ? T.enableGrad(body) : record === false ? T.noGrad(body) : body();
    kv?.commit(rowOffsets ? batch.lengths : batch.maxLen);
    return out;
  }

  /**
   * Gradients of a scalar metric of the logits with respect to activations at the named hook points
   * (e.g. attribution patching). The weights get no gradients; the metric must be built with T ops.
   */
  runWithGradients(input: TokenInput, metric: (logits: Tensor, cache: ActivationCache) => Tensor, names: readonly string[], opts: RunOptions = {}): GradientResult {
    return T.enableGrad(() => {
      const r = this.run(input, { ...opts, capture: names, withGrad: true });
      const m = metric(r.logits!, r.cache);
      if (m.size !== 1) throw new InputError(`runWithGradients: the metric must be a scalar, got shape [${m.shape.join(', ')}]`);
      const acts = [...r.captured];
      const grads = T.grad(m, acts.map(([, t]) => t), undefined, { checkFinite: false });
      return {
        value: m.item(),
        grads: new Map(acts.map(([n, t], i) => [n, new T.Tensor(grads[i]!, t.shape)])),
        activations: new Map(acts.map(([n, t]) => [n, t.detach()])),
        logits: r.logits!.detach(),
      };
    });
  }

  /**
   * Run `fn` with forward hooks attached to every run() inside it (generation, analysis helpers), and
   * remove them afterwards, also when fn throws or its promise rejects.
   */
  withHooks<R>(hooks: readonly ForwardHook[], fn: () => R): R {
    for (const h of hooks) selectNames(h.name, this.names, this.nameSet); // fail before running
    const entry = hooks.slice();
    this.scoped.push(entry);
    const remove = (): void => {
      const i = this.scoped.indexOf(entry);
      if (i >= 0) this.scoped.splice(i, 1);
    };
    let async = false;
    try {
      const r = fn();
      if (r instanceof Promise) {
        async = true;
        return r.finally(remove) as R;
      }
      return r;
    } finally {
      if (!async) remove();
    }
  }

  /** Number of scoped hook sets currently attached (0 outside withHooks). */
  get scopedHookCount(): number {
    return this.scoped.length;
  }

  private checkInput(batch: TokenBatch, offset: number, kv: KVCache | null, rowOffsets: Int32Array | null): void {
    const c = this.config;
    const V = c.vocabSize;
    for (let b = 0; b < batch.batch; b++) {
      const len = batch.lengths[b]!;
      for (let t = 0; t < len; t++) {
        const id = batch.ids[b * batch.maxLen + t]!;
        if (id < 0 || id >= V) {
          throw new InputError(`token id ${id} at position ${t}${batch.batch > 1 ? ` of sequence ${b}` : ''} is outside the vocabulary [0, ${V})`, { id, vocabSize: V });
        }
      }
    }
    if (!Number.isInteger(offset) || offset < 0) throw new InputError(`positionOffset must be a non-negative integer, got ${offset}`);
    if (kv && kv.batch !== batch.batch) throw new InputError(`KV cache holds ${kv.batch} sequences, the input has ${batch.batch}`);
    if (rowOffsets) {
      for (let b = 0; b < batch.batch; b++) {
        const end = rowOffsets[b]! + batch.lengths[b]!;
        if (end > c.nCtx) {
          throw new InputError(`sequence ${b}: ${batch.lengths[b]} tokens after ${rowOffsets[b]} earlier positions is longer than the model's context of ${c.nCtx} tokens`, { length: end, nCtx: c.nCtx });
        }
      }
    } else if (offset + batch.maxLen > c.nCtx) {
      const what = offset > 0 ? `${batch.maxLen} tokens after ${offset} earlier positions` : `a sequence of ${batch.maxLen} tokens`;
      throw new InputError(`${what} is longer than the model's context of ${c.nCtx} tokens`, { length: offset + batch.maxLen, nCtx: c.nCtx });
    }
  }

  /** offset: the first position of every sequence, or of each ([batch]) with a ragged KV-cached batch. */
  private forwardPass(batch: TokenBatch, runner: HookRunner, offset: number | Int32Array, opts: RunOptions): RunResult {
    const c = this.config;
    const p = this.params;
    const kv = opts.kvCache ?? null;
    const ragged = typeof offset !== 'number';
    // Keys past a sequence's end are padding: its own tokens, or (ragged cache) its cached and new ones.
    const keyLimit = ragged ? offset.map((o, b) => o + batch.lengths[b]!) : !kv && batch.padded ? batch.lengths : null;
    let resid_BTD = embed(p, c, batch, runner, offset);
    const nLayers = opts.stopAtLayer ?? c.nLayers;
    for (let i = 0; i < nLayers; i++) {
      const b = p.blocks[i]!;
      const pre = `blocks.${i}`;
      resid_BTD = runner.point(`${pre}.hook_resid_pre`, resid_BTD, i);
      const normed1 = applyNorm(resid_BTD, b.ln1, c, runner, `${pre}.ln1`, i);
      const attnCtx = { config: c, runner, layer: i, offset, keyLimit, kvCache: kv, newLengths: ragged ? batch.lengths : null, ropeInvFreq: this.ropeInvFreq };
      const attnOut = runner.point(`${pre}.hook_attn_out`, attention(normed1, b.attn, attnCtx), i);
      if (!b.mlp || !b.ln2) {
        resid_BTD = T.add(resid_BTD, attnOut);
      } else if (c.parallelAttnMlp) {
        const normed2 = applyNorm(resid_BTD, b.ln2, c, runner, `${pre}.ln2`, i);
        const mlpOut = runner.point(`${pre}.hook_mlp_out`, mlp(normed2, b.mlp, c.act, runner, i), i);
        resid_BTD = T.add(T.add(resid_BTD, attnOut), mlpOut);
      } else {
        const mid = runner.point(`${pre}.hook_resid_mid`, T.add(resid_BTD, attnOut), i);
        const normed2 = applyNorm(mid, b.ln2, c, runner, `${pre}.ln2`, i);
        const mlpOut = runner.point(`${pre}.hook_mlp_out`, mlp(normed2, b.mlp, c.act, runner, i), i);
        resid_BTD = T.add(mid, mlpOut);
      }
      resid_BTD = runner.point(`${pre}.hook_resid_post`, resid_BTD, i);
    }
    let logits: Tensor | null = null;
    if (opts.stopAtLayer === undefined) {
      const final_BTD = applyNorm(resid_BTD, p.lnFinal, c, runner, 'ln_final', null);
      logits = unembed(final_BTD, p.W_U, batch, runner, opts.lastLogitsOnly ?? false);
    }
    return { logits, cache: runner.cache, batch, captured: runner.captured };
  }
}
