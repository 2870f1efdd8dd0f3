// Training throughput: full steps (forward with the tape, cross-entropy, backward, gradient clipping,
// AdamW) of a randomly initialised model on random tokens, as `loupe grow` runs them. Reported as
// tokens per second (batch * ctx per step) from the median step time. Numbers go in docs/benchmarks.md.
import { modelConfigFor, type ArchName } from '../grow/spec.js';
import { makeOptimizer, trainStep } from '../grow/step.js';
import { Transformer, parameterCount } from '../model/index.js';
import { getBackend, Rng } from '../tensor/index.js';

export interface TrainBenchOptions {
  arch?: ArchName;
  dModel?: number;
  layers?: number;
  heads?: number;
  ctx?: number;
  batch?: number;
  vocab?: number;
  /** MLP width (default 4 * dModel). */
  dMlp?: number;
  /** Timed steps (default 10). */
  steps?: number;
  /** Untimed steps first (default 3). */
  warmup?: number;
  seed?: number;
  onStep?: (done: number, total: number) => void;
}

export interface TrainBenchResult {
  arch: ArchName;
  d_model: number;
  layers: number;
  heads: number;
  ctx: number;
  batch: number;
  vocab: number;
  parameters: number;
  steps: number;
  backend: string;
  ms_per_step_median: number;
  tokens_per_s: number;
  /** Process CPU time (all threads) per step, median: unlike wall time, barely moved by other jobs. */
  cpu_ms_per_step_median: number;
  /** Tokens per second of process CPU time. On one core (taskset -c N) this is the idle-machine speed. */
  tokens_per_cpu_s: number;
}

export function benchTrain(o: TrainBenchOptions = {}): TrainBenchResult {
  const arch = o.arch ?? 'llama';
  const dModel = o.dModel ?? 128;
  const layers = o.layers ?? 2;
  const heads = o.heads ?? Math.max(1, Math.round(dModel / 32));
  const ctx = o.ctx ?? 128;
  const batch = o.batch ?? 16;
  const vocab = o.vocab ?? 2048;
  const steps = o.steps ?? 10;
  const warmup = o.warmup ?? 3;
  const config = modelConfigFor({ arch, layers, dModel, heads, ctx, vocab, dMlp: o.dMlp });
  const model = Transformer.random(config, { seed: o.seed ?? 0 });
  const { optimizer } = makeOptimizer(model, { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
  const rng = new Rng(o.seed ?? 0);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const inputs = new Int32Array(batch * ctx);
    const targets = new Int32Array(batch * ctx);
    for (let j = 0; j < inputs.length; j++) {
      inputs[j] = rng.int(vocab);
      targets[j] = rng.int(vocab);
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    trainStep(model, optimizer, { inputs, targets, batch, ctx }, 1e-3, 1);
    if (i >= warmup) {
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    o.onStep?.(i + 1, warmup + steps);
  }
  const medianOf = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const median = medianOf(times);
  const cpuMedian = medianOf(cpu);
  return {
    arch, d_model: dModel, layers, heads, ctx, batch, vocab,
    parameters: parameterCount(config),
    steps,
    backend: getBackend().name,
    ms_per_step_median: median,
    tokens_per_s: (batch * ctx) / (median / 1000),
    cpu_ms_per_step_median: cpuMedian,
    tokens_per_cpu_s: (batch * ctx) / (cpuMedian / 1000),
  };
}
