// The real source: stories260K with a random TopK SAE at blocks.2.hook_resid_post, saved in SAELens
// layout. Build, then recompute live from the recorded paths and compare; a changed dictionary file is
// caught by its content hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../tensor/backend/native/index.js';
import { defaultConfig } from '../sae/config.js';
import { saveSae } from '../sae/format.js';
import { initializeSae } from '../sae/init.js';
import { Sae } from '../sae/sae.js';
import { Store } from '../store/index.js';
import { buildFeatures } from './build.js';
import { inspectPrompt } from './inspect.js';
import { loadSource, sourceForStore } from './load-source.js';
import { SourceMismatchError } from './registry.js';
import { featureRecord } from './show.js';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
const model = path.join(shared, 'models', 'stories260K', 'stories260K.bin');
const tokenizer = path.join(shared, 'models', 'stories260K', 'tok512.bin');
const data = path.join(shared, 'data', 'tinystories-sample.txt');
const skip = fs.existsSync(model) && fs.existsSync(data) ? false : 'needs ../shared/models/stories260K and ../shared/data';

test('stories260K + TopK SAE: build, then inspect reproduces stored activations; a changed dictionary is refused', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-model-source-'));
  const saeDir = path.join(dir, 'sae');
  const sae = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 256, k: 8, hookName: 'blocks.2.hook_resid_post', modelName: 'stories260K' }));
  initializeSae(sae, { seed: 1 });
  saveSae(sae, saeDir);
  const source = await loadSource({ model, tokenizer, dictionary: saeDir });
  assert.equal(source.nFeatures, 256);
  assert.ok(source.logitReadout(), 'a residual-stream dictionary reads out through the unembedding');
  const db = path.join(dir, 'f.duckdb');
  const store = await Store.open(db);
  const s = await buildFeatures({ store, source, data, tokens: 4000, context: 32, split: 'single-newline' });
  assert.equal(s.status, 'done');
  const live = await sourceForStore(store);
  let checked = 0;
  for (const f of [0, 10, 100, 200]) {
    const r = await featureRecord(store, f);
    assert.equal(r.top_logits.length, 10);
    for (const ex of r.top_examples.slice(0, 2)) {
      const res = await inspectPrompt(store, live, ex.text, { features: [f] });
      assert.deepEqual(res.tokens.map((t) => t.token_id), ex.token_ids);
      res.tokens.forEach((t, i) => assert.ok(Math.abs(t.features[0]!.activation - ex.activations[i]!) < 1e-3, `feature ${f} token ${i}`));
      checked++;
    }
  }
  assert.ok(checked >= 4);
  // TopK: never more than k active latents per token.
  const ins = await inspectPrompt(store, live, 'Once upon a time there was a big red ball.', { top: 256 });
  for (const t of ins.tokens) assert.ok(t.features.length <= 8);
  // Move the database and its dictionary together: the dictionary is found beside the database by
  // its content hash (the recorded path is gone).
  store.close();
  const moved = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-model-source-moved-'));
  fs.cpSync(dir, path.join(moved, 'assets'), { recursive: true });
  fs.rmSync(dir, { recursive: true, force: true });
  const movedStore = await Store.open(path.join(moved, 'assets', 'f.duckdb'));
  const relocated = await sourceForStore(movedStore);
  assert.equal(relocated.identity.dictionary.path, path.join(moved, 'assets', 'sae'));
  // Retrain (here: re-initialise) the dictionary in place: the recorded hash no longer matches.
  initializeSae(sae, { seed: 2 });
  saveSae(sae, path.join(moved, 'assets', 'sae'));
  await assert.rejects(sourceForStore(movedStore), (e: unknown) => e instanceof SourceMismatchError && /another dictionary/.test((e as Error).message));
  movedStore.close();
  fs.rmSync(moved, { recursive: true, force: true });
});
