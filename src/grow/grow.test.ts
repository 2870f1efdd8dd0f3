import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { loadHfModel } from '../model/index.js';
import { CheckpointStore, CheckpointWriteError, defaultCheckpointIo, listCheckpoints, OPTIMIZER_FILE } from './checkpoints.js';
import { grow } from './grow.js';
import { readMetrics } from './metrics.js';
import type { GrowSpecInput } from './spec.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-grow-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

// A small corpus with repetition, so a 300-token BPE vocabulary is learnable, split like TinyStories.
const names = ['Lily', 'Tom', 'Sue', 'Max', 'Ben', 'Mia'];
const things = ['ball', 'cat', 'dog', 'tree', 'bird', 'cake', 'boat', 'kite'];
function storyText(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = names[i % names.length]!;
    const t = things[(i * 3) % things.length]!;
    const u = things[(i * 5 + 1) % things.length]!;
    out.push(`Once upon a time, ${a} had a big ${t}. ${a} liked the ${t} very much and played with it every day.\n\nOne day ${a} saw a ${u} near the ${t}. "Look!" said ${a}. They were happy.`);
  }
  return out.join('\n') + '\n';
}
const dataFile = path.join(root, 'stories.txt');
fs.writeFileSync(dataFile, storyText(60));

const tiny = (over: Partial<GrowSpecInput['train']> = {}): GrowSpecInput => ({
  model: { arch: 'attn-only', layers: 1, dModel: 16, heads: 2, ctx: 16, vocab: 300 },
  train: { steps: 6, batch: 4, lr: 3e-3, warmupSteps: 2, seed: 1, ...over },
  data: { path: dataFile },
  checkpoints: { every: 3, evalBatches: 1, logEvery: 1 },
});

function weights(dir: string): Map<string, Float32Array> {
  return new Map(loadHfModel(dir).parameters().map(([n, t]) => [n, t.data]));
}

test('grow trains, checkpoints in HF layout, logs metrics and a curve', async () => {
  const out = path.join(root, 'basic');
  const r = await grow({ out, spec: tiny() });
  assert.equal(r.steps, 6);
  assert.equal(r.interrupted, false);
  assert.ok(r.tokensPerS > 0);
  assert.ok(r.evalLoss !== null && Number.isFinite(r.evalLoss));
  const cks = listCheckpoints(out);
  assert.deepEqual(cks.map((c) => c.step), [3, 6]);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'trainer_state.json']) assert.ok(fs.existsSync(path.join(cks[1]!.dir, f)), f);
  // Only the newest checkpoint keeps optimizer moments (enough to resume).
  assert.equal(cks[0]!.resumable, false);
  assert.equal(cks[1]!.resumable, true);
  const model = loadHfModel(cks[1]!.dir);
  assert.equal(model.config.attnOnly, true);
  assert.equal(model.config.vocabSize, 300);
  assert.equal(model.config.bosTokenId, 0);
  const lines = readMetrics(path.join(out, 'metrics.jsonl'));
  assert.equal(lines.filter((l) => 'loss' in l).length, 6);
  assert.equal(lines.filter((l) => 'eval_loss' in l).length, 2);
  assert.ok(fs.readFileSync(path.join(out, 'curve.svg'), 'utf8').includes('<polyline'));
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  assert.equal(run.data.split, 'blank-line');
  assert.ok(fs.existsSync(path.join(out, 'heldout.jsonl')));
});

test('an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
  const straight = path.join(root, 'straight');
  await grow({ out: straight, spec: tiny() });

  const resumed = path.join(root, 'resumed');
  const ac = new AbortController();
  const first = await grow({ out: resumed, spec: tiny(), signal: ac.signal, onProgress: (p) => p.step === 4 && ac.abort() });
  assert.equal(first.interrupted, true);
  assert.equal(first.steps, 4);
  const second = await grow({ out: resumed, spec: {}, resume: true });
  assert.equal(second.resumedFrom, 4);
  assert.equal(second.steps, 6);

  const a = weights(path.join(straight, 'checkpoint-6'));
  const b = weights(path.join(resumed, 'checkpoint-6'));
  for (const [name, w] of a) assert.deepEqual(b.get(name), w, name);
  // The metrics log has each step once.
  const steps = readMetrics(path.join(resumed, 'metrics.jsonl')).filter((l) => 'loss' in l).map((l) => l.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
});

