// The trainer on synthetic data with a known answer: sparse combinations of ground-truth directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoupeError, NonFiniteError } from '../errors.js';
import { ArraySource, type ActivationChunk, type ActivationSource } from '../activations/source.js';
import { SyntheticSource } from '../activations/synthetic.js';
import { loadSae } from './format.js';
import type { Sae } from './sae.js';
import { trainSae, type TrainRunOptions } from './trainer.js';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sae-'));
}

/** For each ground-truth direction, the best cosine with any decoder row. */
function recovery(sae: Sae, truth: Float32Array, d: number): number[] {
  const n = truth.length / d;
  const dirs = Array.from({ length: sae.dSae }, (_, f) => sae.decoderDirection(f));
  const out: number[] = [];
  for (let t = 0; t < n; t++) {
    let best = -1;
    for (const w of dirs) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += w[j]! * truth[t * d + j]!;
      best = Math.max(best, dot);
    }
    out.push(best);
  }
  return out;
}

const synthetic = (seed = 1): SyntheticSource => new SyntheticSource({ dIn: 24, features: 40, activePerRow: 3, noise: 0.01, offset: 2, seed, chunkRows: 512 });

for (const [arch, extra] of [
  ['topk', { k: 4, batchSize: 128 }],
  ['batchtopk', { k: 4, batchSize: 128 }],
  ['relu', { l1Coefficient: 1, batchSize: 64 }],
  ['jumprelu', { l0Coefficient: 0.3, initThreshold: 0.1, thresholdLrScale: 1, batchSize: 64 }],
] as const) {
  test(`${arch} SAE recovers the ground-truth directions of synthetic data`, async () => {
    const source = synthetic();
    const r = await trainSae({ source, architecture: arch, latents: 64, ...extra, lr: 0.01, tokens: 60_000, seed: 0, bufferRows: 8192 } as TrainRunOptions);
    const cos = recovery(r.sae, source.directions, 24);
    const found = cos.filter((c) => c > 0.9).length;
    assert.ok(found >= 34, `${arch}: ${found}/40 directions recovered at cosine > 0.9 (cosines ${cos.map((c) => c.toFixed(2)).join(' ')}); final ${JSON.stringify(r.final)}`);
    assert.ok(r.final.fvu < 0.2, `${arch}: final batch FVU ${r.final.fvu}`);
    // An untrained dictionary of the same size finds almost none: the test can fail.
    const untrained = await trainSae({ source, architecture: arch, latents: 64, ...extra, lr: 0, tokens: 1000, seed: 0, bufferRows: 1024 } as TrainRunOptions);
    assert.ok(recovery(untrained.sae, source.directions, 24).filter((c) => c > 0.9).length < 5);
  });
}

test('a TopK transcoder learns a sparse map between two hooks', async () => {
  // Output = a fixed linear map of the input's sparse code (different width), so a transcoder can fit it.
  const inner = synthetic(3);
  const dOut = 16;
  const M = new Float32Array(24 * dOut).map((_, i) => Math.sin(i * 1.7));
  const source: ActivationSource = {
    hooks: ['in', 'out'],
    widths: [24, dOut],
    async *read(from?: unknown): AsyncIterable<ActivationChunk> {
      for await (const c of inner.read(from)) {
        const x = c.acts[0]!;
        const y = new Float32Array(c.rows * dOut);
        for (let r = 0; r < c.rows; r++) for (let o = 0; o < dOut; o++) for (let j = 0; j < 24; j++) y[r * dOut + o] += Math.max(0, x[r * 24 + j]!) * M[j * dOut + o]!;
        yield { ...c, acts: [x, y] };
      }
    },
  };
  const r = await trainSae({ source, architecture: 'transcoder-topk', latents: 64, k: 6, tokens: 40_000, batchSize: 128, lr: 0.01, seed: 0, hookNameOut: 'out', skip: true, bufferRows: 4096 });
  assert.equal(r.sae.dOut, dOut);
  assert.ok(r.final.fvu < 0.15, `transcoder final batch FVU ${r.final.fvu}`);
});

