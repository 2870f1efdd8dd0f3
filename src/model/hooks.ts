// Hook points with the TransformerLens vocabulary. A run resolves the caller's hooks, cache requests and
// gradient requests against the model's hook names once (unknown names fail with suggestions), and the
// forward pass calls point(name, tensor) at every site; sites nobody asked for cost one map lookup.
import { InputError, ShapeError, closestNames } from '../errors.js';
import { Tensor } from '../tensor/index.js';
import type { TokenBatch } from './batch.js';
import type { ModelConfig } from './config.js';

export interface HookContext {
  /** The full hook name, e.g. "blocks.3.attn.hook_pattern". */
  readonly name: string;
  /** Block index, or null for hooks outside the blocks (hook_embed, ln_final, unembed). */
  readonly layer: number | null;
  readonly batch: TokenBatch;
  /** Absolute position of index 0 along the pos dimension (the KV-cache length when decoding). */
  readonly offset: number;
  /**
   * Set when the sequences of a KV-cached batch sit at different positions (batched generation of
   * prompts of different lengths): index 0's position per sequence [batch]; offset is then sequence 0's.
   */
  readonly rowOffsets?: Int32Array;
}

/** Which hook names a hook or request applies to: one name, or a filter over all names. */
export type HookSelector = string | ((name: string) => boolean);

/** Reads an activation, or returns a replacement of the same shape (patch, ablate, clamp, steer). */
export type ForwardHookFn = (activation: Tensor, ctx: HookContext) => Tensor | void;
/** Reads the gradient of an activation during backward, or returns a replacement. */
export type GradHookFn = (grad: Float32Array, ctx: HookContext) => Float32Array | void;

export interface ForwardHook {
  name: HookSelector;
  fn: ForwardHookFn;
}
export interface GradHook {
  name: HookSelector;
  fn: GradHookFn;
}

/** Every hook point of a model, in the order the forward pass reaches them. */
export function hookNames(c: ModelConfig): string[] {
  const names = ['hook_embed'];
  if (c.positional === 'learned') names.push('hook_pos_embed');
  for (let i = 0; i < c.nLayers; i++) {
    const p = `blocks.${i}`;
    names.push(`${p}.hook_resid_pre`, `${p}.ln1.hook_scale`, `${p}.ln1.hook_normalized`);
    names.push(`${p}.attn.hook_q`, `${p}.attn.hook_k`, `${p}.attn.hook_v`);
    if (c.positional === 'rope') names.push(`${p}.attn.hook_rot_q`, `${p}.attn.hook_rot_k`);
    names.push(`${p}.attn.hook_attn_scores`, `${p}.attn.hook_pattern`, `${p}.attn.hook_z`, `${p}.attn.hook_result`, `${p}.hook_attn_out`);
    if (!c.attnOnly) {
      if (!c.parallelAttnMlp) names.push(`${p}.hook_resid_mid`);
      names.push(`${p}.ln2.hook_scale`, `${p}.ln2.hook_normalized`, `${p}.mlp.hook_pre`);
      if (c.gatedMlp) names.push(`${p}.mlp.hook_pre_linear`);
      names.push(`${p}.mlp.hook_post`, `${p}.hook_mlp_out`);
    }
    names.push(`${p}.hook_resid_post`);
  }
  names.push('ln_final.hook_scale', 'ln_final.hook_normalized', 'unembed');
  return names;
}

/** The documented shape of a hook (symbolic dimension names, TransformerLens order). */
export function hookShape(name: string, c: ModelConfig): string[] {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  const kvHeads = c.nKvHeads === c.nHeads ? 'head_index' : 'kv_head_index';
  switch (leaf) {
    case 'hook_q':
    case 'hook_rot_q':
    case 'hook_z':
      return ['batch', 'pos', 'head_index', 'd_head'];
    case 'hook_k':
    case 'hook_rot_k':
    case 'hook_v':
      return ['batch', 'pos', kvHeads, 'd_head'];
    case 'hook_attn_scores':
    case 'hook_pattern':
      return ['batch', 'head_index', 'query_pos', 'key_pos'];
    case 'hook_result':
      return ['batch', 'pos', 'head_index', 'd_model'];
    case 'hook_scale':
      return ['batch', 'pos', '1'];
    case 'hook_pre':
    case 'hook_pre_linear':
    case 'hook_post':
      return ['batch', 'pos', 'd_mlp'];
    case 'unembed':
      return ['batch', 'pos', 'd_vocab'];
    default:
      return ['batch', 'pos', 'd_model'];
  }
}

