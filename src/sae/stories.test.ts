// End to end on the real stories260K model and TinyStories text (skipped when ../shared is absent):
// harvest, train briefly, save, load, evaluate with the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../tensor/backend/native/index.js';
import { ModelActivationSource } from '../activations/harvest.js';
import { collectRows } from '../activations/source.js';
import { loadModel } from '../model/index.js';
import { loadTokenizer } from '../model/tokenizers/index.js';
import { evaluateSae } from './evaluate.js';
import { loadSae } from './format.js';
import { runSweep } from './sweep.js';
import { trainSaeOnText } from './text-training.js';

const SHARED = path.resolve(process.cwd(), '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'stories260K', 'stories260K.bin');
const TOK = path.join(SHARED, 'models', 'stories260K', 'tok512.bin');
const DATA = path.join(SHARED, 'data', 'tinystories-sample.txt');
const have = fs.existsSync(MODEL) && fs.existsSync(TOK) && fs.existsSync(DATA);
const skip = have ? false : `needs ${MODEL}, ${TOK} and ${DATA} (run from the repository root with ../shared present)`;

test('harvesting stories260K: per-token rows of the hook width, BOS positions left out, held-out split disjoint', { skip }, async () => {
  const model = loadModel(MODEL);
  const tokenizer = await loadTokenizer(TOK);
  const hooks = ['blocks.2.hook_resid_mid', 'blocks.2.hook_mlp_out'];
  const src = new ModelActivationSource({ path: DATA, model, tokenizer, hooks, contextSize: 32, windowsPerBatch: 4 });
  assert.deepEqual(src.widths, [64, 64]);
  const first = (await (src.read()[Symbol.asyncIterator]().next())).value!;
  assert.equal(first.tokens, 4 * 32);
  assert.ok(first.rows <= 4 * 31 && first.rows >= 100, `every window's BOS (and BOS between stories) dropped: ${first.rows} rows from 128 tokens`);
  // resid_mid + mlp_out = resid_post: the two hooks are row-aligned.
  const post = new ModelActivationSource({ path: DATA, model, tokenizer, hooks: ['blocks.2.hook_resid_post'], contextSize: 32, windowsPerBatch: 4 });
  const p = (await (post.read()[Symbol.asyncIterator]().next())).value!;
  for (let i = 0; i < 64 * 5; i++) assert.ok(Math.abs(first.acts[0]![i]! + first.acts[1]![i]! - p.acts[0]![i]!) < 1e-4);
  const test = await collectRows(new ModelActivationSource({ path: DATA, split: 'test', model, tokenizer, hooks: ['blocks.2.hook_resid_post'], contextSize: 32 }), 64);
  assert.equal(test.rows, 64);
  assert.notDeepEqual(test.acts[0]!.slice(0, 64), p.acts[0]!.slice(0, 64));
  assert.throws(() => new ModelActivationSource({ path: DATA, model, tokenizer, hooks: ['blocks.2.hook_resid_pots'] }), /unknown hook point "blocks.2.hook_resid_pots".*blocks.2.hook_resid_post/);
});

test('a short TopK run on stories260K trains, saves, loads and evaluates (loss recovered well above zero)', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-stories-'));
  try {
    const model = loadModel(MODEL);
    const tokenizer = await loadTokenizer(TOK);
    const r = await trainSaeOnText({
      model, tokenizer, modelName: 'stories260K', data: { path: DATA }, hook: 'blocks.2.hook_resid_post', contextSize: 64,
      architecture: 'topk', latents: 256, k: 16, tokens: 16_384, batchSize: 512, lr: 0.004, seed: 0, bufferRows: 4096, out: dir,
    });
    assert.ok(r.final.fvu < 0.6, `batch FVU ${r.final.fvu}`);
    const sae = loadSae(dir);
    assert.equal(sae.cfg.hookName, 'blocks.2.hook_resid_post');
    assert.equal(sae.cfg.modelName, 'stories260K');
    const e = await evaluateSae({ path: DATA, split: 'test', model, tokenizer, sae, contextSize: 64, maxTokens: 1500 });
    assert.ok(e.ce_loss_clean < e.ce_loss_spliced && e.ce_loss_spliced < e.ce_loss_ablated, JSON.stringify(e));
    assert.ok(e.ce_loss_recovered > 0.5 && e.ce_loss_recovered <= 1.05, `recovered ${e.ce_loss_recovered}`);
    assert.ok(e.l0 > 10 && e.l0 <= 16);
    assert.ok(e.kl > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a small scaling sweep writes a table, JSON and an SVG with fitted power laws', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sweep-'));
  try {
    const model = loadModel(MODEL);
    const tokenizer = await loadTokenizer(TOK);
    const r = await runSweep({
      model, tokenizer, modelName: 'stories260K', data: { path: DATA }, contextSize: 64, hooks: ['blocks.2.hook_resid_post'], out: dir,
      architecture: 'topk', latents: [32, 128], ks: [8], tokens: 8192, batchSize: 512, lr: 0.004, evalTokens: 1000, bufferRows: 4096,
    });
    assert.equal(r.summary.runs.length, 2);
    const [small, large] = r.summary.runs;
    assert.ok(large!.fvu < small!.fvu, `more latents, lower held-out FVU (${small!.fvu} vs ${large!.fvu})`);
    assert.ok(r.summary.size_laws[0]!.law!.exponent > 0);
    assert.ok(small!.curve.length >= 3 && small!.curve.at(-1)!.tokens === 8192);
    for (const f of ['sweep.json', 'sweep.svg', 'sweep.md']) assert.ok(fs.existsSync(path.join(dir, f)), f);
    const svg = fs.readFileSync(path.join(dir, 'sweep.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /polyline/);
    assert.match(r.table, /\| 128 \| 8 \|/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
