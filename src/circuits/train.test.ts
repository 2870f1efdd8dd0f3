import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ArraySource } from '../activations/source.js';
import { SyntheticTokenizer, syntheticCorpus } from '../features/synthetic.js';
import { llamaConfig, Transformer } from '../model/index.js';
import { randomIds, tempDir } from '../model/testing/fixtures.js';
import { smallModel } from '../model/testing/models.js';
import { Rng } from '../tensor/index.js';
import { attribute } from './attribute.js';
import { trainClt } from './clt-train.js';
import { FanOut } from './fan-out.js';
import { randomTranscoderSet } from './testing.js';
import { trainTranscoders } from './train.js';
import { TranscoderSet } from './transcoder-set.js';

test('a transcoder set round-trips through disk (per-layer and CLT)', () => {
  const model = smallModel('llama-gqa');
  const ids = randomIds(7, model.config.vocabSize, 1);
  for (const kind of ['per-layer', 'clt'] as const) {
    const set = randomTranscoderSet(model, { kind, skip: kind === 'per-layer' });
    const dir = tempDir(`tc-${kind}`);
    set.save(dir);
    const back = TranscoderSet.load(dir);
    assert.equal(back.kind, kind);
    assert.equal(back.k, set.k);
    for (let L = 0; L < set.nLayers; L++) {
      assert.deepEqual(back.layers[L]!.W_enc_FD, set.layers[L]!.W_enc_FD);
      set.outputsOf(L).forEach((l) => assert.deepEqual(back.decoder(L, l), set.decoder(L, l)));
      assert.deepEqual(back.outputBias[L], set.outputBias[L]);
    }
    const a = attribute(model, set, ids, { prune: false });
    const b = attribute(model, back, ids, { prune: false });
    assert.deepEqual(b.edges.weight, a.edges.weight);
  }
});

test('loading refuses what is not a transcoder set, with the reason', () => {
  const dir = tempDir('tc-bad');
  assert.throws(() => TranscoderSet.load(path.join(dir, 'missing')), /no such transcoder directory/);
  assert.throws(() => TranscoderSet.load(dir), /not a transcoder set \(no transcoders.json\)/);
  fs.writeFileSync(path.join(dir, 'cfg.json'), '{}');
  assert.throws(() => TranscoderSet.load(dir), /holds a single dictionary/);
  fs.writeFileSync(path.join(dir, 'transcoders.json'), JSON.stringify({ format: 'loupe-transcoders/1', kind: 'clt', input_site: 'ln2.hook_normalized', n_layers: 2, d_model: 32, k: 2 }));
  assert.throws(() => TranscoderSet.load(dir), /clt.safetensors is missing/);
});

test('fan-out: every view sees every chunk of one harvest, in order', async () => {
  const rows = 40;
  const data = [0, 1, 2].map((h) => Float32Array.from({ length: rows * 2 }, (_, i) => h * 1000 + i));
  const src = new ArraySource(['a', 'b', 'c'], data, [2, 2, 2], { chunkRows: 8 });
  let reads = 0;
  const counted = { ...src, hooks: src.hooks, widths: src.widths, read: (from?: unknown) => (reads++, src.read(from)) };
  const fan = new FanOut(counted, [[0, 2], [1]]);
  const collect = async (i: number): Promise<number[]> => {
    const out: number[] = [];
    for await (const c of fan.view(i).read()) out.push(...c.acts.flatMap((a) => Array.from(a.subarray(0, 1))));
    return out;
  };
  const [x, y] = await Promise.all([collect(0), collect(1)]);
  assert.equal(reads, 1, 'the underlying source is read once');
  assert.deepEqual(x, [0, 2000, 16, 2016, 32, 2032, 48, 2048, 64, 2064]);
  assert.deepEqual(y, [1000, 1016, 1032, 1048, 1064]);
});

