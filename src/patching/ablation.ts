// Ablations: knock out model components and see what breaks.
//   targets  neurons (blocks.L.mlp.hook_post[i]), heads (blocks.L.attn.hook_z[:, :, h]), dictionary
//            features (latent f of an SAE at its hook: h += (replacement - a_f) W_dec[f], so only that
//            feature's contribution changes and the SAE's reconstruction error is kept);
//   methods  'zero'; 'mean' over a reference corpus (its non-BOS positions); 'resample': each position
//            takes the component's value at a random non-BOS position of the reference corpus (seeded;
//            one draw per position, shared by all targets, like patching in another input).
// BOS positions are left alone: their activations are an attention sink every later token reads.
import { InputError } from '../errors.js';
import { TokenBatch, type ForwardHook, type HookContext, type Transformer } from '../model/index.js';
import type { Sae } from '../sae/sae.js';
import { spliceHooks } from '../sae/splice.js';
import * as T from '../tensor/index.js';
import { Rng, Tensor } from '../tensor/index.js';

export type AblationTarget =
  | { kind: 'neuron'; layer: number; index: number }
  | { kind: 'head'; layer: number; head: number }
  | { kind: 'feature'; sae: Sae; feature: number };
export type AblationMethod = 'zero' | 'mean' | 'resample';
export const ABLATION_METHODS: readonly AblationMethod[] = ['zero', 'mean', 'resample'];

export interface AblationOptions {
  method: AblationMethod;
  /** Token sequences the mean and resample methods draw from (BOS positions skipped). */
  reference?: readonly (readonly number[])[];
  seed?: number;
  bosId?: number | null;
}

/** "head:1.3", "neuron:2.17", "feature:42" (features need the dictionary). */
export function parseTargets(text: string, sae: Sae | null): AblationTarget[] {
  const out: AblationTarget[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^head:(\d+)\.(\d+)$/))) out.push({ kind: 'head', layer: +m[1]!, head: +m[2]! });
    else if ((m = part.match(/^neuron:(\d+)\.(\d+)$/))) out.push({ kind: 'neuron', layer: +m[1]!, index: +m[2]! });
    else if ((m = part.match(/^feature:(\d+)$/))) {
      if (!sae) throw new InputError(`${part}: ablating a feature needs its dictionary (--sae DIR)`);
      out.push({ kind: 'feature', sae, feature: +m[1]! });
    } else throw new InputError(`cannot read ablation target "${part}"; write head:LAYER.HEAD, neuron:LAYER.INDEX or feature:INDEX`);
  }
  if (out.length === 0) throw new InputError('nothing to ablate: give targets like head:1.3,neuron:2.17,feature:42');
  return out;
}

function checkTargets(model: Transformer, targets: readonly AblationTarget[]): void {
  const c = model.config;
  for (const t of targets) {
    if (t.kind === 'feature') {
      if (!Number.isInteger(t.feature) || t.feature < 0 || t.feature >= t.sae.dSae) {
        throw new InputError(`feature ${t.feature} is outside the dictionary: it has ${t.sae.dSae} features (0-${t.sae.dSae - 1})`);
      }
      if (t.sae.isTranscoder) throw new InputError('feature ablation here works on SAEs (one hook); a transcoder reads and writes different hooks');
      continue;
    }
    if (!Number.isInteger(t.layer) || t.layer < 0 || t.layer >= c.nLayers) throw new InputError(`layer ${t.layer} is outside the model's ${c.nLayers} layers (0-${c.nLayers - 1})`);
    if (t.kind === 'head' && !(t.head >= 0 && t.head < c.nHeads)) throw new InputError(`head ${t.head} is outside layer ${t.layer}'s ${c.nHeads} heads (0-${c.nHeads - 1})`);
    if (t.kind === 'neuron') {
      if (c.attnOnly) throw new InputError('this model has no MLP neurons (attention-only)');
      if (!(t.index >= 0 && t.index < c.dMlp)) throw new InputError(`neuron ${t.index} is outside layer ${t.layer}'s ${c.dMlp} MLP neurons (0-${c.dMlp - 1})`);
    }
  }
}

