// End to end on the synthetic source: build, show, inspect consistency, search, resume after a kill,
// and refusal of a different dictionary.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { Store } from '../store/index.js';
import { buildFeatures } from './build.js';
import { featureRecord } from './show.js';
import { inspectPrompt } from './inspect.js';
import { searchFeatures } from './search.js';
import { SourceMismatchError } from './registry.js';
import { sourceForStore } from './load-source.js';
import { SyntheticSource, syntheticCorpus } from './synthetic.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-features-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const corpus = path.join(dir, 'corpus.txt');
fs.writeFileSync(corpus, syntheticCorpus(600));
const source = new SyntheticSource({ nFeatures: 48 });

async function build(db: string, tokens: number, extra: Partial<Parameters<typeof buildFeatures>[0]> = {}) {
  const store = await Store.open(db);
  try {
    return await buildFeatures({ store, source, data: corpus, tokens, context: 16, batchSize: 2, ...extra });
  } finally {
    store.close();
  }
}

test('build, then show a record of the documented shape', async () => {
  const db = path.join(dir, 'a.duckdb');
  const s = await build(db, 2000);
  assert.equal(s.status, 'done');
  assert.ok(s.tokens >= 2000 && s.tokens < 2000 + 16);
  assert.equal(s.statisticTokens, s.tokens - s.sequences);
  const store = await Store.open(db, { readOnly: true });
  let shown = 0;
  for (let f = 0; f < 48; f++) {
    const r = await featureRecord(store, f);
    for (const k of ['feature', 'density', 'max_activation', 'top_examples', 'bins', 'histogram', 'top_logits', 'bottom_logits', 'coactivating', 'similar', 'explanations']) {
      assert.ok(k in r, `record has ${k}`);
    }
    assert.equal(r.top_logits.length, 10);
    assert.equal(r.bottom_logits.length, 10);
    assert.ok(r.top_logits[0]!.value >= r.top_logits[9]!.value);
    assert.equal(r.similar.length, 5);
    if (r.fire_count === 0) continue;
    shown++;
    assert.ok(r.top_examples.length > 0 && r.top_examples.length <= 20);
    assert.equal(r.bins.length, 10);
    assert.equal(r.histogram!.counts.reduce((a, b) => a + b, 0), r.fire_count);
    assert.ok(Math.abs(r.density - r.fire_count / s.statisticTokens) < 1e-12);
    const first = r.top_examples[0]!;
    assert.equal(first.tokens.length, first.activations.length);
    assert.equal(first.tokens.join(''), first.text, 'tokens concatenate to the text');
    assert.ok(Math.abs(first.activations[first.position!]! - first.activation) < 1e-6);
    assert.ok(Math.abs(first.activation - r.max_activation) < 1e-6, 'the top example holds the max');
  }
  assert.ok(shown > 10, 'most features fire');
  await assert.rejects(featureRecord(store, 48), (e: unknown) => e instanceof InputError && /out of range.*48 features/.test((e as Error).message));
  store.close();
});

test('inspect on a top example text reproduces its stored activations', async () => {
  const db = path.join(dir, 'a.duckdb');
  const store = await Store.open(db, { readOnly: true });
  const live = await sourceForStore(store);
  for (const f of [0, 7, 21, 33]) {
    const r = await featureRecord(store, f);
    for (const ex of r.top_examples.slice(0, 3)) {
      const res = await inspectPrompt(store, live, ex.text, { features: [f] });
      assert.deepEqual(res.tokens.map((t) => t.token_id), ex.token_ids);
      res.tokens.forEach((t, i) => assert.ok(Math.abs(t.features[0]!.activation - ex.activations[i]!) < 1e-3));
      // And without naming the feature: it is among the strongest at the max position.
      const plain = await inspectPrompt(store, live, ex.text, { top: 48 });
      const atMax = plain.tokens[ex.position!]!.features.find((x) => x.feature === f);
      assert.ok(atMax && Math.abs(atMax.activation - ex.activation) < 1e-3);
    }
  }
  store.close();
});

