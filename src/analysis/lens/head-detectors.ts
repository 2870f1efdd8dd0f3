// Head detectors on repeated random tokens (TransformerLens-style). Each sequence is
// [BOS] + R + R, with R = n tokens drawn uniformly (seeded) from the non-special vocabulary, and for
// every layer and head, averaged over the batch:
//   previous_token  = mean over query positions q >= 1 of pattern[q, q-1]
//   duplicate_token = mean over q in the second copy of pattern[q, q-n]      (the earlier copy of the token)
//   induction       = mean over q in the second copy of pattern[q, q-n+1]    (the token after the earlier copy)
import { InputError } from '../../errors.js';
import { Rng } from '../../tensor/index.js';
import type { Tokenizer } from '../../model/tokenizers/index.js';
import type { Transformer } from '../../model/index.js';

export interface HeadDetectorOptions {
  /** Length n of the random block (default min(50, what fits the context)). */
  seqLen?: number;
  /** Sequences averaged over (default 8). */
  batch?: number;
  seed?: number;
  /** Prepend BOS (default: when the model has one). */
  bos?: boolean;
  /** Used to exclude special tokens from R; without it BOS/EOS are excluded. */
  tokenizer?: Tokenizer | null;
}

export interface HeadScores {
  seqLen: number;
  batch: number;
  seed: number;
  bos: boolean;
  /** [layer][head] */
  previousToken: number[][];
  duplicateToken: number[][];
  induction: number[][];
}

/** The repeated random sequences the detectors run on. */
export function repeatedRandomTokens(model: Transformer, opts: HeadDetectorOptions = {}): { seqs: number[][]; n: number; bos: boolean } {
  const c = model.config;
  const bos = opts.bos ?? c.bosTokenId !== null;
  if (bos && c.bosTokenId === null) throw new InputError('this model has no BOS token; run the detectors without BOS');
  const off = bos ? 1 : 0;
  const n = opts.seqLen ?? Math.min(50, Math.floor((c.nCtx - off) / 2));
  if (!Number.isInteger(n) || n < 2) throw new InputError(`seqLen must be an integer >= 2, got ${n}`);
  if (off + 2 * n > c.nCtx) throw new InputError(`seqLen ${n}: the sequence of ${off + 2 * n} tokens is longer than the model's context of ${c.nCtx}`);
  const batch = opts.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`batch must be a positive integer, got ${batch}`);
  const special = new Set<number>();
  for (let id = 0; id < c.vocabSize; id++) if (opts.tokenizer ? id < opts.tokenizer.vocabSize && opts.tokenizer.isSpecial(id) : id === c.bosTokenId || id === c.eosTokenId) special.add(id);
  const allowed: number[] = [];
  for (let id = 0; id < c.vocabSize; id++) if (!special.has(id)) allowed.push(id);
  const rng = new Rng(opts.seed ?? 0);
  const seqs = Array.from({ length: batch }, () => {
    const r = Array.from({ length: n }, () => allowed[rng.int(allowed.length)]!);
    return [...(bos ? [c.bosTokenId!] : []), ...r, ...r];
  });
  return { seqs, n, bos };
}

export function headScores(model: Transformer, opts: HeadDetectorOptions = {}): HeadScores {
  const c = model.config;
  const { seqs, n, bos } = repeatedRandomTokens(model, opts);
  const off = bos ? 1 : 0;
  const L = c.nLayers;
  const H = c.nHeads;
  const prev = Array.from({ length: L }, () => new Array<number>(H).fill(0));
  const dup = Array.from({ length: L }, () => new Array<number>(H).fill(0));
  const ind = Array.from({ length: L }, () => new Array<number>(H).fill(0));
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const Tn = off + 2 * n;
  // Accumulate inside a read-only hook, so patterns of one layer at a time are alive.
  model.run(seqs, {
    withGrad: false,
    hooks: names.map((name, l) => ({
      name,
      fn: (p) => {
        const d = p.data; // [B, H, T, T]
        for (let b = 0; b < seqs.length; b++)
          for (let h = 0; h < H; h++) {
            const base = (b * H + h) * Tn * Tn;
            let sp = 0;
            for (let q = 1; q < Tn; q++) sp += d[base + q * Tn + q - 1]!;
            let sd = 0;
            let si = 0;
            for (let q = off + n; q < Tn; q++) {
              sd += d[base + q * Tn + q - n]!;
              si += d[base + q * Tn + q - n + 1]!;
            }
            prev[l]![h]! += sp / (Tn - 1);
            dup[l]![h]! += sd / n;
            ind[l]![h]! += si / n;
          }
      },
    })),
    stopAtLayer: L,
  });
  const avg = (m: number[][]): number[][] => m.map((r) => r.map((v) => v / seqs.length));
  return { seqLen: n, batch: seqs.length, seed: opts.seed ?? 0, bos, previousToken: avg(prev), duplicateToken: avg(dup), induction: avg(ind) };
}
