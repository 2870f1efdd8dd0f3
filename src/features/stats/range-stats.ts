// Per-feature activation distribution in one streaming pass, when the range is not known in advance:
// a histogram of FINE_BINS bins of width 2^exp that doubles its width (merging neighbouring bins, which
// is exact) whenever a larger value arrives, plus reservoir samples stratified over the same range.
//
// Finalising turns the fine histogram into HIST_BINS bins whose edges are multiples of the fine width
// (so every count is exact) and which end just above the maximum (within ~6%: at least 800 fine bins are
// in use after the last doubling); the RANGE_BINS activation-range bins group 5 of those bins each.
// Samples are token activations (kept with their whole sequence's row): each range bin shows tokens
// whose activation falls inside it, spread evenly over the bin, so bins and their counts agree.
import type { SampleSlots } from './slots.js';
import type { SmallRng } from './rng.js';

export const FINE_BINS = 1600;
export const HIST_BINS = 50;
export const RANGE_BINS = 10;
const NO_SCALE = -100000;

export interface FeatureHistogram {
  /** HIST_BINS + 1 edges, edges[0] = 0. */
  edges: number[];
  counts: number[];
}

/** A sample: the token at `position` of the sequence stored in `slot`. */
export interface Pick {
  slot: number;
  position: number;
  activation: number;
}

export interface RangeBin {
  lo: number;
  hi: number;
  count: number;
  /** This bin's samples, weakest first. */
  samples: Pick[];
}

export class RangeStats {
  readonly exp: Int32Array;
  private readonly inv: Float64Array;
  readonly hist: Uint32Array;
  /** Offers seen per sample bin: [nFeatures, sampleBins]. */
  readonly seen: Float64Array;
  private readonly finePerSample: number;

  constructor(
    private readonly slots: SampleSlots,
    /** First slot of each feature used for samples. */
    private readonly slotOffset: number,
    readonly sampleBins: number,
    readonly perBin: number,
    private readonly rng: SmallRng,
    arrays?: { exp: Int32Array; hist: Uint32Array; seen: Float64Array },
  ) {
    const F = slots.nFeatures;
    if (FINE_BINS % sampleBins !== 0 || sampleBins % 2 !== 0) throw new Error(`sampleBins must be even and divide ${FINE_BINS}`);
    this.finePerSample = FINE_BINS / sampleBins;
    this.exp = arrays?.exp ?? new Int32Array(F).fill(NO_SCALE);
    this.hist = arrays?.hist ?? new Uint32Array(F * FINE_BINS);
    this.seen = arrays?.seen ?? new Float64Array(F * sampleBins);
    this.inv = new Float64Array(F);
    for (let f = 0; f < F; f++) this.inv[f] = this.exp[f] === NO_SCALE ? 0 : 2 ** -this.exp[f]!;
  }

  /** Counts one token activation v > 0 of feature f. */
  addToken(f: number, v: number): void {
    if (this.exp[f] === NO_SCALE) {
      // First value: put it around fine bin 512-1024, leaving room above before the first doubling.
      this.exp[f] = Math.ceil(Math.log2(v)) - 10;
      this.inv[f] = 2 ** -this.exp[f]!;
    }
    let bin = Math.floor(v * this.inv[f]!);
    while (bin >= FINE_BINS) {
      this.double(f);
      bin = Math.floor(v * this.inv[f]!);
    }
    this.hist[f * FINE_BINS + bin]!++;
  }

  /** Offers token activation v of f at `pos` (already counted by addToken) as a range sample. */
  offer(f: number, v: number, seq: number, pos: number, acts_TF: Float32Array, base: number, length: number): void {
    const sb = Math.min(this.sampleBins - 1, Math.floor((v * this.inv[f]!) / this.finePerSample));
    const i = f * this.sampleBins + sb;
    const n = ++this.seen[i]!;
    let slot: number;
    if (n <= this.perBin) slot = n - 1;
    else {
      const r = this.rng.int(n);
      if (r >= this.perBin) return;
      slot = r;
    }
    this.slots.write(f, this.slotOffset + sb * this.perBin + slot, v, seq, pos, acts_TF, base, length);
  }

  /** Doubles feature f's bin width: fine bins and sample bins merge in pairs. */
  private double(f: number): void {
    const h = f * FINE_BINS;
    for (let i = 0; i < FINE_BINS / 2; i++) this.hist[h + i] = this.hist[h + 2 * i]! + this.hist[h + 2 * i + 1]!;
    this.hist.fill(0, h + FINE_BINS / 2, h + FINE_BINS);
    this.exp[f]!++;
    this.inv[f] = 2 ** -this.exp[f]!;
    const S = this.sampleBins;
    const C = this.perBin;
    const s0 = f * S;
    for (let i = 0; i < S / 2; i++) {
      const nA = this.seen[s0 + 2 * i]!;
      const nB = this.seen[s0 + 2 * i + 1]!;
      // How many of the merged reservoir come from each side: sequential draws without replacement,
      // so the merged set is a uniform sample of the union.
      let a = nA;
      let b = nB;
      let takeA = 0;
      let takeB = 0;
      for (let m = Math.min(C, nA + nB); m > 0; m--) {
        if (this.rng.uniform() * (a + b) < a) {
          takeA++;
          a--;
        } else {
          takeB++;
          b--;
        }
      }
      const pickA = this.pick(Math.min(C, nA), takeA);
      const pickB = this.pick(Math.min(C, nB), takeB);
      const dst = this.slotOffset + i * C;
      let k = 0;
      // Ascending source order: for i = 0 the destination is source A itself, and compacting forwards
      // never overwrites an item still to be read.
      for (const j of pickA) this.slots.copy(f, this.slotOffset + 2 * i * C + j, dst + k++);
      for (const j of pickB) this.slots.copy(f, this.slotOffset + (2 * i + 1) * C + j, dst + k++);
      this.seen[s0 + i] = nA + nB;
    }
    this.seen.fill(0, s0 + S / 2, s0 + S);
  }

