// Forward-pass throughput of a random-weight model (GPT-2 shaped by default): tokens/s =
// batch * ctx / seconds per forward, median of timed passes after warm-up. Inference mode (no tape),
// full logits [batch, ctx, vocab]. bench/reference/forward.py times a dense numpy forward of the same shapes.
import '../tensor/backend/native/index.js'; // registers the native kernels (getBackend prefers them)
import { gpt2Config } from '../model/config.js';
import { Transformer } from '../model/transformer.js';
import { getBackend, noGrad, Rng } from '../tensor/index.js';

export interface ForwardBenchOptions {
  dModel?: number;
  layers?: number;
  heads?: number;
  ctx?: number;
  batch?: number;
  vocab?: number;
  /** Timed passes (default 5). */
  iters?: number;
  /** Untimed passes first (default 1). */
  warmup?: number;
  seed?: number;
}

export interface ForwardBenchResult {
  tokens_per_s: number;
  ms_per_forward_median: number;
  d_model: number;
  layers: number;
  heads: number;
  ctx: number;
  batch: number;
  vocab: number;
  iters: number;
  backend: string;
}

export function benchForward(o: ForwardBenchOptions = {}): ForwardBenchResult {
  const dModel = o.dModel ?? 768;
  const layers = o.layers ?? 12;
  const heads = o.heads ?? 12;
  const ctx = o.ctx ?? 128;
  const batch = o.batch ?? 4;
  const vocab = o.vocab ?? 50257;
  const iters = o.iters ?? 5;
  const warmup = o.warmup ?? 1;
  const config = gpt2Config({ dModel, nLayers: layers, nHeads: heads, vocabSize: vocab, nCtx: Math.max(ctx, 1024) });
  const model = Transformer.random(config, { seed: o.seed ?? 0 });
  const rng = new Rng((o.seed ?? 0) + 1);
  const seqs = Array.from({ length: batch }, () => Array.from({ length: ctx }, () => rng.int(vocab)));
  const times: number[] = [];
  noGrad(() => {
    for (let i = 0; i < warmup + iters; i++) {
      const t0 = performance.now();
      model.forward(seqs);
      if (i >= warmup) times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)]!;
  return {
    tokens_per_s: (batch * ctx) / (ms / 1000),
    ms_per_forward_median: ms,
    d_model: dModel,
    layers,
    heads,
    ctx,
    batch,
    vocab,
    iters,
    backend: getBackend().name,
  };
}
