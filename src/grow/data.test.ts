import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { parseHfTokenizer, trainByteLevelBpe } from '../model/tokenizers/index.js';
import { Rng } from '../tensor/index.js';
import { evalBatches, repeatedSegmentRow, trainingBatch } from './batches.js';
import { chooseSplit, encodeDocuments, readDocumentSets } from './corpus.js';
import { contextWindows, iclPositions } from './icl.js';
import { phaseChange } from './dynamics.js';
import { modelConfigFor, resolveSpec } from './spec.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-grow-data-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('auto split: unwrapped paragraphs (TinyStories layout) vs wrapped prose', async () => {
  const para = 'Once upon a time there was a dog who liked to run in the park with his friend the cat, and every day they played together until the sun went down and it was time to go home to sleep.';
  const stories = path.join(dir, 'stories.txt');
  fs.writeFileSync(stories, `${para}\n\n${para} The end.\n${para}\n\n${para}\n${para}\n`);
  assert.equal(chooseSplit(stories, 'auto'), 'single-newline');
  const sets = await readDocumentSets(stories, 'auto', 0.34);
  assert.equal(sets.split, 'single-newline');
  assert.equal(sets.train.length + sets.heldout.length, 3);
  assert.equal(sets.heldout.length, 1);
  assert.ok(sets.train[0]!.includes('\n\n'), 'paragraphs stay inside their story');

  const prose = path.join(dir, 'prose.txt');
  fs.writeFileSync(prose, 'Call me Ishmael. Some years ago,\nnever mind how long precisely,\nhaving little money.\n\nIt is a way I have\nof driving off the spleen.\n');
  assert.equal(chooseSplit(prose, 'auto'), 'blank-line');
  assert.equal(chooseSplit(prose, 'line'), 'line');
  // One long line per document, blank lines between (the State of the Union file): blank-line.
  const addresses = path.join(dir, 'addresses.txt');
  fs.writeFileSync(addresses, `${para} ${para}\n\n${para} ${para}\n\n${para}\n`);
  assert.equal(chooseSplit(addresses, 'auto'), 'blank-line');
});

test('a single document is cut by characters for the held-out part', async () => {
  const one = path.join(dir, 'one.txt');
  fs.writeFileSync(one, Array.from({ length: 40 }, (_, i) => `line number ${i} of the only document`).join('\n'));
  const sets = await readDocumentSets(one, 'blank-line', 0.1);
  assert.equal(sets.train.length, 1);
  assert.equal(sets.heldout.length, 1);
  assert.ok(sets.heldout[0]!.startsWith('line number 3'), sets.heldout[0]!.slice(0, 20));
  assert.equal(sets.train[0]! + sets.heldout[0]!, fs.readFileSync(one, 'utf8'));
});

test('documents are encoded back to back, each after the separator', async () => {
  const json = await trainByteLevelBpe(['the cat sat on the mat', 'the dog sat on the log'], { vocabSize: 262 });
  const tok = parseHfTokenizer(json);
  const s = encodeDocuments(tok, ['the cat', 'a dog'], 0);
  assert.deepEqual(Array.from(s.docStarts), [0, 1 + tok.encode('the cat', { bos: false }).length]);
  assert.equal(s.ids[0], 0);
  assert.equal(s.ids[s.docStarts[1]!], 0);
  assert.equal(tok.decode(Array.from(s.ids.subarray(1, s.docStarts[1]!))), 'the cat');
});

test('training batches depend only on (seed, step) and repeated rows are periodic', () => {
  const stream = Int32Array.from({ length: 500 }, (_, i) => 1 + (i % 97));
  const spec = { batch: 8, ctx: 32, seed: 3, repeat: { fraction: 0.5, minLen: 4, maxLen: 12, firstId: 1, vocab: 100, separatorId: 0 } };
  const a = trainingBatch(stream, 7, spec);
  const b = trainingBatch(stream, 7, spec);
  const c = trainingBatch(stream, 8, spec);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.inputs, c.inputs);
  for (let r = 0; r < a.batch; r++) {
    const row = [...a.inputs.subarray(r * 32, r * 32 + 32), a.targets[r * 32 + 31]!];
    for (let t = 0; t < 32; t++) assert.equal(a.targets[r * 32 + t], row[t + 1], 'targets are inputs shifted by one');
  }
  let synthetic = 0;
  for (let r = 0; r < a.batch; r++) if (a.inputs[r * 32] === 0) synthetic++; // text windows here never hold 0
  assert.ok(synthetic > 0 && synthetic < a.batch, `mix of rows (${synthetic} synthetic)`);

  const row = new Int32Array(41);
  repeatedSegmentRow(new Rng(1), row, { fraction: 1, minLen: 5, maxLen: 5, firstId: 3, vocab: 10, separatorId: 0 });
  assert.equal(row[0], 0);
  for (let i = 6; i < 41; i++) assert.equal(row[i], row[i - 5]);
  for (let i = 1; i < 41; i++) assert.ok(row[i]! >= 3 && row[i]! < 10, 'special ids never appear inside a segment');

  assert.throws(() => trainingBatch(Int32Array.of(1, 2, 3), 0, { batch: 1, ctx: 8, seed: 0 }), InputError);
});

