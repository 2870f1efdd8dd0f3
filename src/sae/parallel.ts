// Multi-threaded SAE kernels. After the encoder GEMM (which the native backend already spreads over
// every core), a TopK step is per-latent TypeScript loops: top-k selection, sparse decode and its
// backward, Adam over two d_sae x d_in matrices. Those run on one core unless split: this pool runs
// each kernel over disjoint ranges on worker threads plus the calling thread, on shared memory, and
// blocks until all are done, so callers stay synchronous.
//
// Ranges are chosen so every output element is written by exactly one thread in the same order as the
// single-threaded loop (rows for row-wise outputs, latents for scatters into weight rows), so results
// are bit-identical whatever the thread count. Arrays not backed by a SharedArrayBuffer make the kernel
// run on the calling thread alone. LOUPE_SAE_THREADS=1 turns the pool off.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LoupeError } from '../errors.js';
import { runKernel, runParts, type KernelTask } from './parallel-tasks.js';

export type { KernelTask } from './parallel-tasks.js';

export class KernelPool {
  private readonly workers: Worker[];
  private readonly flags: Int32Array;
  /** Next unclaimed part of the current task (work stealing: a thread slowed by other load takes fewer). */
  private readonly next: Int32Array;

  constructor(readonly threads: number) {
    const url = new URL('./kernel-worker.js', import.meta.url);
    this.workers = Array.from({ length: threads - 1 }, () => {
      const w = new Worker(url);
      w.unref(); // idle workers never keep the process alive
      return w;
    });
    this.flags = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads - 1)));
    this.next = new Int32Array(new SharedArrayBuffer(4));
  }

  /** Run `task` over [0, total), split into `threads` contiguous parts; returns when every part is done. */
  run(task: KernelTask, total: number): void {
    if (total <= 0) return;
    const parts = this.threads;
    if (parts === 1 || !sharedArgs(task) || total < parts) {
      runKernel(task, 0, total);
      return;
    }
    // More parts than threads, claimed from a shared counter: the split (and so every result bit) is
    // fixed, while which thread runs which part adapts to how busy each core is.
    const count = Math.min(total, parts * 4);
    const bounds = Int32Array.from({ length: count + 1 }, (_, i) => Math.round((i * total) / count));
    this.flags.fill(0);
    Atomics.store(this.next, 0, 0);
    this.workers.forEach((w, i) => w.postMessage({ task, bounds, next: this.next, flags: this.flags, slot: i }));
    runParts(task, bounds, this.next);
    let failed = false;
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.wait(this.flags, i, 0);
      if (Atomics.load(this.flags, i) === 2) failed = true;
    }
    if (failed) throw new LoupeError('kernel_worker', `an SAE kernel worker failed on "${task.kind}" (rerun with LOUPE_SAE_THREADS=1 to see the error on the main thread)`);
  }
}

let pool: KernelPool | null | undefined;

/** The process-wide pool (threads = LOUPE_SAE_THREADS or the available cores). */
export function kernelPool(): KernelPool {
  if (!pool) {
    const env = Number(process.env.LOUPE_SAE_THREADS);
    const threads = Number.isInteger(env) && env >= 1 ? env : Math.min(availableParallelism(), 8);
    pool = new KernelPool(threads);
  }
  return pool;
}

/** Every typed array of the task lives in shared memory (else workers would see copies). */
function sharedArgs(task: KernelTask): boolean {
  for (const v of Object.values(task)) {
    if (ArrayBuffer.isView(v) && !(v.buffer instanceof SharedArrayBuffer)) return false;
    if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      for (const w of Object.values(v)) if (ArrayBuffer.isView(w) && !(w.buffer instanceof SharedArrayBuffer)) return false;
    }
  }
  return true;
}
