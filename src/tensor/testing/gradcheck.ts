// Gradient checking: the tape's gradients against central finite differences.
//
// The checked quantity is the scalar L(x) = sum_i w_i * f(x)_i with fixed random weights w (seeded), so
// every output element matters and a bug confined to one output cannot cancel out (a plain sum(f(x))
// would hide e.g. a softmax backward that is wrong by a per-row constant, since softmax rows sum to 1).
// The analytic gradient is taken twice, through grad() and through backward() + .grad, and both must
// agree with the numeric one.
//
// Why these step sizes and tolerances (the ops compute in float32, u = ulp/2 = 2^-24 ~ 6e-8):
// - Every perturbed input is rounded to float32 before f sees it, and the difference quotient divides by
//   the step actually taken (x+ - x-), not the nominal one, so input rounding costs nothing.
// - L is accumulated in float64, so the only noise is the float32 rounding of the outputs that moved
//   (the others are bit-identical in both evaluations): about u * |w.y|_moved in L, divided by the step.
// - Central differences have truncation error ~h^2 f'''/6. One Richardson step, (4 D(h/2) - D(h)) / 3,
//   cancels the h^2 term (error ~h^4), which allows a large step h = 1e-2 * max(1, |x|): float32 noise is
//   then ~1e-5 of the output scale and truncation ~1e-8.
// - Each element passes when |analytic - numeric| <= rtol |numeric| + atol RMS(numeric) + noise, with
//   rtol = atol = 1e-3 and noise = 20x the rounding noise estimated from the outputs that moved. The
//   atol part is relative to the RMS of the numeric gradient of that input (scale-free; an input whose
//   true gradient is zero still demands an analytic ~0); the noise part keeps a gradient far below the
//   output's own precision (layerNorm over 2 features, flat up to eps) from being judged on noise.
//   Measured over 40 seeds x 17 ops (elementwise, softmax, norms, matmul, crossEntropy) the worst
//   error was 0.05 of this bound, while real bugs (a wrong sign: error 2|g|; a missing factor of 2:
//   |g|; a wrong broadcast reduction: O(|g|); even a 1% error) exceed it many times over.
// - Where float32 noise is too large for an op (long reductions, cancellation), pass `reference`: a
//   float64 forward written as plain loops. It is differenced instead (step 1e-3, noise ~1e-13) and the
//   tolerance tightens to rtol = atol = 1e-5 (measured worst: 0.012 of that bound), limited only by the
//   float32 arithmetic of the backward. The op's forward is first checked against the reference, so a
//   wrong reference cannot pass silently.
// - Finite differences across a kink (relu at 0, max at a tie) are meaningless: tests keep inputs away
//   from kinks by more than the step (see fixtures.ts), or pass a smaller `step`.
import { backward, grad, noGrad } from '../autograd.js';
import { Rng } from '../random.js';
import { Tensor, type Shape } from '../tensor.js';

export type TensorFn = (...inputs: Tensor[]) => Tensor;
/** A float64 forward: the same function as the op, on float64 copies of the inputs. */
export type ReferenceFn = (inputs: Float64Array[]) => ArrayLike<number>;

export interface GradcheckOptions {
  /** Seed of the output weights w and of element sampling (default 0). */
  seed?: number;
  /** Indices of the inputs to differentiate (default all). The others are constants. */
  wrt?: readonly number[];
  /** Relative finite-difference step: h = step * max(1, |x|). Default 1e-2 (float32) or 1e-3 (reference). */
  step?: number;
  /** Relative tolerance on each element. Default 1e-3 (float32) or 1e-5 (reference). */
  rtol?: number;
  /** Absolute tolerance as a fraction of the RMS numeric gradient of the input. Default = rtol. */
  atol?: number;
  /** Float64 forward to difference instead of the float32 op ("float64 where needed"). */
  reference?: ReferenceFn;
  /** Check at most this many (randomly chosen) elements per input (default all). */
  maxPerInput?: number;
  /** Multiple of the estimated rounding noise added to each element's allowed error (default 20). */
  noiseMultiple?: number;
}