test('evaluation windows are fixed, in range, and cover the stream evenly', () => {
  const stream = Int32Array.from({ length: 100 }, (_, i) => i);
  const bs = evalBatches(stream, 10, 4, 6);
  assert.deepEqual(bs.map((b) => b.batch), [4, 2]);
  assert.equal(bs[0]!.inputs[0], 0);
  const last = bs[1]!;
  assert.equal(last.targets[last.targets.length - 1], 99);
  assert.deepEqual(evalBatches(stream, 10, 4, 6), bs);
  assert.deepEqual(evalBatches(stream, 10, 4, 0), []);
});

test('ICL positions follow Olsson et al. scaled to the context', () => {
  assert.deepEqual(iclPositions(1024), { early: 50, late: 500, halfWidth: 2 });
  assert.deepEqual(iclPositions(128), { early: 13, late: 127, halfWidth: 2 });
  assert.deepEqual(iclPositions(64), { early: 6, late: 63, halfWidth: 2 });
  assert.throws(() => iclPositions(64, { late: 64 }), InputError);
  assert.throws(() => iclPositions(64, { early: 63 }), InputError);
  const stream = Int32Array.from({ length: 30 }, (_, i) => i);
  const w = contextWindows(stream, 8, 10, 2);
  assert.deepEqual(w.map((b) => b.batch), [2, 1]); // 3 whole windows of 8 (+ 1 target) fit in 30 tokens
  assert.deepEqual(Array.from(w[0]!.inputs), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(w[1]!.targets[7], 24);
  assert.deepEqual(contextWindows(stream, 8, 2, 4)[0]!.inputs.subarray(8, 9), Int32Array.of(8)); // spread evenly
});

test('phaseChange finds the half-way steps and the largest jumps', () => {
  const rows = [
    { step: 0, induction_max: 0.02, icl_score: 0.0 },
    { step: 100, induction_max: 0.03, icl_score: -0.05 },
    { step: 200, induction_max: 0.6, icl_score: -0.5 },
    { step: 300, induction_max: 0.7, icl_score: -0.55 },
  ];
  const p = phaseChange(rows);
  assert.equal(p.induction_step, 200);
  assert.equal(p.icl_step, 200);
  assert.deepEqual(p.induction_jump && [p.induction_jump.from_step, p.induction_jump.to_step], [100, 200]);
  assert.deepEqual(p.icl_jump && [p.icl_jump.from_step, p.icl_jump.to_step], [100, 200]);
  assert.deepEqual(phaseChange(rows.slice(0, 1)), { induction_step: null, icl_step: null, induction_jump: null, icl_jump: null });
  // Drift of a few hundredths is not a phase change.
  assert.equal(phaseChange(rows.map((r) => ({ ...r, induction_max: 0.04 + r.step / 10000 }))).induction_step, null);
});

test('spec defaults, validation and model configs', () => {
  const s = resolveSpec({ data: { path: 'x.txt' }, train: { steps: 50 } });
  assert.equal(s.train.warmupSteps, 5, 'default warmup is at most a tenth of the run');
  assert.equal(resolveSpec({ data: { path: 'x.txt' } }).train.warmupSteps, 100);
  assert.throws(() => resolveSpec({}), /no training data/);
  assert.throws(() => resolveSpec({ data: { path: 'x' }, model: { dModel: 64, heads: 3 } }), /multiple of --heads/);
  assert.throws(() => resolveSpec({ data: { path: 'x' }, train: { lr: -1 } }), /--lr/);
  assert.throws(() => resolveSpec({ data: { path: 'x' }, model: { arch: 'rnn' as never } }), /unknown architecture/);
  assert.throws(() => resolveSpec({ data: { path: 'x', repeatFraction: 0.5, repeatMinLen: 40, repeatMaxLen: 40 }, model: { ctx: 64 } }), /does not fit twice/);
  const attn = modelConfigFor({ arch: 'attn-only', layers: 2, dModel: 64, heads: 4, ctx: 128, vocab: 512 });
  assert.equal(attn.attnOnly, true);
  assert.equal(attn.positional, 'rope');
  assert.equal(attn.bosTokenId, 0);
  const gpt = modelConfigFor({ arch: 'gpt2', layers: 1, dModel: 32, heads: 2, ctx: 16, vocab: 300, positional: 'rope' });
  assert.equal(gpt.positional, 'rope');
  assert.equal(gpt.rope?.rotaryDim, 16);
  assert.equal(modelConfigFor({ arch: 'llama', layers: 1, dModel: 32, heads: 2, ctx: 16, vocab: 300, positional: 'none' }).rope, undefined);
});