test('search finds features by input and output evidence and says which', async () => {
  const store = await Store.open(path.join(dir, 'a.duckdb'), { readOnly: true });
  const res = await searchFeatures(store, 'cat');
  assert.ok(res.tokens.some((t) => t.token === ' cat'));
  assert.ok(res.results.length > 0);
  for (const h of res.results) {
    assert.ok(h.evidence.length > 0);
    assert.equal(h.evidence.includes('input'), h.input !== null);
    assert.equal(h.evidence.includes('output'), h.output !== null);
  }
  assert.ok(res.results.some((h) => h.evidence.includes('output')));
  assert.ok(res.results.some((h) => h.evidence.includes('input')));
  for (let i = 1; i < res.results.length; i++) assert.ok(res.results[i - 1]!.score >= res.results[i]!.score);
  store.close();
});

test('a killed build resumes and ends with the same results as an uninterrupted one', async () => {
  const straight = path.join(dir, 'straight.duckdb');
  await build(straight, 3000);
  const killed = path.join(dir, 'killed.duckdb');
  const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'build-child.js'), killed, corpus, '3000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = 0;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      seen += (d.toString().match(/checkpoint/g) ?? []).length;
      if (seen >= 20 && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.ok(seen >= 20);
  const before = await Store.open(killed, { readOnly: true });
  const [row] = await before.all<{ status: string; tokens_done: number }>(`SELECT status, tokens_done FROM builds`);
  before.close();
  assert.equal(row!.status, 'running', 'the child was killed mid-build');
  assert.ok(row!.tokens_done > 0 && row!.tokens_done < 3000);
  const resumed = await build(killed, 3000);
  assert.equal(resumed.resumedFromTokens, row!.tokens_done);
  const a = await Store.open(straight, { readOnly: true });
  const b = await Store.open(killed, { readOnly: true });
  for (const f of [0, 5, 17, 40]) assert.deepEqual(await featureRecord(b, f), await featureRecord(a, f));
  for (const t of ['features', 'examples', 'sequences', 'neighbors', 'feature_tokens']) {
    const [x] = await a.all<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
    const [y] = await b.all<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
    assert.equal(y!.n, x!.n, t);
  }
  a.close();
  b.close();
});

test('a stopped build resumes; a finished one is not redone', async () => {
  const db = path.join(dir, 'stop.duckdb');
  const ctl = new AbortController();
  const s1 = await build(db, 2000, { onProgress: (p) => p.tokens > 800 && ctl.abort(), signal: ctl.signal });
  assert.equal(s1.status, 'stopped');
  const s2 = await build(db, 2000);
  assert.equal(s2.status, 'done');
  assert.equal(s2.resumedFromTokens, s1.tokens);
  const s3 = await build(db, 2000);
  assert.equal(s3.status, 'already-built');
});

test('a database from another dictionary is refused and nothing stored is lost', async () => {
  const db = path.join(dir, 'a.duckdb');
  const other = new SyntheticSource({ nFeatures: 48, dictionarySeed: 9 });
  const store = await Store.open(db);
  const before = await featureRecord(store, 3);
  await assert.rejects(buildFeatures({ store, source: other, data: corpus, tokens: 500, context: 16 }), SourceMismatchError);
  await assert.rejects(inspectPrompt(store, other, 'the cat'), (e: unknown) => e instanceof SourceMismatchError && /another dictionary/.test((e as Error).message));
  await assert.rejects(sourceForStore(store, { dictionary: 'synthetic:features=48,seed=9' }), SourceMismatchError);
  assert.deepEqual(await featureRecord(store, 3), before);
  // Different build settings against the same database need --overwrite.
  await assert.rejects(buildFeatures({ store, source, data: corpus, tokens: 500, context: 32 }), /--overwrite/);
  store.close();
});
