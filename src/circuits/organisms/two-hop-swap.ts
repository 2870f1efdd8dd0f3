// The two-hop organism's intervention test: does the answer go through the intermediate city?
// 1. Questions with each city as the intermediate (perCity each); the transcoder latents at two sites:
//    the queried person's city token ("city") and the last position ("last"), at every layer.
// 2. City features: at each (layer, site), the latents whose mean activation on questions about city c
//    most exceeds their mean on the other questions.
// 3. Swap: in a question about city a, set a's top-m features (those active there) to 0 and clamp the
//    top-m features of a city b in another country to their mean activation on b's questions. The
//    answer should move from a's country to b's. The flip rate per (layer, site, m) is the report.
import { InputError } from '../../errors.js';
import type { Transformer } from '../../model/index.js';
import type { Tokenizer } from '../../model/tokenizers/tokenizer.js';
import * as T from '../../tensor/index.js';
import { Rng } from '../../tensor/index.js';
import { interveneFeatures, type FeatureIntervention } from '../intervene.js';
import type { TranscoderSet } from '../transcoder-set.js';
import { CITIES, CITY_COUNTRY, twoHopQuestion, type TwoHopQuestion } from './two-hop.js';

export type SwapSite = 'city' | 'last';

export interface SwapResult {
  layer: number;
  site: SwapSite;
  /** Features swapped per city. */
  m: number;
  trials: number;
  flips: number;
  flip_rate: number;
}

export interface SwapReport {
  questions: number;
  results: SwapResult[];
  best: SwapResult | null;
  /** One swap at the best setting, as `loupe intervene` would be asked for it. */
  example: {
    prompt: string;
    from_city: string;
    to_city: string;
    expected: string;
    answer_before: string;
    answer_after: string;
    set: string[];
  } | null;
}

interface Sample {
  q: TwoHopQuestion;
  ids: number[];
  pos: Record<SwapSite, number>;
  /** acts[layer][site] dense [F]. */
  acts: Record<SwapSite, Float32Array>[];
}

export function cityFeatureSwap(model: Transformer, tokenizer: Tokenizer, set: TranscoderSet, o: { seed?: number; perCity?: number; ms?: number[] } = {}): SwapReport {
  const rng = new Rng(o.seed ?? 3);
  const perCity = o.perCity ?? 4;
  const ms = o.ms ?? [1, 2, 3];
  const N = set.nLayers;
  const D = set.dModel;
  const sites: SwapSite[] = ['city', 'last'];
  const samples: Sample[] = [];
  for (const city of CITIES) {
    for (let i = 0; i < perCity; i++) {
      const q = twoHopQuestion(rng, { city, facts: 3 });
      const ids = tokenizer.encode(q.prompt, { bos: true });
      const fact = ` ${q.person} ${q.city}.`;
      const cityPos = tokenizer.encode(q.prompt.slice(0, q.prompt.indexOf(fact) + fact.length - 1), { bos: true }).length - 1;
      const run = T.noGrad(() => model.run([ids], { cache: Array.from({ length: N }, (_, l) => set.inputHook(l)) }));
      const pos = { city: cityPos, last: ids.length - 1 };
      const acts = Array.from({ length: N }, (_, l) => {
        const x = run.cache.get(set.inputHook(l)).data;
        const at = (p: number): Float32Array => {
          const lat = set.layers[l]!.encode(x.slice(p * D, (p + 1) * D), 1);
          const dense = new Float32Array(set.layers[l]!.F);
          for (let e = 0; e < lat.rowPtr[1]!; e++) dense[lat.idx[e]!] = lat.val[e]!;
          return dense;
        };
        return { city: at(pos.city), last: at(pos.last) };
      });
      samples.push({ q, ids, pos, acts });
    }
  }
  // Mean activation per (layer, site, city) and the city features ranked by selectivity.
  const ranked = new Map<string, { features: number[]; mean: Float32Array }>();
  for (let l = 0; l < N; l++) {
    const F = set.layers[l]!.F;
    for (const site of sites) {
      const total = new Float64Array(F);
      for (const s of samples) for (let f = 0; f < F; f++) total[f] += s.acts[l]![site][f]!;
      for (const city of CITIES) {
        const own = samples.filter((s) => s.q.city === city);
        const mean = new Float32Array(F);
        for (const s of own) for (let f = 0; f < F; f++) mean[f] += s.acts[l]![site][f]! / own.length;
        const sel = Array.from({ length: F }, (_, f) => mean[f]! - (total[f]! - mean[f]! * own.length) / (samples.length - own.length));
        const features = Array.from(sel.keys()).filter((f) => mean[f]! > 0).sort((a, b) => sel[b]! - sel[a]!);
        ranked.set(`${l}:${site}:${city}`, { features, mean });
      }
    }
  }
  const countryId = (c: string): number => {
    const ids = tokenizer.encode(` ${c}`, { bos: false });
    if (ids.length !== 1) throw new InputError(`" ${c}" is not one token under this tokenizer`);
    return ids[0]!;
  };
  const results: SwapResult[] = [];
  let best: SwapResult | null = null;
  let example: SwapReport['example'] = null;
  const targets = samples.map((s) => {
    const others = CITIES.filter((c) => CITY_COUNTRY[c] !== s.q.country);
    return others[rng.int(others.length)]!;
  });
  for (let l = 0; l < N; l++) {
    for (const site of sites) {
      for (const m of ms) {
        let flips = 0;
        let first: SwapReport['example'] = null;
        let firstFlip = false;
        samples.forEach((s, i) => {
          const b = targets[i]!;
          const from = ranked.get(`${l}:${site}:${s.q.city}`)!;
          const to = ranked.get(`${l}:${site}:${b}`)!;
          const p = s.pos[site];
          const ivs: FeatureIntervention[] = [];
          for (const f of from.features.filter((f) => s.acts[l]![site][f]! > 0).slice(0, m)) ivs.push({ layer: l, pos: p, feature: f, value: 0 });
          for (const f of to.features.slice(0, m)) if (!ivs.some((iv) => iv.feature === f)) ivs.push({ layer: l, pos: p, feature: f, value: to.mean[f]! });
          if (!ivs.length) return;
          const r = interveneFeatures(model, set, s.ids, ivs, { allowInactive: true, top: 1, tokenizer });
          const ok = r.top_after === countryId(CITY_COUNTRY[b]!);
          if (ok) flips++;
          if (first && (firstFlip || !ok)) return;
          firstFlip = ok;
          first = {
            prompt: s.q.prompt,
            from_city: s.q.city,
            to_city: b,
            expected: CITY_COUNTRY[b]!,
            answer_before: tokenizer.decodeToken(r.top_before, s.ids.at(-1)),
            answer_after: tokenizer.decodeToken(r.top_after, s.ids.at(-1)),
            set: ivs.map((iv) => `${iv.layer}:${iv.pos}:${iv.feature}=${+iv.value.toFixed(4)}`),
          };
        });
        const res: SwapResult = { layer: l, site, m, trials: samples.length, flips, flip_rate: flips / samples.length };
        results.push(res);
        if (!best || res.flip_rate > best.flip_rate) {
          best = res;
          example = first;
        }
      }
    }
  }
  return { questions: samples.length, results, best, example };
}