test('CLT training lowers the loss on activations a CLT can fit', async () => {
  // Two "layers": y0 = relu(x0 A) B0, y1 = the same latents through B1 plus x1's own: a CLT fits this.
  const N = 2, D = 8, n = 4096, F = 16;
  const rng = new Rng(3);
  const mat = (r: number, c: number): Float32Array => Float32Array.from({ length: r * c }, () => rng.normal() / Math.sqrt(r));
  const A = [mat(D, F), mat(D, F)];
  const B = [mat(F, D), mat(F, D), mat(F, D)];
  const x = [new Float32Array(n * D), new Float32Array(n * D)];
  const y = [new Float32Array(n * D), new Float32Array(n * D)];
  for (let r = 0; r < n; r++) {
    for (let L = 0; L < N; L++) for (let j = 0; j < D; j++) x[L]![r * D + j] = rng.normal();
    const lat = (L: number): Float32Array => {
      const a = new Float32Array(F);
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += x[L]![r * D + j]! * A[L]![j * F + f]!;
        a[f] = Math.max(0, s - 0.8);
      }
      return a;
    };
    const a0 = lat(0);
    const a1 = lat(1);
    for (let j = 0; j < D; j++) {
      let s0 = 0, s1 = 0;
      for (let f = 0; f < F; f++) {
        s0 += a0[f]! * B[0]![f * D + j]!;
        s1 += a0[f]! * B[1]![f * D + j]! + a1[f]! * B[2]![f * D + j]!;
      }
      y[0]![r * D + j] = s0;
      y[1]![r * D + j] = s1;
    }
  }
  const source = new ArraySource(['x0', 'x1', 'y0', 'y1'], [...x, ...y], [D, D, D, D], { loop: true, chunkRows: 512 });
  const losses: number[] = [];
  const r = await trainClt({ source, nLayers: N, site: 'hook_resid_mid', latents: 32, k: 6, tokens: 200 * 256, batchSize: 256, lr: 3e-3, onStep: (p) => void losses.push(p.loss) });
  assert.equal(r.steps, 200);
  assert.ok(losses[losses.length - 1]! < 0.4 * losses[0]!, `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  assert.ok(r.final.fvu.every((v) => v < 0.6), `fvu ${r.final.fvu}`);
  assert.equal(r.set.kind, 'clt');
  assert.equal(r.set.decoder(0, 1)!.length, 32 * D);
});

for (const kind of ['per-layer', 'clt'] as const) {
  test(`trainTranscoders end to end on a tiny model (${kind}): quality per layer, a set attribution loads`, async () => {
    const tok = new SyntheticTokenizer();
    const model = Transformer.random(llamaConfig({ dModel: 16, nLayers: 2, nHeads: 2, dMlp: 24, vocabSize: tok.vocabSize, nCtx: 64 }), { seed: 2, std: 0.3 });
    const dir = tempDir(`tc-train-${kind}`);
    const text = path.join(dir, 'corpus.txt');
    fs.writeFileSync(text, syntheticCorpus(400));
    const out = path.join(dir, 'tc');
    const r = await trainTranscoders({ model, tokenizer: tok, data: { path: text }, kind, arch: 'topk', latents: 24, k: 3, tokens: 2048, batchSize: 256, contextSize: 32, out, evalTokens: 256 });
    assert.equal(r.quality.length, 2);
    for (const q of r.quality) {
      assert.ok(typeof q.fvu === 'number' && Number.isFinite(q.fvu));
      assert.ok(typeof q.ce_loss_recovered === 'number');
      assert.ok(typeof q.l0 === 'number' && q.l0 <= 3);
    }
    assert.ok(!fs.existsSync(path.join(out, 'layer-0', 'checkpoints')) || fs.readdirSync(path.join(out, 'layer-0', 'checkpoints')).length === 0);
    const set = TranscoderSet.load(out);
    assert.equal(set.kind, kind);
    assert.equal(set.info.quality?.length, 2);
    const g = attribute(model, set, tok.encode('once upon a time there was a cat', { bos: true }), { prune: false });
    assert.ok(g.exactness.maxRelError < 1e-4);
    await assert.rejects(trainTranscoders({ model, tokenizer: tok, data: { path: text }, kind, arch: 'topk', latents: 24, k: 3, tokens: 256, out }), /already holds a transcoder set/);
  });
}
