import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { headScores } from '../analysis/lens/index.js';
import { loadHfModel } from '../model/index.js';
import { dynamicsSvg } from './dynamics-plot.js';
import { runDynamics } from './dynamics.js';
import { grow } from './grow.js';
import { iclScore } from './icl.js';
import { encodeDocuments } from './corpus.js';
import { parseHfTokenizer } from '../model/tokenizers/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-dynamics-'));
const run = path.join(root, 'run');
after(() => fs.rmSync(root, { recursive: true, force: true }));

before(async () => {
  const words = ['the', 'cat', 'dog', 'sat', 'ran', 'on', 'a', 'mat', 'log', 'big', 'red', 'ball', 'and', 'saw'];
  const docs: string[] = [];
  for (let d = 0; d < 40; d++) docs.push(Array.from({ length: 60 }, (_, i) => words[(d * 7 + i * i + i * 3) % words.length]).join(' ') + '.');
  const data = path.join(root, 'text.txt');
  fs.writeFileSync(data, docs.join('\n\n') + '\n');
  await grow({
    out: run,
    spec: {
      model: { arch: 'attn-only', layers: 2, dModel: 16, heads: 2, ctx: 32, vocab: 270 },
      train: { steps: 4, batch: 4, lr: 3e-3, seed: 0 },
      data: { path: data, valFraction: 0.25, repeatFraction: 0.5, repeatMinLen: 4, repeatMaxLen: 8 },
      checkpoints: { every: 2, at: [0], evalBatches: 1 },
    },
  });
});

test('runDynamics reports loss, head scores and ICL score per checkpoint', async () => {
  const r = await runDynamics(run, { lossWindows: 4, icl: { maxWindows: 8 }, detectorBatch: 2 });
  assert.deepEqual(r.checkpoints.map((c) => c.step), [0, 2, 4]);
  for (const c of r.checkpoints) {
    for (const k of ['loss', 'induction_max', 'prev_token_max', 'icl_score'] as const) assert.ok(Number.isFinite(c[k]), `${k} at step ${c.step}`);
    assert.equal(c.induction.length, 2);
    assert.equal(c.induction[0]!.length, 2);
    assert.match(c.induction_head, /^L[01]H[01]$/);
  }
  assert.equal(r.checkpoints[2]!.tokens, 4 * 4 * 32);
  assert.deepEqual(r.icl_positions, { early: 3, late: 31, half_width: 2 });
  // The scores are the lens head detectors' scores (same definition as `loupe heads`).
  const model = loadHfModel(path.join(run, 'checkpoint-4'));
  const tokenizer = parseHfTokenizer(fs.readFileSync(path.join(run, 'tokenizer.json'), 'utf8'));
  const hs = headScores(model, { batch: 2, tokenizer });
  assert.deepEqual(r.checkpoints[2]!.induction, hs.induction);
  assert.deepEqual(r.checkpoints[2]!.prev_token, hs.previousToken);
  const svg = dynamicsSvg(r);
  assert.ok(svg.includes('ICL score'));
  assert.equal((svg.match(/clipPath id=/g) ?? []).length, 3);
});

test('the ICL score is late-token loss minus early-token loss over held-out windows', async () => {
  const model = loadHfModel(path.join(run, 'checkpoint-4'));
  const tokenizer = parseHfTokenizer(fs.readFileSync(path.join(run, 'tokenizer.json'), 'utf8'));
  const docs = fs.readFileSync(path.join(run, 'heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text as string);
  const s = encodeDocuments(tokenizer, docs, 0);
  const r = iclScore(model, s.ids, { late: 20, early: 5, halfWidth: 0, maxWindows: 4 });
  assert.equal(r.late, 20);
  assert.equal(r.early, 5);
  assert.ok(Math.abs(r.score - (r.lateLoss - r.earlyLoss)) < 1e-12);
  assert.ok(r.windows >= 1);
});

test('runDynamics errors: no checkpoints, no held-out text, unknown steps', async () => {
  await assert.rejects(runDynamics(path.join(root, 'nowhere')), (e: unknown) => e instanceof InputError && /no checkpoints found/.test(e.message));
  const bare = path.join(root, 'bare');
  fs.mkdirSync(bare);
  fs.cpSync(path.join(run, 'checkpoint-2'), path.join(bare, 'checkpoint-2'), { recursive: true });
  await assert.rejects(runDynamics(bare), /pass held-out text with --data/);
  await assert.rejects(runDynamics(run, { steps: [999] }), /none of the steps/);
});
