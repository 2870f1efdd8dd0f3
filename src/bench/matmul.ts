// Matmul throughput on one backend: random inputs, warm-up, then the median of individually timed calls.
// bench/reference/matmul.py times numpy the same way, so the two numbers can sit side by side.
import { LoupeError } from '../errors.js';
import type { KernelBackend, MatmulSpec } from '../tensor/backend/backend.js';
import { loadNativeBackend, nativeUnavailableReason } from '../tensor/backend/native/native-backend.js';
import { ReferenceBackend } from '../tensor/backend/reference.js';
import { FastTsBackend } from '../tensor/backend/ts-fast.js';
import { Rng } from '../tensor/random.js';

export const MATMUL_BACKENDS = ['native', 'reference', 'ts-fast'] as const;
export type MatmulBackendName = (typeof MATMUL_BACKENDS)[number];

export interface MatmulBenchOptions {
  m: number;
  k: number;
  n: number;
  /** Independent products, each operand batched: [batch, m, k] @ [batch, k, n]. Default 1. */
  batch?: number;
  transB?: boolean;
  /** Timed calls; by default enough for about a second (at least 10, or 3 when one call takes over 100 ms). */
  iters?: number;
  warmup?: number;
  backend?: MatmulBackendName;
  /** Native intra-op threads (default: available parallelism). */
  threads?: number;
  /** Native only: products below this many FLOPs run in TypeScript (default: the backend's threshold). */
  smallFlops?: number;
}

export interface MatmulBenchResult {
  gflops: number;
  ms_median: number;
  m: number;
  k: number;
  n: number;
  batch: number;
  trans_b: boolean;
  backend: MatmulBackendName;
  threads: number;
  iters: number;
}

const TARGET_SECONDS = 1;

export function benchMatmul(opts: MatmulBenchOptions): MatmulBenchResult {
  const { m, k, n } = opts;
  const batch = opts.batch ?? 1;
  const transB = opts.transB ?? false;
  const backendName = opts.backend ?? 'native';
  const { backend, threads } = makeBackend(backendName, opts.threads, opts.smallFlops);
  const spec: MatmulSpec = { batch, m, k, n, transA: false, transB, aBatched: true, bBatched: true };

  const rng = new Rng(1);
  const random = (len: number) => {
    const x = new Float32Array(len);
    for (let i = 0; i < len; i++) x[i] = rng.uniform() * 2 - 1;
    return x;
  };
  const a = random(batch * m * k); // [batch, m, k]
  const b = random(batch * k * n); // [batch, k, n] or [batch, n, k]
  const out = new Float32Array(batch * m * n); // [batch, m, n]

  // Defaults keep a run near a second even for the slow reference kernel (seconds per call at 512x768x3072).
  let warmMs = Infinity;
  let spent = 0;
  for (let i = 0; i < (opts.warmup ?? 3); i++) {
    const t = timeOnce(() => backend.matmul(a, b, out, spec));
    warmMs = Math.min(warmMs, t);
    spent += t;
    if (opts.warmup === undefined && spent > TARGET_SECONDS * 1000) break;
  }
  if (warmMs === Infinity) warmMs = 1;
  const minIters = warmMs > 100 ? 3 : 10;
  const iters = opts.iters ?? Math.min(10_000, Math.max(minIters, Math.ceil((TARGET_SECONDS * 1000) / Math.max(warmMs, 1e-3))));

  const times: number[] = [];
  for (let i = 0; i < iters; i++) times.push(timeOnce(() => backend.matmul(a, b, out, spec)));
  times.sort((x, y) => x - y);
  const ms = median(times);
  const flops = 2 * batch * m * k * n;
  return { gflops: flops / (ms * 1e6), ms_median: ms, m, k, n, batch, trans_b: transB, backend: backendName, threads, iters };
}

function makeBackend(name: MatmulBackendName, threads?: number, smallFlops?: number): { backend: KernelBackend; threads: number } {
  switch (name) {
    case 'reference':
      return { backend: new ReferenceBackend(), threads: 1 };
    case 'ts-fast':
      return { backend: new FastTsBackend(), threads: 1 };
    case 'native': {
      const native = loadNativeBackend({ threads, smallFlops });
      if (!native) throw new LoupeError('native_unavailable', `the native backend is unavailable: ${nativeUnavailableReason()}`);
      return { backend: native, threads: native.threads };
    }
  }
}

function timeOnce(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