/** Hook name and the offsets (within one position's row) a model-component target occupies. */
function componentSlots(model: Transformer, t: Exclude<AblationTarget, { kind: 'feature' }>): { hook: string; slots: number[] } {
  if (t.kind === 'neuron') return { hook: `blocks.${t.layer}.mlp.hook_post`, slots: [t.index] };
  const dh = model.config.dHead;
  return { hook: `blocks.${t.layer}.attn.hook_z`, slots: Array.from({ length: dh }, (_, j) => t.head * dh + j) };
}

/**
 * Reference values per target: for 'mean' one row (the mean), for 'resample' every non-BOS reference
 * position's values. Row layout: a component's slot values, or one latent value for a feature.
 */
function referenceRows(model: Transformer, targets: readonly AblationTarget[], opts: AblationOptions): Float32Array[][] {
  const ref = opts.reference;
  if (!ref || ref.length === 0) throw new InputError(`${opts.method} ablation needs a reference corpus (--reference FILE) to take values from`);
  const bos = opts.bosId === undefined ? 1 : opts.bosId;
  const rows: Float32Array[][] = targets.map(() => []);
  const hooks = [...new Set(targets.filter((t) => t.kind !== 'feature').map((t) => componentSlots(model, t as Exclude<AblationTarget, { kind: 'feature' }>).hook))];
  const saes = [...new Set(targets.filter((t) => t.kind === 'feature').map((t) => (t as { sae: Sae }).sae))];
  for (let s = 0; s < ref.length; s += 16) {
    const batch = TokenBatch.from(ref.slice(s, s + 16));
    const latents = new Map<Sae, Float32Array>();
    const saeHooks = saes.flatMap((sae) => spliceHooks(sae, { withError: true, skipBos: false, onLatents: (l) => void latents.set(sae, l.data.slice()) }));
    const r = T.noGrad(() => model.run(batch, { cache: hooks, hooks: saeHooks, withGrad: false }));
    for (let b = 0; b < batch.batch; b++)
      for (let t = 0; t < batch.lengths[b]!; t++) {
        if (bos !== null && batch.ids[b * batch.maxLen + t] === bos) continue;
        const row = b * batch.maxLen + t;
        targets.forEach((tg, i) => {
          if (tg.kind === 'feature') {
            rows[i]!.push(Float32Array.of(latents.get(tg.sae)![row * tg.sae.dSae + tg.feature]!));
          } else {
            const { hook, slots } = componentSlots(model, tg);
            const a = r.cache.get(hook);
            const per = a.size / (batch.batch * batch.maxLen);
            rows[i]!.push(Float32Array.from(slots, (k) => a.data[row * per + k]!));
          }
        });
      }
  }
  if (rows[0]!.length === 0) throw new InputError('the reference corpus has no positions besides BOS');
  if (opts.method === 'resample') return rows;
  return rows.map((list) => {
    const m = new Float32Array(list[0]!.length);
    for (const r of list) for (let j = 0; j < m.length; j++) m[j] = m[j]! + r[j]! / list.length;
    return [m];
  });
}