export interface GradMismatch {
  input: number;
  index: number;
  /** 'grad' = grad(), 'backward' = backward() + .grad. */
  via: 'grad' | 'backward';
  analytic: number;
  numeric: number;
  bound: number;
}

export interface GradcheckReport {
  ok: boolean;
  /** Elements compared (per path). */
  checked: number;
  /** max over elements of |analytic - numeric| / bound (< 1 passes). */
  worstRatio: number;
  mismatches: GradMismatch[];
  /** Problems that are not per-element (forward disagrees with the reference, non-finite values). */
  problems: string[];
  summary: string;
}

function lossOf(y: ArrayLike<number>, w: Float32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * y[i]!;
  return s;
}

export function gradcheck(f: TensorFn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const ref = opts.reference;
  const step = opts.step ?? (ref ? 1e-3 : 1e-2);
  const rtol = opts.rtol ?? (ref ? 1e-5 : 1e-3);
  const atol = opts.atol ?? rtol;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const rng = new Rng(opts.seed ?? 0);
  const shapes: Shape[] = inputs.map((t) => t.shape);
  const base = inputs.map((t) => t.data.slice());
  const problems: string[] = [];

  const y0 = noGrad(() => f(...base.map((d, i) => new Tensor(d.slice(), shapes[i]!))));
  const w = new Float32Array(y0.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  for (let i = 0; i < y0.size; i++) {
    if (!Number.isFinite(y0.data[i]!)) {
      problems.push(`forward output [${i}] is ${y0.data[i]}: finite differences need finite outputs`);
      break;
    }
  }
  if (ref) {
    const yr = ref(base.map((d) => Float64Array.from(d)));
    if (yr.length !== y0.size) problems.push(`reference returned ${yr.length} values, the op ${y0.size}`);
    else {
      let scale = 0;
      for (let i = 0; i < yr.length; i++) scale = Math.max(scale, Math.abs(yr[i]!));
      for (let i = 0; i < yr.length; i++) {
        // The op computes in float32: allow a few ulps of the output scale.
        if (!(Math.abs(y0.data[i]! - yr[i]!) <= 1e-5 * (scale + 1e-30) + 1e-6 * Math.abs(yr[i]!))) {
          problems.push(`forward disagrees with the float64 reference at [${i}]: op ${y0.data[i]}, reference ${yr[i]}`);
          break;
        }
      }
    }
  }

  // Analytic gradients, two ways.
  const leaves = (): Tensor[] => base.map((d, i) => new Tensor(d.slice(), shapes[i]!, wrt.includes(i)));
  const viaGrad = new Map<number, Float32Array>();
  const viaBackward = new Map<number, Float32Array>();
  {
    const xs = leaves();
    const y = f(...xs);
    const gs = grad(y, wrt.map((i) => xs[i]!), [w.slice()]);
    wrt.forEach((i, k) => viaGrad.set(i, gs[k]!));
  }
  {
    const xs = leaves();
    const y = f(...xs);
    if (y.requiresGrad) backward(y, w.slice());
    for (const i of wrt) viaBackward.set(i, xs[i]!.grad ? xs[i]!.grad!.data : new Float32Array(xs[i]!.size));
  }

  // Numeric gradients.
  const work32 = base.map((d) => d.slice());
  const tensors32 = work32.map((d, i) => new Tensor(d, shapes[i]!));
  const work64 = base.map((d) => Float64Array.from(d));
  const evalAt = (i: number, j: number, v: number): { loss: number; x: number; y: ArrayLike<number> } => {
    if (ref) {
      work64[i]![j] = v;
      const y = ref(work64);
      return { loss: lossOf(y, w), x: v, y };
    }
    work32[i]![j] = v;
    const y = noGrad(() => f(...tensors32)).data;
    return { loss: lossOf(y, w), x: work32[i]![j]!, y }; // x as rounded to float32
  };
  /** Central difference quotient, and |w.y| over the outputs that moved (what the rounding noise scales with). */
  const quotient = (i: number, j: number, x0: number, h: number): { d: number; moved: number } => {
    const p = evalAt(i, j, x0 + h);
    const m = evalAt(i, j, x0 - h);
    let ss = 0;
    for (let k = 0; k < w.length; k++) {
      if (p.y[k] !== m.y[k]) ss += (w[k]! * Math.max(Math.abs(p.y[k]!), Math.abs(m.y[k]!))) ** 2;
    }
    return { d: (p.loss - m.loss) / (p.x - m.x), moved: Math.sqrt(ss) };
  };
  // Output rounding (u per value, a few roundings per op) in the Richardson combination gives noise
  // of about 1.9 u |w.y|_moved / h; the floor allows 20 times that, so a gradient far below the
  // output's own precision (e.g. layerNorm over 2 features, flat up to eps) is not judged on noise.
  const u = ref ? 2 ** -53 : 2 ** -24;
  const noiseMult = opts.noiseMultiple ?? 20;

  const mismatches: GradMismatch[] = [];
  let worstRatio = 0;
  let checked = 0;
  for (const i of wrt) {
    const n = base[i]!.length;
    let idx = Array.from({ length: n }, (_, j) => j);
    if (opts.maxPerInput !== undefined && n > opts.maxPerInput) {
      const p = rng.permutation(n);
      idx = Array.from(p.subarray(0, opts.maxPerInput)).sort((a, b) => a - b);
    }
    const numeric = new Float64Array(idx.length);
    const noise = new Float64Array(idx.length);
    idx.forEach((j, k) => {
      const x0 = base[i]![j]!;
      const h = step * Math.max(1, Math.abs(x0));
      const half = quotient(i, j, x0, h / 2);
      const full = quotient(i, j, x0, h);
      numeric[k] = (4 * half.d - full.d) / 3;
      noise[k] = noiseMult * 1.9 * u * Math.max(half.moved, full.moved) / h;
      work32[i]![j] = x0;
      work64[i]![j] = x0;
    });
    let ss = 0;
    for (const v of numeric) ss += v * v;
    const rms = Math.sqrt(ss / Math.max(1, numeric.length));
    if (!Number.isFinite(rms)) problems.push(`input ${i}: the numeric gradient is not finite`);
    const floor = atol * Math.max(rms, 1e-12);
    for (const [via, g] of [['grad', viaGrad.get(i)!], ['backward', viaBackward.get(i)!]] as const) {
      idx.forEach((j, k) => {
        const a = g[j]!;
        const num = numeric[k]!;
        const bound = floor + noise[k]! + rtol * Math.abs(num);
        const err = Math.abs(a - num);
        const ratio = Number.isFinite(err) ? err / bound : Infinity;
        if (ratio > worstRatio) worstRatio = ratio;
        if (!(err <= bound)) mismatches.push({ input: i, index: j, via, analytic: a, numeric: num, bound });
      });
    }
    checked += idx.length;
  }

  const ok = mismatches.length === 0 && problems.length === 0;
  const lines = [`gradcheck: ${ok ? 'ok' : 'FAILED'}, ${checked} elements, worst error/bound ${worstRatio.toPrecision(3)}`];
  for (const p of problems) lines.push(`  ${p}`);
  for (const m of mismatches.slice(0, 8)) {
    lines.push(`  input ${m.input} [${m.index}] via ${m.via}: analytic ${m.analytic.toPrecision(7)}, numeric ${m.numeric.toPrecision(7)} (allowed error ${m.bound.toPrecision(3)})`);
  }
  if (mismatches.length > 8) lines.push(`  ... and ${mismatches.length - 8} more`);
  return { ok, checked, worstRatio, mismatches, problems, summary: lines.join('\n') };
}

/** gradcheck that throws (with the report as the message) when the gradients disagree. */
export function assertGradcheck(name: string, f: TensorFn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const report = gradcheck(f, inputs, opts);
  if (!report.ok) throw new Error(`${name}: ${report.summary}`);
  return report;
}
