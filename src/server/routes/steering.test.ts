// The steering, patching and ablation endpoints over a database built from stories260K and a random SAE:
// replies are the library's reports, bad input is a 400 naming the problem; a synthetic database refuses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import '../../tensor/backend/native/index.js';
import { buildFeatures, loadSource, SyntheticSource, syntheticCorpus } from '../../features/index.js';
import { defaultConfig, initializeSae, Sae, saveSae } from '../../sae/index.js';
import { Store } from '../../store/index.js';
import { createApp } from '../app.js';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared');
const model = path.join(shared, 'models', 'stories260K', 'stories260K.bin');
const tokenizer = path.join(shared, 'models', 'stories260K', 'tok512.bin');
const data = path.join(shared, 'data', 'tinystories-sample.txt');
const skip = fs.existsSync(model) && fs.existsSync(data) ? false : 'needs ../shared/models/stories260K and ../shared/data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-steer-routes-'));
let store: Store | null = null;
let app: FastifyInstance | null = null;

before(async () => {
  if (skip) return;
  const saeDir = path.join(dir, 'sae');
  const sae = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 128, k: 8, hookName: 'blocks.2.hook_resid_post', modelName: 'stories260K' }));
  initializeSae(sae, { seed: 1 });
  saveSae(sae, saeDir);
  store = await Store.open(path.join(dir, 'f.duckdb'));
  await buildFeatures({ store, source: await loadSource({ model, tokenizer, dictionary: saeDir }), data, tokens: 1500, context: 32, split: 'single-newline' });
  app = (await createApp({ store, webRoot: false })).app;
});
after(async () => {
  await app?.close();
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('POST /api/steer: clamped feature values, paired texts, losses and rates', { skip }, async () => {
  const r = await app!.inject({ method: 'POST', url: '/api/steer', payload: { prompt: 'Once upon a time', features: [5], mode: 'clamp', value: 2, samples: 2, max_new_tokens: 8, concept: 'girl' } });
  assert.equal(r.statusCode, 200, r.body);
  const j = r.json();
  assert.equal(j.baseline.length, 2);
  assert.equal(j.steered.length, 2);
  assert.ok(j.baseline_loss > 0 && j.steered_loss > 0);
  assert.ok(j.baseline_rate >= 0 && j.steered_rate >= 0);
  for (const rows of j.feature_values) for (const v of rows) assert.ok(Math.abs(v - 2) <= 1e-4);
  const v = await app!.inject({ method: 'POST', url: '/api/steer', payload: { prompt: 'Once upon a time', vector_from: [['a dog', 'a cat']], hook: 'blocks.1.hook_resid_post', strength: 1, samples: 1, max_new_tokens: 4 } });
  assert.equal(v.statusCode, 200, v.body);
  assert.equal(v.json().feature_values, undefined);
  const p = await app!.inject({ method: 'POST', url: '/api/steer', payload: { prompt: 'Once upon a time', promote: 'dog', samples: 2, max_new_tokens: 6, concept: 'dog' } });
  assert.equal(p.statusCode, 200, p.body);
  assert.deepEqual(p.json().hooks, ['blocks.4.hook_resid_post']);
  const bad = await app!.inject({ method: 'POST', url: '/api/steer', payload: { prompt: 'x', features: [128] } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /feature 128 is outside the dictionary: it has 128 features/);
});

test('POST /api/patch and /api/ablate', { skip }, async () => {
  const r = await app!.inject({
    method: 'POST',
    url: '/api/patch',
    payload: { clean: 'Lily gave the ball to', corrupt: 'Tim gave the ball to', answer: 'Tim', wrong: 'Lily', sites: ['resid_pre', 'heads'], method: 'both' },
  });
  assert.equal(r.statusCode, 200, r.body);
  const j = r.json();
  assert.equal(j.sites.resid_pre.length, 5);
  assert.equal(j.sites.heads[0].length, 8);
  assert.equal(typeof j.agreement.overall, 'number');
  const bad = await app!.inject({ method: 'POST', url: '/api/patch', payload: { clean: 'a', corrupt: 'b', answer: 'dog', wrong: 'cat' } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /"dog" is 2 tokens/);
  const a = await app!.inject({ method: 'POST', url: '/api/ablate', payload: { prompts: ['Once upon a time there was a girl.'], targets: 'head:1.2,feature:3' } });
  assert.equal(a.statusCode, 200, a.body);
  assert.ok(Number.isFinite(a.json().delta));
});

test('a database built from a synthetic source has no model to steer: 400', async () => {
  const s = await Store.open(path.join(dir, 'syn.duckdb'));
  const corpus = path.join(dir, 'c.txt');
  fs.writeFileSync(corpus, syntheticCorpus(50));
  await buildFeatures({ store: s, source: new SyntheticSource({ nFeatures: 8 }), data: corpus, tokens: 300, context: 16 });
  const { app: synApp } = await createApp({ store: s, webRoot: false });
  try {
    const r = await synApp.inject({ method: 'POST', url: '/api/steer', payload: { prompt: 'the cat', features: [1] } });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error.message, /synthetic source.*no model/);
  } finally {
    await synApp.close();
    s.close();
  }
});
