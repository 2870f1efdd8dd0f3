// The native kernel backend: matmuls run in onnxruntime's MLAS kernels through one-node graphs, called
// synchronously, reading the caller's arrays in place and writing straight into `out`.
// Products too small to pay for a native call go to the plain-TypeScript kernel instead.
// One cost we cannot remove: after each run, onnxruntime-node 1.30's binding copies every fetched output
// into a fresh ArrayBuffer for its (here unused) return value: ~0.7 ms per 6 MB output on the 2-core VM,
// more when that buffer is freshly mapped memory (malloc-threshold.ts works around that part).
import { availableParallelism } from 'node:os';
import { LoupeError, ShapeError } from '../../../errors.js';
import type { KernelBackend, LinearSpec, MatmulSpec } from '../backend.js';
import { FastTsBackend } from '../ts-fast.js';
import { raiseMallocMmapThreshold } from './malloc-threshold.js';
import { linearGraph, planMatmul } from './matmul-plan.js';
import { loadOrtBinding, type OrtBinding, type OrtTensorLike } from './ort-binding.js';
import { SessionCache } from './session-cache.js';

export interface NativeBackendOptions {
  /** Intra-op threads per session (default: the machine's available parallelism). */
  threads?: number;
  /** Products of fewer FLOPs (2*batch*m*k*n) than this run in TypeScript; 0 sends everything native. */
  smallFlops?: number;
  /**
   * How long (microseconds) an idle pool thread spins before sleeping; 0 never spins. Default 300.
   * On the 2-core VM a sleeping worker is slow to rejoin, which short back-to-back calls feel most
   * ([128,64] @ [64,172]: 89 GFLOP/s at 300 us, 59 never spinning); but a spinning pool steals the core
   * from the next session's worker when calls alternate between transpose flags (128x768x768
   * alternating: 128 GFLOP/s at 300 us, 142 never spinning, 78 at 1000 us).
   */
  spinMicros?: number;
  /** Extra onnxruntime session config entries (e.g. 'session.dynamic_block_base'), for tuning. */
  sessionConfig?: Record<string, string>;
}

// A native call costs 9-15 us however small the product; the TypeScript kernel runs at 2.5-4 GFLOP/s,
// so it wins below roughly 25-30k FLOPs (e.g. [1,64] @ [64,172]). Measured with
// `loupe bench matmul --small-flops 0` against `--backend ts-fast`; see docs/benchmarks.md.
export const DEFAULT_SMALL_FLOPS = 24_000;
export const DEFAULT_SPIN_MICROS = 300;

export class NativeBackend implements KernelBackend {
  readonly name = 'native';
  readonly threads: number;
  readonly smallFlops: number;
  private readonly sessions: SessionCache;
  private readonly small = new FastTsBackend();