test('training is deterministic for a seed, and a different seed gives different weights', async () => {
  const opts = { architecture: 'topk', latents: 32, k: 3, tokens: 20_000, batchSize: 256, bufferRows: 2048 } as const;
  const a = await trainSae({ ...opts, source: synthetic(), seed: 5 });
  const b = await trainSae({ ...opts, source: synthetic(), seed: 5 });
  const c = await trainSae({ ...opts, source: synthetic(), seed: 6 });
  assert.deepEqual(a.sae.params.W_dec_FO.data, b.sae.params.W_dec_FO.data);
  assert.deepEqual(a.sae.params.W_enc_FD.data, b.sae.params.W_enc_FD.data);
  assert.notDeepEqual(a.sae.params.W_dec_FO.data, c.sae.params.W_dec_FO.data);
});

test('resuming from a checkpoint gives exactly the weights of an uninterrupted run', async () => {
  const dir = tmpdir();
  try {
    const opts = { architecture: 'topk', latents: 32, k: 3, tokens: 256 * 12, batchSize: 256, bufferRows: 1500, seed: 2, deadTokens: 512 } as const;
    const full = await trainSae({ ...opts, source: synthetic(), out: path.join(dir, 'full'), checkpointEvery: 5, keepCheckpoints: 5 });
    const ckpt = path.join(dir, 'full', 'checkpoints', 'step-000005');
    assert.ok(fs.existsSync(ckpt), 'a checkpoint at step 5');
    const resumed = await trainSae({ ...opts, source: synthetic(), resume: ckpt, out: path.join(dir, 'resumed') });
    assert.equal(resumed.steps, 12);
    assert.deepEqual(resumed.sae.params.W_dec_FO.data, full.sae.params.W_dec_FO.data);
    assert.deepEqual(resumed.sae.params.b_dec_O.data, full.sae.params.b_dec_O.data);
    // The output directory is a loadable SAE equal to the returned one.
    const loaded = loadSae(path.join(dir, 'resumed'));
    assert.deepEqual(loaded.params.W_enc_FD.data, resumed.sae.params.W_enc_FD.data);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a diverging run stops with a clear error and keeps the last good checkpoint', async () => {
  const dir = tmpdir();
  try {
    const inner = synthetic();
    // Activations turn to NaN after 8 chunks of 512 rows (16 steps of 256).
    const source: ActivationSource = {
      hooks: inner.hooks,
      widths: inner.widths,
      async *read(from?: unknown) {
        for await (const c of inner.read(from)) yield (c.resume as number) > 8 ? { ...c, acts: [c.acts[0]!.map(() => NaN)] } : c;
      },
    };
    await assert.rejects(
      trainSae({ source, architecture: 'topk', latents: 32, k: 3, tokens: 256 * 40, batchSize: 256, bufferRows: 512, seed: 0, out: dir, checkpointEvery: 4 }),
      (err: unknown) => {
        assert.ok(err instanceof NonFiniteError, String(err));
        assert.match((err as Error).message, /diverged.*last good checkpoint is .*step-0000(12|16)/);
        return true;
      },
    );
    const last = fs.readdirSync(path.join(dir, 'checkpoints')).sort().pop()!;
    const sae = loadSae(path.join(dir, 'checkpoints', last));
    assert.ok(sae.params.W_dec_FO.data.every(Number.isFinite));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty activation source is a clear error', async () => {
  const source = new ArraySource(['h'], [new Float32Array(0)], [8]);
  await assert.rejects(trainSae({ source, architecture: 'topk', latents: 16, k: 2, tokens: 1000, seed: 0 }), (err: unknown) => {
    assert.ok(err instanceof LoupeError);
    assert.match((err as Error).message, /empty/);
    return true;
  });
});