/** Layer index of a block hook name, or null. */
export function hookLayer(name: string): number | null {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

export function unknownHookError(name: string, valid: Iterable<string>): InputError {
  const near = closestNames(name, valid, 3);
  return new InputError(`unknown hook point "${name}" (closest: ${near.join(', ')})`, { name, closest: near });
}

/** Resolve a selector against the valid names; a string must name a hook point exactly. */
export function selectNames(sel: HookSelector, valid: readonly string[], validSet: ReadonlySet<string>): string[] {
  if (typeof sel === 'function') return valid.filter((n) => sel(n));
  if (!validSet.has(sel)) throw unknownHookError(sel, valid);
  return [sel];
}

/** Activations recorded by a run, by hook name. */
export class ActivationCache {
  private readonly map = new Map<string, Tensor>();
  constructor(
    readonly batch: TokenBatch,
    private readonly validNames: readonly string[],
  ) {}

  /** InputError when the name is not a hook point, or was not cached in this run. */
  get(name: string): Tensor {
    const t = this.map.get(name);
    if (t) return t;
    if (!this.validNames.includes(name)) throw unknownHookError(name, this.validNames);
    throw new InputError(`hook point "${name}" was not cached in this run (cached: ${this.map.size ? [...this.map.keys()].slice(0, 8).join(', ') + (this.map.size > 8 ? ', ...' : '') : 'none'})`, { name });
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  names(): string[] {
    return [...this.map.keys()];
  }
  entries(): IterableIterator<[string, Tensor]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }
  /** @internal used by the forward pass */
  set(name: string, t: Tensor): void {
    this.map.set(name, t);
  }
}

export type CacheRequest = boolean | readonly string[] | ((name: string) => boolean);

export interface HookPlan {
  cache?: CacheRequest;
  hooks?: readonly ForwardHook[];
  gradHooks?: readonly GradHook[];
  /** Names whose activations should be kept on the tape and handed back (for gradients). */
  capture?: readonly string[];
}

interface Entry {
  fwd: ForwardHookFn[];
  grad: GradHookFn[];
  cache: boolean;
  capture: boolean;
}

/** One run's hook bookkeeping. */
export class HookRunner {
  readonly cache: ActivationCache;
  readonly captured = new Map<string, Tensor>();
  private readonly entries = new Map<string, Entry>();
  /** Keep cached tensors on the tape (when the caller will differentiate through them). */
  keepTape = false;
  offset = 0;
  rowOffsets: Int32Array | null = null;

  constructor(
    readonly batch: TokenBatch,
    valid: readonly string[],
    plan: HookPlan,
  ) {
    this.cache = new ActivationCache(batch, valid);
    const validSet = new Set(valid);
    const entry = (name: string): Entry => {
      let e = this.entries.get(name);
      if (!e) this.entries.set(name, (e = { fwd: [], grad: [], cache: false, capture: false }));
      return e;
    };
    const c = plan.cache;
    if (c === true) for (const n of valid) entry(n).cache = true;
    else if (typeof c === 'function') for (const n of valid) (c(n) ? (entry(n).cache = true) : null);
    else if (Array.isArray(c)) for (const n of c as readonly string[]) for (const m of selectNames(n, valid, validSet)) entry(m).cache = true;
    for (const h of plan.hooks ?? []) for (const n of selectNames(h.name, valid, validSet)) entry(n).fwd.push(h.fn);
    for (const h of plan.gradHooks ?? []) for (const n of selectNames(h.name, valid, validSet)) entry(n).grad.push(h.fn);
    for (const n of plan.capture ?? []) for (const m of selectNames(n, valid, validSet)) entry(m).capture = true;
  }

  /** True when anything is attached to `name` (the forward pass skips optional work otherwise). */
  wants(name: string): boolean {
    return this.entries.has(name);
  }

  /** True when some hook point needs gradients (the run must record the tape). */
  get needsTape(): boolean {
    for (const e of this.entries.values()) if (e.grad.length || e.capture) return true;
    return false;
  }

  /** Pass an activation through its hook point: forward hooks, gradient taps, cache. */
  point(name: string, x: Tensor, layer: number | null): Tensor {
    const e = this.entries.get(name);
    if (!e) return x;
    const ctx: HookContext = this.rowOffsets
      ? { name, layer, batch: this.batch, offset: this.offset, rowOffsets: this.rowOffsets }
      : { name, layer, batch: this.batch, offset: this.offset };
    for (const fn of e.fwd) {
      const r = fn(x, ctx);
      if (r !== undefined && r !== null) {
        if (!(r instanceof Tensor)) throw new InputError(`hook on "${name}" returned ${typeof r}, expected a Tensor or nothing`);
        if (r.shape.length !== x.shape.length || r.shape.some((d, i) => d !== x.shape[i])) {
          throw new ShapeError(`hook on "${name}"`, 'a replacement must have the activation\'s shape', [x.shape, r.shape]);
        }
        x = r;
      }
    }
    if (e.grad.length || e.capture) {
      // Gradients with respect to this activation: it must be on the tape. When nothing upstream
      // requires grad (inference weights), make it a leaf here; downstream ops then record.
      if (!x.requiresGrad) x = new Tensor(x.data, x.shape, true);
      for (const fn of e.grad) x.onGrad((g) => fn(g, ctx));
      if (e.capture) this.captured.set(name, x);
    }
    if (e.cache) this.cache.set(name, this.keepTape ? x : x.detach());
    return x;
  }
}