  constructor(binding: OrtBinding, options: NativeBackendOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.smallFlops = options.smallFlops ?? DEFAULT_SMALL_FLOPS;
    const spinMicros = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    raiseMallocMmapThreshold();
    this.sessions = new SessionCache(binding, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: {
        'session.intra_op.allow_spinning': spinMicros > 0 ? '1' : '0',
        'session.intra_op.spin_duration_us': String(spinMicros),
        ...options.sessionConfig,
      },
    });
  }

  matmul(a: Float32Array, b: Float32Array, out: Float32Array, spec: MatmulSpec): void {
    checkSpec(a, b, out, spec);
    const { batch, m, k, n } = spec;
    if (batch * m * n === 0) return;
    if (k === 0) {
      out.fill(0, 0, batch * m * n);
      return;
    }
    const flops = 2 * (spec.aBatched || spec.bBatched ? batch : 1) * m * k * n;
    if (flops < this.smallFlops) {
      this.small.matmul(a, b, out, spec);
      return;
    }
    // A [1, k] and its transpose [k, 1] are the same bytes (likewise n = 1, and k = 1 for both):
    // dropping the flag keeps MLAS on its fast non-transposed path.
    const s: MatmulSpec = { ...spec, transA: spec.transA && m > 1 && k > 1, transB: spec.transB && n > 1 && k > 1 };
    const plan = planMatmul(s);
    const session = this.sessions.get(plan.key, plan.graph);
    try {
      session.run({ A: tensor(a, plan.aDims), B: tensor(b, plan.bDims) }, { Y: tensor(out, plan.yDims) });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new LoupeError('native_kernel', `native matmul ${plan.key} failed: ${why}`, { spec, aDims: plan.aDims, bDims: plan.bDims });
    }
    const mn = m * n;
    for (let r = 1; r < plan.replicate; r++) out.copyWithin(r * mn, 0, mn);
  }

  linear(a: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, spec: LinearSpec): boolean {
    const { m, k, n, activation } = spec;
    if (2 * m * k * n < this.smallFlops || m === 0 || k === 0 || n === 0) return false;
    if (a.length < m * k || w.length < n * k || out.length < m * n || (bias && bias.length !== n)) {
      throw new ShapeError('linear', `buffers too small for A [${m},${k}], W [${n},${k}], out [${m},${n}] (lengths ${a.length}, ${w.length}, ${out.length}; bias ${bias?.length ?? 'none'})`, [[m, k], [n, k], [m, n]]);
    }
    const { key, graph } = linearGraph(bias !== null, activation);
    const session = this.sessions.get(key, graph);
    const feeds: Record<string, OrtTensorLike> = { A: tensor(a, [m, k]), W: tensor(w, [n, k]) };
    if (bias) feeds.C = tensor(bias, [n]);
    try {
      session.run(feeds, { Y: tensor(out, [m, n]) });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new LoupeError('native_kernel', `native linear ${key} failed: ${why}`, { m, k, n });
    }
    return true;
  }

  /** How many graph sessions have been built (one per signature); for tests and diagnostics. */
  get sessionCount(): number {
    return this.sessions.size;
  }
}

/** A view of exactly the elements the dims cover: the runtime wants the byte length to match. */
function tensor(data: Float32Array, dims: number[]): OrtTensorLike {
  let size = 1;
  for (const d of dims) size *= d;
  return { type: 'float32', data: data.length === size ? data : data.subarray(0, size), dims, location: 'cpu' };
}

function checkSpec(a: Float32Array, b: Float32Array, out: Float32Array, s: MatmulSpec): void {
  const { batch, m, k, n } = s;
  for (const [name, v] of [['batch', batch], ['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ShapeError('matmul', `${name} must be a non-negative integer, got ${v}`);
  }
  const aDims = [s.aBatched ? batch : 1, ...(s.transA ? [k, m] : [m, k])];
  const bDims = [s.bBatched ? batch : 1, ...(s.transB ? [n, k] : [k, n])];
  const need = (d: number[]) => d[0]! * d[1]! * d[2]!;
  if (a.length < need(aDims) || b.length < need(bDims) || out.length < batch * m * n) {
    throw new ShapeError(
      'matmul',
      `buffers too small for A ${fmt(aDims)}, B ${fmt(bDims)}, out [${batch},${m},${n}]: lengths are ${a.length}, ${b.length}, ${out.length}`,
      [aDims, bDims, [batch, m, n]],
    );
  }
  const outLen = batch * m * n;
  if (overlaps(out, outLen, a, need(aDims)) || overlaps(out, outLen, b, need(bDims))) {
    throw new ShapeError('matmul', 'out must not share memory with A or B');
  }
}

function fmt(d: number[]): string {
  return `[${d.join(',')}]`;
}

function overlaps(out: Float32Array, outLen: number, x: Float32Array, xLen: number): boolean {
  if (out.buffer !== x.buffer) return false;
  const o0 = out.byteOffset, o1 = o0 + outLen * 4;
  const x0 = x.byteOffset, x1 = x0 + xLen * 4;
  return o0 < x1 && x0 < o1;
}

let unavailableReason: string | null = null;

/**
 * The native backend, or null when onnxruntime-node cannot load here (see nativeUnavailableReason());
 * callers then fall back to ReferenceBackend or FastTsBackend.
 */
export function loadNativeBackend(options: NativeBackendOptions = {}): NativeBackend | null {
  const loaded = loadOrtBinding();
  if (!loaded.ok) {
    unavailableReason = loaded.reason;
    return null;
  }
  unavailableReason = null;
  return new NativeBackend(loaded.binding, options);
}

/** Why the last loadNativeBackend() returned null, or null if it succeeded (or was never called). */
export function nativeUnavailableReason(): string | null {
  return unavailableReason;
}
