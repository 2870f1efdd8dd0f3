// Every per-feature statistic of a build, gathered in one streaming pass over latent activations with
// memory fixed up front: firing counts, sums and maxima; a doubling histogram with range-stratified
// sample sequences; the top-k sequences; never-firing sequences (negatives, for scoring explanations);
// co-firing counts; and (feature, token) evidence for search. The whole state serialises into a
// checkpoint, including the sampling RNG, so a resumed build ends exactly where an uninterrupted one would.
import type { LatentBatch } from '../source.js';
import { Cooccurrence } from './cooccurrence.js';
import { packArrays, unpackArrays, type NumericArray } from './pack.js';
import { PairTable } from './pair-table.js';
import { RangeStats, type FeatureHistogram } from './range-stats.js';
import { SmallRng } from './rng.js';
import { SampleSlots } from './slots.js';
import { TopExamples } from './top-examples.js';

export interface AccumulatorConfig {
  nFeatures: number;
  vocabSize: number;
  /** Longest sequence (slots store this many per-token activations). */
  context: number;
  topK: number;
  /** Reservoir strata over the activation range (even, divides 1600) and samples kept per stratum. */
  sampleBins: number;
  samplesPerSampleBin: number;
  samplesPerRangeBin: number;
  negatives: number;
  coactPerToken: number;
  /** Most (feature, token) pairs tracked for search. */
  featureTokenCap: number;
  seed: number;
}

export const DEFAULT_ACCUMULATOR: Omit<AccumulatorConfig, 'nFeatures' | 'vocabSize' | 'context'> = {
  topK: 20,
  sampleBins: 20,
  samplesPerSampleBin: 4,
  samplesPerRangeBin: 5,
  negatives: 8,
  coactPerToken: 32,
  featureTokenCap: 1 << 23,
  seed: 0,
};

export interface Sample {
  seq: number;
  position: number;
  activation: number;
  /** The feature's activation at every position of the sequence. */
  activations: Float32Array;
}

export interface FeatureSummary {
  feature: number;
  fireCount: number;
  density: number;
  maxActivation: number;
  meanActivation: number;
  histogram: FeatureHistogram | null;
  bins: { lo: number; hi: number; count: number; samples: Sample[] }[];
  top: Sample[];
  negatives: number[];
}

export class FeatureAccumulator {
  readonly cfg: AccumulatorConfig;
  /** Statistics positions seen (BOS positions excluded when the build says so). */
  tokens = 0;
  sequences = 0;
  readonly fireCount: Float64Array;
  readonly sumAct: Float64Array;
  readonly maxAct: Float32Array;
  readonly tokenCounts: Float64Array;
  readonly negSeen: Float64Array;
  readonly negSeq: Int32Array;
  readonly slots: SampleSlots;
  readonly top: TopExamples;
  readonly range: RangeStats;
  readonly cooc: Cooccurrence;
  readonly featureTokens: PairTable;
  readonly rng: SmallRng;
  // scratch, per token / per sequence
  private readonly activeIdx: Int32Array;
  private readonly activeVal: Float32Array;
  private readonly seqMax: Float32Array;
  private readonly seqArg: Int32Array;
  private readonly touched: Int32Array;

  constructor(cfg: AccumulatorConfig, restored?: { meta: Record<string, number>; arrays: Record<string, NumericArray> }) {
    this.cfg = cfg;
    const F = cfg.nFeatures;
    const a = restored?.arrays;
    this.fireCount = (a?.fireCount as Float64Array) ?? new Float64Array(F);
    this.sumAct = (a?.sumAct as Float64Array) ?? new Float64Array(F);
    this.maxAct = (a?.maxAct as Float32Array) ?? new Float32Array(F);
    this.tokenCounts = (a?.tokenCounts as Float64Array) ?? new Float64Array(cfg.vocabSize);
    this.negSeen = (a?.negSeen as Float64Array) ?? new Float64Array(F);
    this.negSeq = (a?.negSeq as Int32Array) ?? new Int32Array(F * cfg.negatives).fill(-1);
    const perFeature = cfg.topK + cfg.sampleBins * cfg.samplesPerSampleBin;
    this.slots = new SampleSlots(
      F,
      perFeature,
      cfg.context,
      a ? { act: a.slotAct as Float32Array, seq: a.slotSeq as Int32Array, pos: a.slotPos as Int32Array, len: a.slotLen as Int32Array, acts: a.slotActs as Float32Array } : undefined,
    );
    this.top = new TopExamples(this.slots, cfg.topK, a ? { heap: a.topHeap as Uint16Array, size: a.topSize as Uint16Array } : undefined);
    this.rng = new SmallRng(restored ? restored.meta.rng! : cfg.seed * 2654435761 + 1);
    this.range = new RangeStats(
      this.slots,
      cfg.topK,
      cfg.sampleBins,
      cfg.samplesPerSampleBin,
      this.rng,
      a ? { exp: a.rangeExp as Int32Array, hist: a.rangeHist as Uint32Array, seen: a.rangeSeen as Float64Array } : undefined,
    );
    const sparse = a?.coKeysA
      ? PairTable.fromArrays(
          { keysA: a.coKeysA, keysB: a.coKeysB, counts: a.coCounts, sums: a.coSums, maxes: a.coMaxes },
          { size: restored!.meta.coSize!, dropped: restored!.meta.coDropped!, maxEntries: restored!.meta.coMax! },
        )
      : undefined;
    this.cooc = new Cooccurrence(F, cfg.coactPerToken, a ? { dense: a.coDense as Uint32Array | undefined, sparse } : undefined);
    this.featureTokens = a
      ? PairTable.fromArrays(
          { keysA: a.ftKeysA, keysB: a.ftKeysB, counts: a.ftCounts, sums: a.ftSums, maxes: a.ftMaxes },
          { size: restored!.meta.ftSize!, dropped: restored!.meta.ftDropped!, maxEntries: cfg.featureTokenCap },
        )
      : new PairTable(cfg.featureTokenCap, 1 << 16);
    if (restored) {
      this.tokens = restored.meta.tokens!;
      this.sequences = restored.meta.sequences!;
    }
    this.activeIdx = new Int32Array(F);
    this.activeVal = new Float32Array(F);
    this.seqMax = new Float32Array(F);
    this.seqArg = new Int32Array(F);
    this.touched = new Int32Array(F);
  }

