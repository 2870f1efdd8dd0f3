// What a steering intervention acts on: a direction at one hook point, with a way to read a value off an
// activation and a vector to write along. Dictionary features and raw vectors share this one shape, so
// every mode (add, clamp, cap, ablate) is one piece of arithmetic for both.
//
// A feature's value is its encoder pre-activation at the activation h, rectified:
//   value_f(h) = max(0, W_enc[:, f] . (s h - b_dec) + b_enc[f])        (s: the input scale, b_dec if applied)
// which is linear in h before the max, so the step along W_dec[f] that moves it to a target is solved
// exactly. For a ReLU SAE this is the latent itself; for JumpReLU it is the latent whenever it clears the
// threshold; for TopK whenever f is among the k largest (a clamp pins the encoder value, but TopK may
// still leave f out of its top k: steering reports the SAE's own latent beside the value for that reason).
// For a Gated SAE the value is the magnitude path, max(0, exp(r_mag[f]) W_enc[:, f] . (s h - b_dec) + b_mag[f]):
// the latent whenever the gate is open.
// A raw vector's value is the projection of h on its unit direction (signed, no rectification).
import { InputError } from '../errors.js';
import type { Sae } from '../sae/sae.js';

export interface SteeringDirection {
  /** Hook point the intervention acts on (TransformerLens name). */
  readonly hook: string;
  /** For reports: "feature 17", "vector". */
  readonly label: string;
  /** The dictionary feature, or null for a raw vector. */
  readonly feature: number | null;
  /** value(h) = rectify(read . h + readBias): the feature's encoder pre-activation, or the projection on the unit vector. */
  readonly read: Float64Array;
  readonly readBias: number;
  /** Feature values are >= 0 (the latent's ReLU); projections are signed. */
  readonly rectified: boolean;
  /** Clamp, cap and ablate move h along this: W_dec[f] (output units) or the unit vector. */
  readonly write: Float64Array;
  /**
   * Add mode adds strength * addRows[row] where row = absolute position (clamped to the last row):
   * one row (W_dec[f], or the raw vector as given) for most directions, one per position for a
   * position-aligned contrastive vector (ActAdd).
   */
  readonly addRows: readonly Float64Array[];
  /** The dictionary, for reporting its own latent beside the value (features only). */
  readonly sae: Sae | null;
}

/** A dictionary feature as a steering direction at the dictionary's hook. */
export function featureDirection(sae: Sae, feature: number): SteeringDirection {
  const F = sae.dSae;
  if (!Number.isInteger(feature) || feature < 0 || feature >= F) {
    throw new InputError(`feature ${feature} is outside the dictionary: it has ${F} features (0-${F - 1}); pick one in that range (\`loupe features search\` ranks them for a word)`, {
      feature,
      nFeatures: F,
    });
  }
  if (sae.isTranscoder) {
    throw new InputError(`steering reads and writes one hook, but this ${sae.cfg.architecture} reads ${sae.cfg.hookName} and writes ${sae.cfg.hookNameOut}; steer with an SAE, or add its decoder row as a raw vector at ${sae.cfg.hookNameOut}`);
  }
  if (!sae.cfg.hookName) throw new InputError('this dictionary names no hook_name, so there is nowhere to steer it (set hook_name in its cfg.json)');
  const D = sae.dIn;
  const read = Float64Array.from(sae.encoderRow(feature));
  // The bias terms of the pre-activation: b_enc[f] - b_dec . W_enc[:, f] (b_dec is subtracted after scaling).
  let bias = sae.params.b_enc_F.data[feature]!;
  if (sae.cfg.applyBDecToInput) {
    const W = sae.params.W_enc_FD.data;
    const b = sae.params.b_dec_O.data;
    for (let j = 0; j < D; j++) bias -= b[j]! * W[feature * D + j]!;
  }
  const { r_mag_F, b_mag_F } = sae.params;
  if (r_mag_F && b_mag_F) {
    const e = Math.exp(r_mag_F.data[feature]!);
    for (let j = 0; j < D; j++) read[j] = read[j]! * e;
    bias = e * (bias - sae.params.b_enc_F.data[feature]!) + b_mag_F.data[feature]!;
  }
  const write = Float64Array.from(sae.decoderRow(feature));
  return { hook: sae.cfg.hookName, label: `feature ${feature}`, feature, read, readBias: bias, rectified: true, write, addRows: [write], sae };
}

/**
 * A raw vector at a hook (a contrastive steering vector, a probe direction, an unembedding row).
 * rows: one vector [d], or one per position [T][d] (added at absolute positions 0..T-1; add mode only).
 */
export function vectorDirection(hook: string, rows: Float32Array | Float64Array | readonly (Float32Array | Float64Array)[], label = 'vector'): SteeringDirection {
  const list = ArrayBuffer.isView(rows) ? [rows as Float32Array | Float64Array] : (rows as readonly (Float32Array | Float64Array)[]);
  if (list.length === 0) throw new InputError('a steering vector needs at least one row');
  const d = list[0]!.length;
  if (d === 0) throw new InputError('a steering vector must not be empty');
  for (const r of list) if (r.length !== d) throw new InputError(`steering vector rows differ in width (${d} and ${r.length})`);
  const addRows = list.map((r) => Float64Array.from(r));
  for (const r of addRows) for (const v of r) if (!Number.isFinite(v)) throw new InputError('the steering vector holds a non-finite value');
  // Clamp / cap / ablate use the unit direction of the (mean) vector.
  const mean = new Float64Array(d);
  for (const r of addRows) for (let j = 0; j < d; j++) mean[j] = mean[j]! + r[j]! / addRows.length;
  const norm = Math.hypot(...mean);
  const unit = norm > 0 ? mean.map((v) => v / norm) : mean;
  return { hook, label, feature: null, read: unit, readBias: 0, rectified: false, write: unit, addRows, sae: null };
}

/** The direction's value at row h (see the file comment). */
export function readValue(dir: SteeringDirection, h: Float32Array | Float64Array, offset = 0): number {
  const r = dir.read;
  let v = dir.readBias;
  for (let j = 0; j < r.length; j++) v += r[j]! * h[offset + j]!;
  return dir.rectified && v < 0 ? 0 : v;
}

/** The pre-rectification value (the encoder pre-activation for features). */
export function readRaw(dir: SteeringDirection, h: Float32Array | Float64Array, offset = 0): number {
  const r = dir.read;
  let v = dir.readBias;
  for (let j = 0; j < r.length; j++) v += r[j]! * h[offset + j]!;
  return v;
}

/** Checks the direction fits the model's activation width at its hook. */
export function checkWidth(dir: SteeringDirection, width: number): void {
  if (dir.read.length !== width) {
    throw new InputError(`${dir.label} has width ${dir.read.length}, but hook ${dir.hook} holds activations of width ${width} (wrong hook, or a dictionary for another model?)`, {
      hook: dir.hook,
      width,
    });
  }
}
