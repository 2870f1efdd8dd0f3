// Explain and score over a real (synthetic-source) feature database: offline end to end, and an HTTP
// provider whose failures (garbage, timeouts) are recorded per feature while the run goes on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFeatures, featureRecord, SyntheticSource, syntheticCorpus } from '../features/index.js';
import { Store } from '../store/index.js';
import { LlmProvider } from './llm-provider.js';
import { OfflineProvider, explanationKeys } from './offline.js';
import { OpenAIChatClient } from './openai.js';
import { explainFeatures, scoreFeatures } from './run.js';
import { MOCK_KEY, startMockLlm, type MockServer } from './testing/mock-llm.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-autointerp-'));
const db = path.join(dir, 'f.duckdb');
let store: Store;
let mock: MockServer | null = null;

before(async () => {
  const corpus = path.join(dir, 'c.txt');
  fs.writeFileSync(corpus, syntheticCorpus(500));
  store = await Store.open(db);
  await buildFeatures({ store, source: new SyntheticSource({ nFeatures: 32 }), data: corpus, tokens: 4000, context: 16 });
});
after(async () => {
  store.close();
  await mock?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('offline: explain then score every feature, with no network', async () => {
  const features = Array.from({ length: 32 }, (_, i) => i);
  const ex = await explainFeatures(store, { features, provider: new OfflineProvider() });
  assert.equal(ex.results.length, 32);
  assert.equal(ex.failed, 0);
  assert.ok(ex.ok >= 20);
  for (const r of ex.results.filter((r) => r.status === 'ok')) assert.match(r.explanation!, /^fires on "/);
  const sc = await scoreFeatures(store, { features, provider: new OfflineProvider() });
  assert.equal(sc.features.length, 32);
  const scored = sc.features.filter((f) => typeof f.scores.detection === 'number');
  assert.ok(scored.length >= 15, `scored ${scored.length}`);
  for (const f of scored) {
    assert.ok(f.scores.detection! >= 0 && f.scores.detection! <= 1);
    assert.equal(f.status.simulation === 'ok', typeof f.scores.simulation === 'number');
  }
  // Token-level explanations of token-level features detect well above chance on average.
  assert.ok(sc.mean.detection! > 0.6, `mean detection ${sc.mean.detection}`);
  assert.ok(sc.mean.simulation! > 0.2, `mean simulation ${sc.mean.simulation}`);
  // The record shows the explanation with its scores.
  const rec = await featureRecord(store, scored[0]!.feature);
  assert.equal(rec.explanations[0]!.provider, 'offline');
  assert.deepEqual(rec.explanations[0]!.scores.map((s) => s.scorer).sort(), ['detection', 'fuzzing', 'simulation']);
});

test('an HTTP provider that answers garbage or times out: failures recorded per feature, the rest kept', async () => {
  mock = await startMockLlm((req) => {
    const m = /Excerpt 1: ([^\n]*)/.exec(req.user);
    if (m && m[1]!.includes('cat')) return { text: 'I cannot help with that <html>' };
    if (m && m[1]!.includes('dog')) return { hang: true };
    return { text: 'tokens naming animals and objects' };
  });
  const provider = new LlmProvider(new OpenAIChatClient({ apiKey: MOCK_KEY, baseUrl: `${mock.url}/v1`, timeoutMs: 150, retries: 1, backoffMs: 5 }));
  const before = (await store.all<{ n: number }>(`SELECT count(*) AS n FROM explanations WHERE status = 'ok'`))[0]!.n;
  const run = await explainFeatures(store, { features: [0, 1, 2, 3, 4, 5, 6, 7], provider, concurrency: 4 });
  assert.equal(run.results.length, 8);
  assert.ok(run.ok + run.failed + run.skipped === 8);
  const failed = run.results.filter((r) => r.status === 'failed');
  for (const f of failed) assert.match(f.error!, /not a one-sentence explanation|within 150 ms|holds no explanation/);
  const rows = await store.all<{ feature: number; status: string; error: string | null }>(`SELECT feature, status, error FROM explanations WHERE provider = 'openai' ORDER BY feature`);
  assert.equal(rows.length, run.ok + run.failed);
  assert.equal(rows.filter((r) => r.status === 'failed').length, failed.length);
  const afterOk = (await store.all<{ n: number }>(`SELECT count(*) AS n FROM explanations WHERE status = 'ok'`))[0]!.n;
  assert.equal(afterOk, before + run.ok, 'earlier explanations are all still there');
  assert.ok(run.usage.requests >= 8);
});

test('the offline judge reads quoted tokens back from an explanation', () => {
  assert.deepEqual([...explanationKeys('fires on "ball", " Balls" (often after "red")')], ['ball', 'balls']);
  assert.deepEqual([...explanationKeys('mentions of cats and dogs')].sort(), ['cats', 'dogs']);
});