/** Forward hooks that ablate the targets (pass to run({hooks}) or generate({hooks})). */
export function ablationHooks(model: Transformer, targets: readonly AblationTarget[], opts: AblationOptions): ForwardHook[] {
  if (!ABLATION_METHODS.includes(opts.method)) throw new InputError(`unknown ablation method "${opts.method}" (methods: ${ABLATION_METHODS.join(', ')})`);
  checkTargets(model, targets);
  const ref = opts.method === 'zero' ? null : referenceRows(model, targets, opts);
  const rng = new Rng(opts.seed ?? 0);
  const bos = opts.bosId === undefined ? 1 : opts.bosId;
  // One draw per (run, position), shared by every target: resampling patches in one other context.
  let draws = new Map<number, number>();
  let lastBatch: unknown = null;
  const pick = (ctx: HookContext, row: number): number => {
    if (ctx.batch !== lastBatch) {
      lastBatch = ctx.batch;
      draws = new Map();
    }
    let d = draws.get(row);
    if (d === undefined) draws.set(row, (d = Math.floor(rng.uniform() * ref![0]!.length)));
    return d;
  };
  const replacement = (i: number, ctx: HookContext, row: number): Float32Array | null =>
    opts.method === 'zero' ? null : opts.method === 'mean' ? ref![i]![0]! : ref![i]![pick(ctx, row)]!;
  const skip = (ctx: HookContext, b: number, t: number): boolean => t >= ctx.batch.lengths[b]! || (bos !== null && ctx.batch.ids[b * ctx.batch.maxLen + t] === bos);

  const hooks: ForwardHook[] = [];
  const byHook = new Map<string, { i: number; slots: number[] }[]>();
  targets.forEach((t, i) => {
    if (t.kind === 'feature') return;
    const { hook, slots } = componentSlots(model, t);
    byHook.set(hook, [...(byHook.get(hook) ?? []), { i, slots }]);
  });
  for (const [name, list] of byHook) {
    hooks.push({
      name,
      fn: (x, ctx) => {
        const [B, Tn] = x.shape as [number, number];
        const per = x.size / (B * Tn);
        const out = x.data.slice();
        for (let b = 0; b < B; b++)
          for (let t = 0; t < Tn; t++) {
            if (skip(ctx, b, t)) continue;
            for (const { i, slots } of list) {
              const rep = replacement(i, ctx, b * Tn + t);
              slots.forEach((k, j) => (out[(b * Tn + t) * per + k] = rep ? rep[j]! : 0));
            }
          }
        return new Tensor(out, x.shape);
      },
    });
  }
  const saes = [...new Set(targets.filter((t) => t.kind === 'feature').map((t) => (t as { sae: Sae }).sae))];
  for (const sae of saes) {
    const mine = targets.map((t, i) => ({ t, i })).filter((e) => e.t.kind === 'feature' && e.t.sae === sae) as { t: { feature: number }; i: number }[];
    hooks.push(
      ...spliceHooks(sae, {
        withError: true,
        skipBos: bos !== null,
        bosId: bos,
        onLatents: (lat, ctx) => {
          const F = sae.dSae;
          const data = lat.data.slice();
          const rows = data.length / F;
          for (let r = 0; r < rows; r++) {
            const b = Math.floor(r / ctx.batch.maxLen);
            if (skip(ctx, b, r % ctx.batch.maxLen)) continue;
            for (const { t, i } of mine) data[r * F + t.feature] = replacement(i, ctx, r)?.[0] ?? 0;
          }
          return new Tensor(data, lat.shape);
        },
      }),
    );
  }
  return hooks;
}

export interface AblationEffect {
  /** Mean next-token loss over the sequences' positions (BOS-predicting positions included as they come). */
  cleanLoss: number;
  ablatedLoss: number;
  delta: number;
  tokens: number;
}

/** Next-token loss of sequences with and without the ablation. */
export function ablationEffect(model: Transformer, sequences: readonly (readonly number[])[], targets: readonly AblationTarget[], opts: AblationOptions): AblationEffect {
  if (sequences.length === 0) throw new InputError('ablationEffect needs at least one sequence');
  const hooks = ablationHooks(model, targets, opts);
  let clean = 0;
  let ablated = 0;
  let n = 0;
  for (let s = 0; s < sequences.length; s += 16) {
    const batch = TokenBatch.from(sequences.slice(s, s + 16));
    const a = nextTokenLoss(model, batch, []);
    const b = nextTokenLoss(model, batch, hooks);
    clean += a.sum;
    ablated += b.sum;
    n += a.n;
  }
  if (n === 0) throw new InputError('the sequences are too short to score (each needs at least 2 tokens)');
  return { cleanLoss: clean / n, ablatedLoss: ablated / n, delta: (ablated - clean) / n, tokens: n };
}

function nextTokenLoss(model: Transformer, batch: TokenBatch, hooks: readonly ForwardHook[]): { sum: number; n: number } {
  const logits = T.noGrad(() => model.run(batch, { hooks, withGrad: false }).logits!);
  const V = logits.shape[2]!;
  const Tn = batch.maxLen;
  let sum = 0;
  let n = 0;
  for (let b = 0; b < batch.batch; b++)
    for (let t = 0; t + 1 < batch.lengths[b]!; t++) {
      const o = (b * Tn + t) * V;
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, logits.data[o + v]!);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits.data[o + v]! - m);
      sum += m + Math.log(z) - logits.data[o + batch.ids[b * Tn + t + 1]!]!;
      n++;
    }
  return { sum, n };
}
