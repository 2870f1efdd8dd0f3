// Elementwise throughput of the pure-TypeScript ops at transformer sizes (GPT-2 small: d 768, MLP 3072,
// 12 heads of 64, context 128, batch 4). Forward alone, and forward + backward through the tape.
// Numbers go in docs/benchmarks.md beside the numpy reference (bench/reference/elementwise.py).
import { backward } from '../tensor/autograd.js';
import { gelu, silu } from '../tensor/ops/activation.js';
import { add } from '../tensor/ops/binary.js';
import { layerNorm, rmsNorm } from '../tensor/ops/norm.js';
import { softmax } from '../tensor/ops/softmax.js';
import { Rng, randn } from '../tensor/random.js';
import { Tensor, sizeOf } from '../tensor/tensor.js';

export interface ElementwiseCase {
  /** Name shown in tables, e.g. "gelu (tanh)". */
  name: string;
  shape: number[];
  /** Bytes moved per element by the forward (read x, write y; parameters are negligible). */
  bytesPerElement: number;
  run: (x: Tensor, params: Tensor[]) => Tensor;
  /** Parameter shapes (weights, biases); they require grad in the backward measurement. */
  params?: number[][];
}

export interface ElementwiseResult {
  name: string;
  shape: number[];
  elements: number;
  /** Median wall time of one forward, milliseconds. */
  forwardMs: number;
  /** Median wall time of forward + backward (including the tape), milliseconds. */
  forwardBackwardMs: number;
  /** Fastest repetition of each (less sensitive to other load on the machine). */
  forwardMinMs: number;
  forwardBackwardMinMs: number;
  forwardGelemPerS: number;
  forwardGBPerS: number;
  forwardBackwardGelemPerS: number;
}

export interface ElementwiseOptions {
  /** Timed repetitions per measurement (the median is reported). Default 15. */
  repeats?: number;
  /** Untimed warm-up calls (lets V8 optimise). Default 5. */
  warmup?: number;
  /** Restrict to cases whose name contains one of these strings. */
  only?: string[];
  /** Called after each case (progress). */
  onResult?: (r: ElementwiseResult) => void;
}

/** The default cases: GPT-2-small shapes for 512 tokens (4 x 128). */
export function defaultElementwiseCases(): ElementwiseCase[] {
  const D = 768;
  return [
    { name: 'gelu (tanh)', shape: [512, 3072], bytesPerElement: 8, run: (x) => gelu(x, 'tanh') },
    { name: 'gelu (erf)', shape: [512, 3072], bytesPerElement: 8, run: (x) => gelu(x, 'erf') },
    { name: 'silu', shape: [512, 3072], bytesPerElement: 8, run: (x) => silu(x) },
    { name: 'add (bias [3072])', shape: [512, 3072], bytesPerElement: 8, params: [[3072]], run: (x, [b]) => add(x, b!) },
    // attention patterns: [batch*heads*queries, keys] = [4*12*128, 128]
    { name: 'softmax (last dim)', shape: [48 * 128, 128], bytesPerElement: 8, run: (x) => softmax(x, -1) },
    { name: 'layerNorm (w, b)', shape: [512, D], bytesPerElement: 8, params: [[D], [D]], run: (x, [w, b]) => layerNorm(x, w!, b!) },
    { name: 'rmsNorm (w)', shape: [512, D], bytesPerElement: 8, params: [[D]], run: (x, [w]) => rmsNorm(x, w!) },
  ];
}

/** [median, min] wall time of fn in milliseconds. */
function timeMs(fn: () => void, repeats: number, warmup: number): [number, number] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return [times[times.length >> 1]!, times[0]!];
}

/** Measure every case; returns one result per case. */
export function benchElementwise(opts: ElementwiseOptions = {}, cases: ElementwiseCase[] = defaultElementwiseCases()): ElementwiseResult[] {
  const repeats = opts.repeats ?? 15;
  const warmup = opts.warmup ?? 5;
  const rng = new Rng(1234);
  const out: ElementwiseResult[] = [];
  for (const c of cases) {
    if (opts.only && !opts.only.some((s) => c.name.includes(s))) continue;
    const n = sizeOf(c.shape);
    const x = randn(c.shape, rng);
    const params = (c.params ?? []).map((s) => randn(s, rng, 0.5));
    const seed = randn(c.shape, rng).data;
    let sink = 0;
    const [forwardMs, forwardMinMs] = timeMs(() => {
      sink += c.run(x, params).data[0]!;
    }, repeats, warmup);
    const xg = new Tensor(x.data, x.shape, true);
    const pg = params.map((p) => new Tensor(p.data, p.shape, true));
    const [forwardBackwardMs, forwardBackwardMinMs] = timeMs(() => {
      const y = c.run(xg, pg);
      backward(y, seed);
      sink += xg.grad!.data[0]!;
      xg.grad = null;
      for (const p of pg) p.grad = null;
    }, repeats, warmup);
    if (Number.isNaN(sink)) throw new Error(`${c.name}: produced NaN`);
    const r: ElementwiseResult = {
      name: c.name,
      shape: c.shape.slice(),
      elements: n,
      forwardMs,
      forwardBackwardMs,
      forwardMinMs,
      forwardBackwardMinMs,
      forwardGelemPerS: n / forwardMs / 1e6,
      forwardGBPerS: (n * c.bytesPerElement) / forwardMs / 1e6,
      forwardBackwardGelemPerS: n / forwardBackwardMs / 1e6,
    };
    opts.onResult?.(r);
    out.push(r);
  }
  return out;
}

/** A markdown table of results (the form used in docs/benchmarks.md): medians, with the fastest run in brackets. */
export function formatElementwiseTable(results: readonly ElementwiseResult[]): string {
  const rows = [
    '| op | shape | forward ms (min) | forward Gelem/s | forward GB/s | fwd+bwd ms (min) | fwd+bwd Gelem/s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    rows.push(
      `| ${r.name} | [${r.shape.join(', ')}] | ${r.forwardMs.toFixed(2)} (${r.forwardMinMs.toFixed(2)}) | ${r.forwardGelemPerS.toFixed(3)} | ` +
        `${r.forwardGBPerS.toFixed(2)} | ${r.forwardBackwardMs.toFixed(2)} (${r.forwardBackwardMinMs.toFixed(2)}) | ${r.forwardBackwardGelemPerS.toFixed(3)} |`,
    );
  }
  return rows.join('\n');
}