  /** `take` distinct indices of [0, n), ascending, uniformly chosen. */
  private pick(n: number, take: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < take; i++) {
      const j = i + this.rng.int(n - i);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx.slice(0, take).sort((x, y) => x - y);
  }

  /** The 50-bin histogram and the 10 range bins of feature f (null when it never fired). */
  finalize(f: number, max: number, samplesPerRangeBin: number, firstPosition = 0): { histogram: FeatureHistogram; bins: RangeBin[] } | null {
    if (this.exp[f] === NO_SCALE || !(max > 0)) return null;
    const w = 2 ** this.exp[f]!;
    const used = Math.min(FINE_BINS, Math.floor(max / w) + 1);
    const per = Math.ceil(used / HIST_BINS); // fine bins per histogram bin
    const h = f * FINE_BINS;
    const edges: number[] = [];
    const counts: number[] = [];
    for (let j = 0; j <= HIST_BINS; j++) edges.push(j * per * w);
    for (let j = 0; j < HIST_BINS; j++) {
      let c = 0;
      for (let i = j * per; i < Math.min(FINE_BINS, (j + 1) * per); i++) c += this.hist[h + i]!;
      counts.push(c);
    }
    const group = HIST_BINS / RANGE_BINS;
    const bins: RangeBin[] = [];
    for (let j = 0; j < RANGE_BINS; j++) {
      let c = 0;
      for (let i = j * group; i < (j + 1) * group; i++) c += counts[i]!;
      bins.push({ lo: edges[j * group]!, hi: edges[(j + 1) * group]!, count: c, samples: [] });
    }
    // Candidates: every filled sample slot, assigned to the range bin its value falls in.
    const P = this.slots.perFeature;
    const C = this.slots.context;
    const cands: Pick[][] = bins.map(() => []);
    const binOf = (v: number): number => Math.min(RANGE_BINS - 1, Math.floor(v / (group * per * w)));
    for (let sb = 0; sb < this.sampleBins; sb++) {
      const filled = Math.min(this.perBin, this.seen[f * this.sampleBins + sb]!);
      for (let k = 0; k < filled; k++) {
        const slot = this.slotOffset + sb * this.perBin + k;
        const i = f * P + slot;
        cands[binOf(this.slots.act[i]!)]!.push({ slot, position: this.slots.pos[i]!, activation: this.slots.act[i]! });
      }
    }
    // A bin its strata missed (it straddles strata boundaries) borrows tokens from any stored row:
    // every slot keeps its whole sequence, so a token in range elsewhere in it is a true sample too.
    for (let j = 0; j < RANGE_BINS; j++) {
      if (cands[j]!.length >= samplesPerRangeBin || bins[j]!.count === 0) continue;
      const have = new Set(cands[j]!.map((c) => `${this.slots.seq[f * P + c.slot]}:${c.position}`));
      for (let slot = 0; slot < P && cands[j]!.length < 4 * samplesPerRangeBin; slot++) {
        const i = f * P + slot;
        if (this.slots.seq[i]! < 0) continue;
        for (let t = firstPosition; t < this.slots.len[i]!; t++) {
          const v = this.slots.acts[i * C + t]!;
          if (!(v > 0) || binOf(v) !== j || v < bins[j]!.lo || v >= bins[j]!.hi) continue;
          const key = `${this.slots.seq[i]}:${t}`;
          if (have.has(key)) continue;
          have.add(key);
          cands[j]!.push({ slot, position: t, activation: v });
        }
      }
    }
    cands.forEach((list, j) => {
      list.sort((a, b) => a.activation - b.activation || a.slot - b.slot || a.position - b.position);
      bins[j]!.samples = spread(list, samplesPerRangeBin);
    });
    return { histogram: { edges, counts }, bins };
  }

  toArrays(): Record<string, Int32Array | Uint32Array | Float64Array> {
    return { exp: this.exp, hist: this.hist, seen: this.seen };
  }
}

/** Up to n items evenly spaced through a sorted list (all of them when it is short). */
function spread<X>(list: X[], n: number): X[] {
  if (list.length <= n) return list;
  if (n <= 1) return n === 1 ? [list[list.length - 1]!] : [];
  const out: X[] = [];
  for (let i = 0; i < n; i++) out.push(list[Math.round((i * (list.length - 1)) / (n - 1))]!);
  return out;
}
