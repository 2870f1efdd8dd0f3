// Steering hooks inside real runs: add shifts the hook activation by exactly strength x direction at the
// chosen positions and nowhere else (whole sequences and KV-cached decoding), and a clamp reported as V
// is V when the cached activation is encoded again by the dictionary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../tensor/backend/native/index.js';
import { KVCache, TokenBatch } from '../model/index.js';
import * as T from '../tensor/index.js';
import { featureDirection } from './direction.js';
import { steeringHooks, type SteeredPosition } from './hooks.js';
import { tinyModel, tinySae } from './testing/fixtures.js';

const model = tinyModel();
const HOOK = 'blocks.0.hook_resid_post';
const sae = tinySae({ architecture: 'topk' }, HOOK);
const ids = [1, 5, 6, 7, 9, 4, 12, 13];
const D = 16;

function cached(hooks: ReturnType<typeof steeringHooks> | undefined, input: number[][] = [ids]): Float32Array {
  return T.noGrad(() => model.run(TokenBatch.from(input), { hooks, cache: [HOOK] })).cache.get(HOOK).data;
}

test('add shifts the hook activation by exactly strength x W_dec[f] at the selected positions only', () => {
  const clean = cached(undefined);
  const w = sae.decoderRow(7);
  for (const [positions, expectSteered] of [
    ['all', (t: number) => t > 0],
    ['prompt', (t: number) => t > 0 && t < 5],
    ['generated', (t: number) => t >= 5],
  ] as const) {
    const hooks = steeringHooks([{ direction: featureDirection(sae, 7), mode: 'add', amount: 2.25 }], { positions, promptLength: 5, bosId: 1 });
    const got = cached(hooks);
    for (let t = 0; t < ids.length; t++)
      for (let j = 0; j < D; j++) {
        const shift = got[t * D + j]! - clean[t * D + j]!;
        const want = expectSteered(t) ? 2.25 * w[j]! : 0;
        assert.ok(Math.abs(shift - want) < 1e-5, `${positions} t=${t} j=${j}: shift ${shift}, want ${want}`);
      }
  }
});

test('KV-cached decoding steers each new position by its absolute index', () => {
  const w = sae.decoderRow(3);
  const seen: number[] = [];
  const hooks = steeringHooks([{ direction: featureDirection(sae, 3), mode: 'add', amount: -1.5 }], { positions: 'generated', promptLength: 5, onSteered: (p) => seen.push(p.position) });
  const cache = new KVCache(model.config, 1, ids.length);
  const rows: Float32Array[] = [];
  const step = (chunk: number[]): void => {
    rows.push(T.noGrad(() => model.run([chunk], { kvCache: cache, hooks, cache: [HOOK] })).cache.get(HOOK).data);
  };
  step(ids.slice(0, 5));
  for (let t = 5; t < ids.length; t++) step([ids[t]!]);
  const got = Float32Array.from(rows.flatMap((r) => [...r]));
  const clean = cached(undefined);
  for (let t = 0; t < ids.length; t++)
    for (let j = 0; j < D; j++) {
      const want = t >= 5 ? -1.5 * w[j]! : 0;
      assert.ok(Math.abs(got[t * D + j]! - clean[t * D + j]! - want) < 1e-4, `t=${t}`);
    }
  assert.deepEqual(seen, [5, 6, 7]);
});

test('a clamp reported as V is V when the steered activation is encoded again; BOS and padding are left alone', () => {
  const reports: SteeredPosition[] = [];
  const list = [
    { direction: featureDirection(sae, 11), mode: 'clamp' as const, amount: 1.75 },
    { direction: featureDirection(sae, 20), mode: 'ablate' as const, amount: 0 },
  ];
  const batch = [ids, [1, 8, 9]]; // the second row is padded
  const got = cached(steeringHooks(list, { onSteered: (p) => reports.push(p) }), batch);
  const clean = cached(undefined, batch);
  const Tn = ids.length;
  const pre = T.noGrad(() => sae.preActivations(new T.Tensor(got, [2 * Tn, D]))).data;
  for (const r of reports) {
    const row = r.batch * Tn + r.position;
    assert.ok(Math.abs(pre[row * 40 + 11]! - 1.75) < 1e-4);
    assert.ok(pre[row * 40 + 20]! <= 1e-4);
    assert.ok(Math.abs(r.values[0]! - 1.75) < 1e-4);
    assert.ok(r.values[1]! >= 0 && r.values[1]! < 1e-4);
    // The dictionary's own latent: V when TopK keeps the feature, else 0.
    assert.ok(r.latents[0] === 0 || Math.abs(r.latents[0]! - 1.75) < 1e-4);
  }
  assert.equal(reports.length, ids.length - 1 + 2, 'every real non-BOS position');
  for (const [b, t] of [[0, 0], [1, 0]]) for (let j = 0; j < D; j++) assert.equal(got[(b! * Tn + t!) * D + j], clean[(b! * Tn + t!) * D + j]);
});