  /**
   * Adds one batch: `ids[b]` are the tokens of sequence `seqIds[b]`; positions before `statsFrom`
   * (the BOS position) are left out of every statistic, though their values stay in stored rows.
   */
  addBatch(lb: LatentBatch, ids: readonly (readonly number[])[], seqIds: readonly number[], statsFrom: number): void {
    const F = this.cfg.nFeatures;
    const acts = lb.acts_BTF;
    const sp = lb.sparse;
    const { activeIdx, activeVal, seqMax, seqArg, touched } = this;
    for (let b = 0; b < lb.batch; b++) {
      const len = lb.lengths[b]!;
      const seqBase = b * lb.maxLen * F;
      const tokens = ids[b]!;
      const seq = seqIds[b]!;
      let nTouched = 0;
      for (let t = statsFrom; t < len; t++) {
        const row = seqBase + t * F;
        const tok = tokens[t]!;
        this.tokenCounts[tok]!++;
        let n = 0;
        if (sp) {
          const r = b * lb.maxLen + t;
          for (let i = sp.rowPtr[r]!; i < sp.rowPtr[r + 1]!; i++) {
            if (sp.val[i]! > 0) {
              activeIdx[n] = sp.idx[i]!;
              activeVal[n] = sp.val[i]!;
              n++;
            }
          }
        } else {
          for (let f = 0; f < F; f++) {
            const v = acts[row + f]!;
            if (v > 0) {
              activeIdx[n] = f;
              activeVal[n] = v;
              n++;
            }
          }
        }
        for (let i = 0; i < n; i++) {
          const f = activeIdx[i]!;
          const v = activeVal[i]!;
          this.fireCount[f]!++;
          this.sumAct[f]! += v;
          if (v > this.maxAct[f]!) this.maxAct[f] = v;
          this.range.addToken(f, v);
          this.range.offer(f, v, seq, t, acts, seqBase, len);
          this.featureTokens.add(f, tok, v);
          if (seqMax[f] === 0) touched[nTouched++] = f;
          if (v > seqMax[f]!) {
            seqMax[f] = v;
            seqArg[f] = t;
          }
        }
        this.cooc.addToken(activeIdx, activeVal, n);
      }
      this.tokens += Math.max(0, len - statsFrom);
      for (let i = 0; i < nTouched; i++) {
        const f = touched[i]!;
        const v = seqMax[f]!;
        if (this.top.accepts(f, v)) this.top.offer(f, v, seq, seqArg[f]!, acts, seqBase, len);
      }
      // Negatives: a reservoir of sequences where the feature never fired (seqMax still 0).
      const NN = this.cfg.negatives;
      for (let f = 0; f < F; f++) {
        if (seqMax[f]! > 0) continue;
        const n = ++this.negSeen[f]!;
        if (n <= NN) this.negSeq[f * NN + n - 1] = seq;
        else {
          const r = this.rng.int(n);
          if (r < NN) this.negSeq[f * NN + r] = seq;
        }
      }
      for (let i = 0; i < nTouched; i++) seqMax[touched[i]!] = 0;
      this.sequences++;
    }
  }

