// Fixed storage for example sequences, `perFeature` slots per feature. A slot holds the sequence id, the
// position and value of the feature's strongest activation there, and the feature's activation at every
// position of the sequence (the per-token row a feature page shows). Preallocated: memory is bounded by
// features x slots x context, known before the build starts.
export class SampleSlots {
  readonly act: Float32Array;
  readonly seq: Int32Array;
  readonly pos: Int32Array;
  readonly len: Int32Array;
  /** [nFeatures, perFeature, context] */
  readonly acts: Float32Array;

  constructor(
    readonly nFeatures: number,
    readonly perFeature: number,
    readonly context: number,
    arrays?: { act: Float32Array; seq: Int32Array; pos: Int32Array; len: Int32Array; acts: Float32Array },
  ) {
    const n = nFeatures * perFeature;
    this.act = arrays?.act ?? new Float32Array(n);
    this.seq = arrays?.seq ?? new Int32Array(n).fill(-1);
    this.pos = arrays?.pos ?? new Int32Array(n);
    this.len = arrays?.len ?? new Int32Array(n);
    this.acts = arrays?.acts ?? new Float32Array(n * context);
  }

  /**
   * Stores feature f's sample in slot `slot`: its values along one sequence are read from a
   * [T, nFeatures] block (acts_TF starting at `base`), for the sequence's `length` positions.
   */
  write(f: number, slot: number, act: number, seq: number, pos: number, acts_TF: Float32Array, base: number, length: number): void {
    const i = f * this.perFeature + slot;
    this.act[i] = act;
    this.seq[i] = seq;
    this.pos[i] = pos;
    const n = Math.min(length, this.context);
    this.len[i] = n;
    const F = this.nFeatures;
    const o = i * this.context;
    for (let t = 0; t < n; t++) this.acts[o + t] = acts_TF[base + t * F + f]!;
    this.acts.fill(0, o + n, o + this.context);
  }

  /** Copies slot `from` of feature f into `to` of the same feature. */
  copy(f: number, from: number, to: number): void {
    const a = f * this.perFeature + from;
    const b = f * this.perFeature + to;
    this.act[b] = this.act[a]!;
    this.seq[b] = this.seq[a]!;
    this.pos[b] = this.pos[a]!;
    this.len[b] = this.len[a]!;
    this.acts.copyWithin(b * this.context, a * this.context, (a + 1) * this.context);
  }

  /** The stored sample as plain values. */
  get(f: number, slot: number): { activation: number; seq: number; position: number; activations: Float32Array } {
    const i = f * this.perFeature + slot;
    return {
      activation: this.act[i]!,
      seq: this.seq[i]!,
      position: this.pos[i]!,
      activations: this.acts.slice(i * this.context, i * this.context + this.len[i]!),
    };
  }

  toArrays(): Record<string, Float32Array | Int32Array> {
    return { act: this.act, seq: this.seq, pos: this.pos, len: this.len, acts: this.acts };
  }
}
