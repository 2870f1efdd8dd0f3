import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildFeatures } from '../features/build.js';
import { SyntheticSource, syntheticCorpus } from '../features/synthetic.js';
import { randomIds, tempDir } from '../model/testing/fixtures.js';
import { smallModel } from '../model/testing/models.js';
import { Store } from '../store/index.js';
import { attribute } from './attribute.js';
import { checkGraphExactness } from './check.js';
import { readGraphJson, writeGraphJson, type GraphJsonOptions } from './graph-json.js';
import { loadLabels, parseLabelSpec } from './labels.js';
import { nodeId, parseNodeId } from './node-index.js';
import { randomTranscoderSet } from './testing.js';

const model = smallModel('gpt2');
const ids = randomIds(9, model.config.vocabSize, 8);
const opts = (extra: Partial<GraphJsonOptions> = {}): GraphJsonOptions => ({
  prompt: 'a test prompt',
  promptTokens: ids.map((i) => `t${i}`),
  tokenString: (id) => `t${id}`,
  ...extra,
});

test('node ids: unique, parseable, and never one kind for another', () => {
  const set = randomTranscoderSet(model, { kind: 'clt', F: 12, k: 4 });
  const g = attribute(model, set, ids, { prune: false });
  const seen = new Set<string>();
  for (let i = 0; i < g.index.size; i++) {
    const id = nodeId(g.index, i, g.tokenIds, g.logitTokens);
    assert.ok(!seen.has(id), `duplicate id ${id}`);
    seen.add(id);
    const p = parseNodeId(id, model.config.nLayers)!;
    assert.equal(p.kind, g.index.kind(i), id);
    assert.equal(p.pos, g.index.posOf(i));
  }
  // The collision circuit-tracer had: error (layer 2, pos 3) vs layer-0 feature 2 at position 3.
  assert.equal(parseNodeId('0_2_3', 2)!.kind, 'feature');
  assert.equal(parseNodeId('1_-1_3', 2)!.kind, 'error');
  assert.equal(parseNodeId('3_17_8', 2)!.kind, 'logit');
  assert.equal(parseNodeId('E_17_8', 2)!.kind, 'token');
  assert.equal(parseNodeId('2_5_1', 2), null, 'layer 2 is neither a feature layer nor the logit layer of a 2-layer model');
});

test('graph JSON: the circuit-tracer schema, and the exactness check from the file', () => {
  const set = randomTranscoderSet(model, { kind: 'per-layer', F: 16, k: 4, skip: true });
  const g = attribute(model, set, ids, { prune: false });
  const file = path.join(tempDir('graph'), 'g.json');
  const w = writeGraphJson(g, file, opts({ slug: 'test' }));
  const json = readGraphJson(file);
  assert.equal(json.metadata.slug, 'test');
  assert.equal(json.metadata.schema_version, 1);
  assert.deepEqual(json.metadata.prompt_tokens.length, ids.length);
  assert.deepEqual(Object.keys(json.qParams).sort(), ['clickedId', 'linkType', 'pinnedIds', 'sg_pos', 'supernodes']);
  assert.equal(json.nodes.length, w.nodes);
  assert.equal(json.links.length, w.links);
  const types = new Set(json.nodes.map((n) => n.feature_type));
  assert.deepEqual([...types].sort(), ['cross layer transcoder', 'embedding', 'logit', 'mlp reconstruction error']);
  for (const n of json.nodes) for (const k of ['node_id', 'feature', 'layer', 'ctx_idx', 'feature_type', 'token_prob', 'is_target_logit', 'clerp', 'influence', 'activation']) assert.ok(k in n, `${n.node_id} lacks ${k}`);
  assert.equal(json.nodes.filter((n) => n.is_target_logit).length, 1);
  const ids2 = new Set(json.nodes.map((n) => n.node_id));
  for (const l of json.links) assert.ok(ids2.has(l.source) && ids2.has(l.target));

  const r = checkGraphExactness(json, model, set);
  assert.equal(r.checked, g.index.nFeatures + g.index.nLogits);
  assert.equal(r.activationMismatches, 0);
  assert.ok(r.maxRelError < 1e-4, `max relative error ${r.maxRelError}`);
  // A tampered edge is caught.
  json.links[0]!.weight += 0.5;
  assert.ok(checkGraphExactness(json, model, set).maxRelError > 1e-4);
  // A logit node outside the vocabulary, or away from the last position, is refused (it used to read an
  // undefined logit: NaN, which no comparison flags, so the check passed).
  const logit = json.nodes.find((n) => n.feature_type === 'logit')!;
  const [layer, , pos] = logit.node_id.split('_');
  const V = model.config.vocabSize;
  const bad = (id: string): typeof json => ({ ...json, nodes: json.nodes.map((n) => (n === logit ? { ...n, node_id: id } : n)) });
  assert.throws(() => checkGraphExactness(bad(`${layer}_${V + 3}_${pos}`), model, set), /outside the model's vocabulary/);
  assert.throws(() => checkGraphExactness(bad(`${layer}_${logit.feature}_0`), model, set), /last position/);
  // A non-numeric link weight makes its target's row fail, not pass.
  json.links[0]!.weight = Number.NaN;
  assert.equal(checkGraphExactness(json, model, set).maxRelError, Infinity);
});

test('a pruned graph is written, and refused by the exactness check', () => {
  const set = randomTranscoderSet(model, { kind: 'per-layer', F: 16, k: 4 });
  const g = attribute(model, set, ids);
  const file = path.join(tempDir('graph'), 'p.json');
  writeGraphJson(g, file, opts());
  const json = readGraphJson(file);
  assert.equal(json.metadata.info.pruned, true);
  assert.ok(json.nodes.length < g.index.size);
  assert.throws(() => checkGraphExactness(json, model, set), /unpruned graphs only/);
});

test('labels come from a feature database of the same dictionary size', async () => {
  const dir = tempDir('labels');
  const corpus = path.join(dir, 'corpus.txt');
  fs.writeFileSync(corpus, syntheticCorpus(60));
  const db = path.join(dir, 'f.duckdb');
  const store = await Store.open(db);
  try {
    await buildFeatures({ store, source: new SyntheticSource({ nFeatures: 16 }), data: corpus, tokens: 200, context: 16, batchSize: 2 });
    await store.run(`INSERT INTO explanations (feature, provider, model, text, status) VALUES (3, 'human', NULL, 'old label', 'ok'), (3, 'human', NULL, 'cats', 'ok'), (5, 'human', NULL, 'broken', 'error')`);
  } finally {
    store.close();
  }
  assert.deepEqual(parseLabelSpec(`1=${db}`, 2), [1, db]);
  assert.throws(() => parseLabelSpec(`2=${db}`, 2), /layers 0-1/);
  assert.throws(() => parseLabelSpec(db, 2), /LAYER=FEATURE_DB/);
  const labels = await loadLabels(new Map([[1, db]]), new Map([[1, new Set([3, 5])]]), [16, 16]);
  assert.deepEqual([...labels], [['1:3', 'cats']]);
  await assert.rejects(loadLabels(new Map([[0, db]]), new Map([[0, new Set([1])]]), [24, 16]), /describes a dictionary of 16 features; layer 0's transcoder has 24/);
});
