// The HTTP API over a synthetic-source feature database: replies match the library, requests are
// validated, errors have one shape, the OpenAPI document describes the routes, and it binds loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildFeatures, featureRecord, SyntheticSource, syntheticCorpus } from '../features/index.js';
import { Store } from '../store/index.js';
import { createApp } from './app.js';
import { startServer } from './index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-server-'));
const db = path.join(dir, 'f.duckdb');
let store: Store;
let app: FastifyInstance;

before(async () => {
  const corpus = path.join(dir, 'c.txt');
  fs.writeFileSync(corpus, syntheticCorpus(300));
  const s = await Store.open(db);
  await buildFeatures({ store: s, source: new SyntheticSource({ nFeatures: 32 }), data: corpus, tokens: 2000, context: 16 });
  s.close();
  store = await Store.open(db);
  app = (await createApp({ store })).app;
});
after(async () => {
  await app.close();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('health, and a feature record identical to the library call', async () => {
  const h = await app.inject({ method: 'GET', url: '/api/health' });
  assert.deepEqual(h.json(), { ok: true });
  const r = await app.inject({ method: 'GET', url: '/api/features/5' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(r.json(), JSON.parse(JSON.stringify(await featureRecord(store, 5))));
});

test('errors: out-of-range feature 404, malformed input 400, unknown route 404, one shape', async () => {
  const nf = await app.inject({ method: 'GET', url: '/api/features/32' });
  assert.equal(nf.statusCode, 404);
  assert.match(nf.json().error.message, /out of range.*32 features/);
  for (const [method, url, body] of [
    ['GET', '/api/features/abc', undefined],
    ['GET', '/api/features/-1', undefined],
    ['GET', '/api/features?limit=100000', undefined],
    ['POST', '/api/features/inspect', { prompt: '' }],
    ['POST', '/api/features/inspect', { prompt: 'the cat', extra: 1 }],
    ['POST', '/api/features/inspect', { prompt: 'the cat', features: [99] }],
    ['POST', '/api/features/explain', { features: '0-3; DROP TABLE features' }],
    ['GET', '/api/features/search', undefined],
  ] as const) {
    const res = await app.inject({ method, url, payload: body });
    assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`);
    assert.equal(typeof res.json().error.message, 'string');
    assert.equal(typeof res.json().error.code, 'string');
  }
  const nr = await app.inject({ method: 'GET', url: '/api/nope' });
  assert.equal(nr.statusCode, 404);
  assert.equal(nr.json().error.code, 'not_found');
});

test('inspect reproduces a stored example, search and list answer', async () => {
  const rec = await featureRecord(store, 5);
  const ex = rec.top_examples[0]!;
  const res = await app.inject({ method: 'POST', url: '/api/features/inspect', payload: { prompt: ex.text, features: [5] } });
  assert.equal(res.statusCode, 200);
  const toks = res.json().tokens as { token_id: number; features: { activation: number }[] }[];
  assert.deepEqual(toks.map((t) => t.token_id), ex.token_ids);
  toks.forEach((t, i) => assert.ok(Math.abs(t.features[0]!.activation - ex.activations[i]!) < 1e-3));
  const s = await app.inject({ method: 'GET', url: '/api/features/search?query=dog&limit=5' });
  assert.equal(s.statusCode, 200);
  assert.ok(s.json().results.length > 0 && s.json().results.length <= 5);
  const l = await app.inject({ method: 'GET', url: '/api/features?offset=4&limit=3&order=density' });
  assert.equal(l.json().total, 32);
  assert.equal(l.json().features.length, 3);
});

test('explain and score offline over HTTP; HTTP providers only when enabled', async () => {
  const e = await app.inject({ method: 'POST', url: '/api/features/explain', payload: { features: '0-3', provider: 'offline' } });
  assert.equal(e.statusCode, 200, e.body);
  assert.equal(e.json().results.length, 4);
  const s = await app.inject({ method: 'POST', url: '/api/features/score', payload: { features: '0-3', scorers: ['detection'] } });
  assert.equal(s.statusCode, 200, s.body);
  assert.deepEqual(Object.keys(s.json().features[0].scores), ['detection']);
  const o = await app.inject({ method: 'POST', url: '/api/features/explain', payload: { features: '0', provider: 'openai' } });
  assert.equal(o.statusCode, 400);
  assert.match(o.json().error.message, /not enabled on this server/);
  const rec = await app.inject({ method: 'GET', url: '/api/features/1' });
  assert.ok(rec.json().explanations.length >= 1);
});

test('the OpenAPI document is generated from the route schemas', async () => {
  const r = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  const doc = r.json();
  assert.equal(doc.openapi, '3.1.0');
  for (const p of ['/api/health', '/api/features', '/api/features/{feature}', '/api/features/inspect', '/api/features/search', '/api/features/explain', '/api/features/score']) {
    assert.ok(doc.paths[p], `documents ${p}`);
  }
  assert.ok(doc.components.schemas.Feature && doc.components.schemas.Example);
  assert.ok(doc.paths['/api/features/inspect'].post.requestBody);
});

test('startServer listens on 127.0.0.1 by default', async () => {
  const ro = await startServer({ db, port: 0, readOnly: true }).catch((e: Error) => e);
  // The test process holds the database open for writing; DuckDB refuses a second opener. Use a copy.
  if (ro instanceof Error) {
    const copy = path.join(dir, 'copy.duckdb');
    await store.checkpoint();
    fs.copyFileSync(db, copy);
    const srv = await startServer({ db: copy, port: 0 });
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${srv.url}/api/health`);
    assert.deepEqual(await res.json(), { ok: true });
    await srv.close();
  } else {
    assert.match(ro.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await ro.close();
  }
});