test('an existing tokenizer is reused, and its size becomes the vocabulary', async () => {
  const out = path.join(root, 'with-tokenizer');
  const tokenizer = path.join(root, 'basic', 'tokenizer.json');
  const spec = tiny();
  const r = await grow({ out, spec: { ...spec, model: { ...spec.model, vocab: undefined }, train: { ...spec.train, steps: 2 }, data: { path: dataFile, tokenizer } } });
  assert.equal(r.config.vocabSize, 300);
  assert.equal(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8'), fs.readFileSync(tokenizer, 'utf8'));
  await assert.rejects(grow({ out: path.join(root, 'with-tokenizer-2'), spec: { ...spec, data: { path: dataFile, tokenizer }, model: { ...spec.model, vocab: 512 } } }), /--vocab 512 differs from the 300 tokens/);
});

test('resume refuses a different architecture and changed training settings', async () => {
  const out = path.join(root, 'basic');
  await assert.rejects(grow({ out, spec: { model: { arch: 'gpt2' } }, resume: true }), (e: unknown) => e instanceof InputError && /another architecture/.test(e.message) && /arch: run has attn-only, asked for gpt2/.test(e.message));
  await assert.rejects(grow({ out, spec: { model: { dModel: 32 } }, resume: true }), /another architecture/);
  await assert.rejects(grow({ out, spec: { train: { lr: 0.1 } }, resume: true }), /settings differ/);
  await assert.rejects(grow({ out, spec: tiny() }), /already holds a training run; pass --resume/);
  await assert.rejects(grow({ out: path.join(root, 'nothing-here'), spec: {}, resume: true }), /no run to resume/);
});

test('resume refuses a checkpoint whose weights are another architecture', async () => {
  const out = path.join(root, 'swapped');
  await grow({ out, spec: tiny() });
  // Replace the latest checkpoint's weights by a model of another shape (as if copied from another run).
  const other = path.join(root, 'other');
  await grow({ out: other, spec: { ...tiny(), model: { arch: 'attn-only', layers: 2, dModel: 16, heads: 2, ctx: 16, vocab: 300 } } });
  for (const f of ['config.json', 'model.safetensors', OPTIMIZER_FILE]) fs.copyFileSync(path.join(other, 'checkpoint-6', f), path.join(out, 'checkpoint-6', f));
  await assert.rejects(grow({ out, spec: { train: { steps: 8 } }, resume: true }), /different architecture/);
});

test('bad training data: empty, binary, too small a vocabulary budget, too little text', async () => {
  const empty = path.join(root, 'empty.txt');
  fs.writeFileSync(empty, '');
  await assert.rejects(grow({ out: path.join(root, 'e1'), spec: { ...tiny(), data: { path: empty } } }), InputError);
  const binary = path.join(root, 'binary.bin');
  fs.writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  await assert.rejects(grow({ out: path.join(root, 'e2'), spec: { ...tiny(), data: { path: binary } } }), (e: unknown) => e instanceof InputError && /binary|NUL/.test(e.message));
  await assert.rejects(
    grow({ out: path.join(root, 'e3'), spec: { ...tiny(), model: { arch: 'attn-only', layers: 1, dModel: 16, heads: 2, ctx: 16, vocab: 20000 } } }),
    (e: unknown) => e instanceof InputError && /supports a vocabulary of only/.test(e.message),
  );
  const short = path.join(root, 'short.txt');
  fs.writeFileSync(short, storyText(3));
  await assert.rejects(
    grow({ out: path.join(root, 'e4'), spec: { ...tiny(), data: { path: short }, model: { arch: 'attn-only', layers: 1, dModel: 16, heads: 2, ctx: 512, vocab: 260 } } }),
    /training text is only \d+ tokens/,
  );
  await assert.rejects(grow({ out: path.join(root, 'e5'), spec: { model: { dModel: 30, heads: 4 }, data: { path: dataFile } } }), /multiple of --heads/);
  await assert.rejects(grow({ out: path.join(root, 'e6'), spec: { data: { path: path.join(root, 'missing.txt') } } }), InputError);
});

test('a checkpoint that fails to write (disk full) is removed and the previous one stays loadable', async () => {
  const out = path.join(root, 'diskfull');
  await grow({ out, spec: tiny() });
  const before = listCheckpoints(out);
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  for (const failAt of ['model', 'optimizer', 'state'] as const) {
    const store = new CheckpointStore(out, {
      saveModel: (m, dir, extra) => {
        if (failAt === 'model') {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, 'model.safetensors'), 'partial');
          throw full;
        }
        defaultCheckpointIo.saveModel(m, dir, extra);
      },
      writeOptimizer: (file, t) => {
        if (failAt === 'optimizer') throw full;
        defaultCheckpointIo.writeOptimizer(file, t);
      },
      writeText: (file, text) => {
        if (failAt === 'state') throw full;
        defaultCheckpointIo.writeText(file, text);
      },
    });
    const model = loadHfModel(before[1]!.dir);
    const { makeOptimizer } = await import('./step.js');
    const { optimizer, names } = makeOptimizer(model, { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    const tokenizerJson = fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8');
    const state = { step: 9, tokensSeen: 0, elapsedS: 0, trainLoss: null, evalLoss: null, lr: 0 };
    assert.throws(
      () => store.save({ model, optimizer, paramNames: names, state, tokenizerJson }),
      (e: unknown) => e instanceof CheckpointWriteError && /out of disk space/.test(e.message) && e.message.includes(`${before[1]!.dir}, is intact`),
    );
    assert.ok(!fs.existsSync(path.join(out, 'checkpoint-9')), `partial checkpoint left behind (${failAt})`);
    assert.deepEqual(listCheckpoints(out).map((c) => [c.step, c.resumable]), [[3, false], [6, true]]);
    loadHfModel(before[1]!.dir);
  }
  // And the run still resumes from the intact checkpoint.
  const r = await grow({ out, spec: { train: { steps: 7 } }, resume: true });
  assert.equal(r.resumedFrom, 6);
  assert.equal(r.steps, 7);
});
