// TopK SAE training throughput on random data: full steps (encoder GEMM, top-k, sparse decode, sparse
// backward, AuxK when latents are dead, Adam, decoder renormalisation), timed after one warm-up step.
// bench/reference/sae.py runs the dense numpy step the same way so the two numbers sit side by side.
import '../tensor/backend/native/index.js'; // registers the native kernels (getBackend prefers them)
import { getBackend, Rng } from '../tensor/index.js';
import { defaultConfig } from '../sae/config.js';
import { initializeSae } from '../sae/init.js';
import { SaeOptimizer } from '../sae/optimizer.js';
import { Sae } from '../sae/sae.js';
import { StepContext, trainStep } from '../sae/train-step.js';
import { defaultRuleOptions } from '../sae/trainer-options.js';

export interface SaeBenchOptions {
  dIn: number;
  latents: number;
  k: number;
  batch: number;
  steps: number;
  seed?: number;
  /** Untimed steps first (default 1). */
  warmup?: number;
}

export interface SaeBenchResult {
  tokens_per_s: number;
  ms_per_step: number;
  d_in: number;
  latents: number;
  k: number;
  batch: number;
  steps: number;
  backend: string;
  /** Mean milliseconds per step in each phase (encoder GEMM, top-k, decode, backward, Adam ...). */
  breakdown_ms: Record<string, number>;
}

export function benchSaeTraining(opts: SaeBenchOptions): SaeBenchResult {
  const { dIn: D, latents: F, k, batch: B, steps } = opts;
  const fresh = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: D, dSae: F, k }));
  initializeSae(fresh, { seed: opts.seed ?? 0 });
  const sae = fresh.shared(); // as the trainer does: shared memory lets the kernel pool use every core
  const rng = new Rng((opts.seed ?? 0) + 1);
  // Two batches of random activations, alternated (generating fresh data each step would time the RNG).
  const data = [0, 1].map(() => {
    const x = new Float32Array(B * D);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    return x;
  });
  const ctx = new StepContext(sae);
  const rule = sae.arch.trainingRule(sae, defaultRuleOptions(sae.cfg, 1));
  const optim = new SaeOptimizer(sae, ctx, rule, { decoderNorm: 'unit' });
  const lr = 2e-4 / Math.sqrt(F / 2 ** 14);
  const once = (i: number): void => {
    const x = data[i % 2]!;
    trainStep(ctx, rule, x, x, B);
    ctx.mark('');
    optim.step(lr);
    ctx.mark('adam + decoder norm');
  };
  for (let i = 0; i < (opts.warmup ?? 1); i++) once(i);
  ctx.timings = {};
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) once(i);
  const ms = (performance.now() - t0) / steps;
  const breakdown_ms: Record<string, number> = {};
  for (const [phase, t] of Object.entries(ctx.timings)) if (t / steps >= 0.05) breakdown_ms[phase] = Math.round((10 * t) / steps) / 10;
  return { tokens_per_s: (B * 1000) / ms, ms_per_step: ms, d_in: D, latents: F, k, batch: B, steps, backend: getBackend().name, breakdown_ms };
}
