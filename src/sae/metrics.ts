// Reconstruction metrics over many batches, accumulated in float64:
//   l0            mean number of active latents per token
//   mse           mean squared error per element, mean over tokens and features
//   fvu           fraction of variance unexplained: sum ||y - y_hat||^2 / sum ||y - mean(y)||^2 (1 - explained variance)
//   cosine        mean over tokens of cos(y, y_hat)
//   dead_fraction latents that never fired on these tokens
//   log-density histogram of per-latent firing frequency (log10), the shape SAELens and Neuronpedia plot
import type { SparseLatents } from './kernels.js';

export interface ReconstructionMetrics {
  l0: number;
  mse: number;
  fvu: number;
  cosine: number;
  dead_fraction: number;
  tokens: number;
  /** Histogram of log10 firing density of the latents that fired: edges (bins + 1) and counts. */
  log_density: { edges: number[]; counts: number[] };
}

export class MetricsAccumulator {
  private tokens = 0;
  private active = 0;
  private se = 0;
  private cosSum = 0;
  private readonly sumY: Float64Array;
  private sumSq = 0;
  readonly fires: Float64Array;

  constructor(
    readonly dSae: number,
    readonly dOut: number,
  ) {
    this.sumY = new Float64Array(dOut);
    this.fires = new Float64Array(dSae);
  }

  /**
   * Add rows: targets y and reconstructions [rows, dOut], their active latents, and an optional per-row
   * skip mask (positions left out of the evaluation, e.g. BOS).
   */
  add(y: Float32Array, recon: Float32Array, latents: SparseLatents, skipped?: Uint8Array): void {
    const O = this.dOut;
    const rows = y.length / O;
    for (let r = 0; r < rows; r++) {
      if (skipped?.[r]) continue;
      this.tokens++;
      let dot = 0, yy = 0, rr = 0;
      const o = r * O;
      for (let j = 0; j < O; j++) {
        const a = y[o + j]!;
        const b = recon[o + j]!;
        const e = b - a;
        this.se += e * e;
        dot += a * b;
        yy += a * a;
        rr += b * b;
        this.sumY[j] = this.sumY[j]! + a;
      }
      this.sumSq += yy;
      this.cosSum += yy > 0 && rr > 0 ? dot / Math.sqrt(yy * rr) : 0;
      for (let e = latents.rowPtr[r]!; e < latents.rowPtr[r + 1]!; e++) {
        if (latents.val[e] !== 0) {
          this.active++;
          this.fires[latents.idx[e]!] = this.fires[latents.idx[e]!]! + 1;
        }
      }
    }
  }

  result(bins = 20): ReconstructionMetrics {
    const n = Math.max(this.tokens, 1);
    let meanSq = 0;
    for (let j = 0; j < this.dOut; j++) meanSq += (this.sumY[j]! / n) ** 2;
    const variance = this.sumSq - n * meanSq;
    let dead = 0;
    for (const f of this.fires) if (f === 0) dead++;
    return {
      l0: this.active / n,
      mse: this.se / (n * this.dOut),
      fvu: variance > 0 ? this.se / variance : NaN,
      cosine: this.cosSum / n,
      dead_fraction: dead / this.dSae,
      tokens: this.tokens,
      log_density: logDensityHistogram(this.fires, this.tokens, bins),
    };
  }
}

/** Histogram of log10(fires / tokens) over latents that fired at least once, from 10^-(bins/4) .. 10^0. */
export function logDensityHistogram(fires: ArrayLike<number>, tokens: number, bins = 20): { edges: number[]; counts: number[] } {
  const lo = -Math.max(1, Math.ceil(Math.log10(Math.max(tokens, 10))));
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + (i * -lo) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (let f = 0; f < fires.length; f++) {
    if (!(fires[f]! > 0)) continue;
    const d = Math.log10(fires[f]! / tokens);
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((d - lo) / -lo) * bins)));
    counts[b]++;
  }
  return { edges, counts };
}