  /** The finished record of one feature (samples reference sequence ids). */
  summary(f: number, firstPosition = 0): FeatureSummary {
    const fire = this.fireCount[f]!;
    const max = this.maxAct[f]!;
    const fin = this.range.finalize(f, max, this.cfg.samplesPerRangeBin, firstPosition);
    const sample = (slot: number): Sample => {
      const s = this.slots.get(f, slot);
      return { seq: s.seq, position: s.position, activation: s.activation, activations: s.activations };
    };
    const pick = (p: { slot: number; position: number; activation: number }): Sample => ({ ...sample(p.slot), position: p.position, activation: p.activation });
    const NN = this.cfg.negatives;
    const negatives: number[] = [];
    for (let i = 0; i < Math.min(NN, this.negSeen[f]!); i++) negatives.push(this.negSeq[f * NN + i]!);
    return {
      feature: f,
      fireCount: fire,
      density: this.tokens > 0 ? fire / this.tokens : 0,
      maxActivation: max,
      meanActivation: fire > 0 ? this.sumAct[f]! / fire : 0,
      histogram: fin?.histogram ?? null,
      bins: fin ? fin.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, samples: b.samples.map(pick) })) : [],
      top: this.top.sortedSlots(f).map(sample),
      negatives: negatives.sort((x, y) => x - y),
    };
  }

  /** For each feature, up to `k` co-firing features ranked by Jaccard index of their firing tokens. */
  coactivation(k: number): { other: number; jaccard: number; count: number }[][] {
    const F = this.cfg.nFeatures;
    const best: { other: number; jaccard: number; count: number }[][] = Array.from({ length: F }, () => []);
    const consider = (f: number, g: number, c: number): void => {
      const jac = c / (this.fireCount[f]! + this.fireCount[g]! - c);
      const list = best[f]!;
      if (list.length === k && !(jac > list[k - 1]!.jaccard)) return;
      list.push({ other: g, jaccard: jac, count: c });
      list.sort((x, y) => y.jaccard - x.jaccard || y.count - x.count || x.other - y.other);
      if (list.length > k) list.pop();
    };
    this.cooc.forEachPair((i, j, c) => {
      consider(i, j, c);
      consider(j, i, c);
    });
    return best;
  }

  /** For each feature, up to `k` tokens it fires on most (by summed activation). */
  topTokens(k: number): { token: number; count: number; sum: number; max: number }[][] {
    const F = this.cfg.nFeatures;
    const lists: { token: number; count: number; sum: number; max: number }[][] = Array.from({ length: F }, () => []);
    this.featureTokens.forEach((f, token, count, sum, max) => lists[f]!.push({ token, count, sum, max }));
    for (const l of lists) {
      l.sort((x, y) => y.sum - x.sum || x.token - y.token);
      l.length = Math.min(l.length, k);
    }
    return lists;
  }

  serialize(): Uint8Array {
    const sp = this.cooc.sparse;
    const arrays: Record<string, NumericArray> = {
      fireCount: this.fireCount,
      sumAct: this.sumAct,
      maxAct: this.maxAct,
      tokenCounts: this.tokenCounts,
      negSeen: this.negSeen,
      negSeq: this.negSeq,
      slotAct: this.slots.act,
      slotSeq: this.slots.seq,
      slotPos: this.slots.pos,
      slotLen: this.slots.len,
      slotActs: this.slots.acts,
      topHeap: this.top.heap,
      topSize: this.top.size,
      rangeExp: this.range.exp,
      rangeHist: this.range.hist,
      rangeSeen: this.range.seen,
    };
    if (this.cooc.dense) arrays.coDense = this.cooc.dense;
    if (sp) {
      const t = sp.toArrays();
      Object.assign(arrays, { coKeysA: t.keysA!, coKeysB: t.keysB!, coCounts: t.counts!, coSums: t.sums!, coMaxes: t.maxes! });
    }
    const ft = this.featureTokens.toArrays();
    Object.assign(arrays, { ftKeysA: ft.keysA!, ftKeysB: ft.keysB!, ftCounts: ft.counts!, ftSums: ft.sums!, ftMaxes: ft.maxes! });
    const meta = {
      cfg: this.cfg,
      tokens: this.tokens,
      sequences: this.sequences,
      rng: this.rng.state,
      ftSize: this.featureTokens.size,
      ftDropped: this.featureTokens.dropped,
      coSize: sp?.size ?? 0,
      coDropped: sp?.dropped ?? 0,
      coMax: sp?.maxEntries ?? 0,
    };
    return packArrays(meta, arrays);
  }

  /** Rebuilds an accumulator from serialize()'s bytes; the config must be the one it was saved with. */
  static restore(bytes: Uint8Array, where = 'build checkpoint'): FeatureAccumulator {
    const { meta, arrays } = unpackArrays(bytes, where);
    const m = meta as Record<string, unknown>;
    return new FeatureAccumulator(m.cfg as AccumulatorConfig, { meta: m as Record<string, number>, arrays });
  }
}
