// Interventions on transcoder features, to check what a graph claims: clamp (or ablate, value 0) chosen
// features at chosen positions and read the new logits. As circuit-tracer's feature_intervention does it,
// the model itself runs (real MLPs, so every feature not intervened on responds to the change); at a
// clamped feature's layer its decoder adds (value - current activation) x W_dec[f] to the MLP output of
// every layer it writes, the current activation being the one this run computes at that point (so
// upstream interventions are accounted for). Attention either recomputes (default) or keeps the clean
// run's patterns (freezeAttention).
import { InputError } from '../errors.js';
import type { ForwardHook, Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import * as T from '../tensor/index.js';
import { Tensor } from '../tensor/index.js';
import { freezeHooks } from './replacement.js';
import { outputHook, type TranscoderSet } from './transcoder-set.js';

export interface FeatureIntervention {
  layer: number;
  /** Position; negative counts from the end (-1 = last). */
  pos: number;
  feature: number;
  value: number;
}

export interface InterveneOptions {
  freezeAttention?: boolean;
  /** Allow clamping a feature that is not active at that position in the clean run (default false: an error). */
  allowInactive?: boolean;
  /** Tokens listed per side (default 10). */
  top?: number;
  tokenizer?: Tokenizer;
}

export interface TokenLogit {
  id: number;
  token: string;
  logit: number;
  prob: number;
}

export interface InterveneResult {
  tokens: number;
  interventions: (FeatureIntervention & { pos: number; clean_activation: number })[];
  freeze_attention: boolean;
  /** Last position: the top tokens before and after, and every listed token's logit on both sides. */
  before: TokenLogit[];
  after: TokenLogit[];
  /** Both sides for the union of the two top lists. */
  changes: { id: number; token: string; logit_before: number; logit_after: number; prob_before: number; prob_after: number }[];
  top_before: number;
  top_after: number;
  /** Full last-position logits (for programs). */
  logitsBefore: Float32Array;
  logitsAfter: Float32Array;
}

/** "L:POS:F=VALUE" (POS may be negative: -1 is the last position). */
export function parseIntervention(spec: string): FeatureIntervention {
  const m = /^\s*(\d+):(-?\d+):(\d+)\s*=\s*(\S+)\s*$/.exec(spec);
  const value = m ? Number(m[4]) : NaN;
  if (!m || !Number.isFinite(value)) throw new InputError(`--set expects LAYER:POS:FEATURE=VALUE (e.g. 2:5:113=0 ablates feature 113 of layer 2 at position 5), got "${spec}"`);
  return { layer: Number(m[1]), pos: Number(m[2]), feature: Number(m[3]), value };
}

export function interveneFeatures(model: Transformer, set: TranscoderSet, ids: readonly number[], interventions: readonly FeatureIntervention[], o: InterveneOptions = {}): InterveneResult {
  set.checkFits(model);
  const c = model.config;
  const Tn = ids.length;
  if (Tn === 0) throw new InputError('the prompt has no tokens');
  if (Tn > c.nCtx) throw new InputError(`the prompt is ${Tn} tokens, longer than the model's context of ${c.nCtx}`);
  if (interventions.length === 0) throw new InputError('give at least one intervention (--set LAYER:POS:FEATURE=VALUE)');
  const N = c.nLayers;
  const D = c.dModel;
  const names = [...Array.from({ length: N }, (_, l) => set.inputHook(l))];
  if (o.freezeAttention) for (let l = 0; l < N; l++) names.push(`blocks.${l}.attn.hook_pattern`);
  const clean = T.noGrad(() => model.run([ids.slice()], { cache: names }));
  const resolved = interventions.map((iv) => {
    const pos = iv.pos < 0 ? Tn + iv.pos : iv.pos;
    if (!Number.isInteger(iv.layer) || iv.layer < 0 || iv.layer >= N) throw new InputError(`intervention ${describe(iv)}: the model has layers 0-${N - 1}`);
    if (pos < 0 || pos >= Tn) throw new InputError(`intervention ${describe(iv)}: the prompt has positions 0-${Tn - 1}`);
    const F = set.layers[iv.layer]!.F;
    if (!Number.isInteger(iv.feature) || iv.feature < 0 || iv.feature >= F) throw new InputError(`intervention ${describe(iv)}: feature ${iv.feature} does not exist (layer ${iv.layer} has features 0-${F - 1})`);
    const x = clean.cache.get(set.inputHook(iv.layer)).data.subarray(pos * D, (pos + 1) * D);
    const act = activationOf(set, iv.layer, x, iv.feature);
    if (!(act.value > 0) && !o.allowInactive) {
      const shown = act.active.slice(0, 8).map(([f, v]) => `${f} (${v.toFixed(2)})`).join(', ');
      throw new InputError(`intervention ${describe(iv)}: feature ${iv.feature} is not active at layer ${iv.layer}, position ${pos} (active there: ${shown || 'none'}); pass --allow-inactive to clamp it anyway`);
    }
    return { ...iv, pos, clean_activation: act.value };
  });

  const hooks: ForwardHook[] = [];
  if (o.freezeAttention) {
    const frozen = {
      patterns: Array.from({ length: N }, (_, l) => clean.cache.get(`blocks.${l}.attn.hook_pattern`).data),
      ln1Scale: [],
      ln2Scale: [],
      lnfScale: new Float32Array(0),
    };
    hooks.push(...freezeHooks(model, frozen, Tn, { patterns: true, scales: false }));
  }
  // Per output layer: the deltas to add, filled when the source layer's input passes by.
  const deltas: Float32Array[] = Array.from({ length: N }, () => new Float32Array(Tn * D));
  const byLayer = new Map<number, typeof resolved>();
  for (const iv of resolved) byLayer.set(iv.layer, [...(byLayer.get(iv.layer) ?? []), iv]);
  for (const [L, ivs] of byLayer) {
    hooks.push({
      name: set.inputHook(L),
      fn: (x) => {
        for (const iv of ivs) {
          const cur = activationOf(set, L, x.data.subarray(iv.pos * D, (iv.pos + 1) * D), iv.feature).value;
          const scale = iv.value - cur;
          for (const l of set.outputsOf(L)) {
            const W = set.decoder(L, l)!;
            const d = deltas[l]!;
            for (let j = 0; j < D; j++) d[iv.pos * D + j] += scale * W[iv.feature * D + j]!;
          }
        }
      },
    });
  }
  const touched = new Set(resolved.flatMap((iv) => set.outputsOf(iv.layer)));
  for (const l of touched) {
    hooks.push({
      name: outputHook(l),
      fn: (y) => {
        const out = y.data.slice();
        const d = deltas[l]!;
        for (let i = 0; i < out.length; i++) out[i] += d[i]!;
        return new Tensor(out, y.shape);
      },
    });
  }
  const V = c.vocabSize;
  const last = (logits: Tensor): Float32Array => logits.data.slice((Tn - 1) * V, Tn * V);
  const before = last(T.noGrad(() => model.run([ids.slice()])).logits!);
  const after = last(T.noGrad(() => model.run([ids.slice()], { hooks })).logits!);
  const top = o.top ?? 10;
  const name = (id: number): string => o.tokenizer?.decodeToken(id, ids[Tn - 1]) ?? String(id);
  const pb = softmax(before);
  const pa = softmax(after);
  const list = (l: Float32Array, p: Float64Array): TokenLogit[] =>
    Array.from(l.keys())
      .sort((a, b) => l[b]! - l[a]!)
      .slice(0, top)
      .map((id) => ({ id, token: name(id), logit: l[id]!, prob: p[id]! }));
  const b = list(before, pb);
  const a = list(after, pa);
  const union = [...new Set([...b.map((t) => t.id), ...a.map((t) => t.id)])];
  return {
    tokens: Tn,
    interventions: resolved,
    freeze_attention: o.freezeAttention ?? false,
    before: b,
    after: a,
    changes: union.map((id) => ({ id, token: name(id), logit_before: before[id]!, logit_after: after[id]!, prob_before: pb[id]!, prob_after: pa[id]! })),
    top_before: b[0]!.id,
    top_after: a[0]!.id,
    logitsBefore: before,
    logitsAfter: after,
  };
}

/** Feature f's activation for one input row x [D] of layer L, and the row's active features. */
export function activationOf(set: TranscoderSet, L: number, x: Float32Array, f: number): { value: number; active: [number, number][] } {
  const lat = set.layers[L]!.encode(x.slice(), 1);
  const active: [number, number][] = [];
  let value = 0;
  for (let e = lat.rowPtr[0]!; e < lat.rowPtr[1]!; e++) {
    active.push([lat.idx[e]!, lat.val[e]!]);
    if (lat.idx[e] === f) value = lat.val[e]!;
  }
  active.sort((p, q) => q[1] - p[1]);
  return { value, active };
}

function softmax(l: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of l) m = Math.max(m, v);
  const out = new Float64Array(l.length);
  let z = 0;
  for (let i = 0; i < l.length; i++) z += out[i] = Math.exp(l[i]! - m);
  for (let i = 0; i < l.length; i++) out[i] = out[i]! / z;
  return out;
}

function describe(iv: FeatureIntervention): string {
  return `${iv.layer}:${iv.pos}:${iv.feature}=${iv.value}`;
}
