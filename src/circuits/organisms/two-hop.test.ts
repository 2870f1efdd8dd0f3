import assert from 'node:assert/strict';
import { test } from 'node:test';
import { llamaConfig, Transformer } from '../../model/index.js';
import { parseHfTokenizer, trainByteLevelBpe } from '../../model/tokenizers/index.js';
import { Rng } from '../../tensor/index.js';
import { randomTranscoderSet } from '../testing.js';
import { CITIES, CITY_COUNTRY, COUNTRIES, PEOPLE, twoHopCorpus, twoHopQuestion } from './two-hop.js';
import { cityFeatureSwap } from './two-hop-swap.js';

test('two-hop questions: the answer is the country of the queried person\'s city, stated only in the document', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 200; i++) {
    const q = twoHopQuestion(rng);
    assert.ok(q.facts.length >= 2 && q.facts.length <= 4);
    assert.equal(new Set(q.facts.map((f) => f[0])).size, q.facts.length, 'distinct people');
    assert.equal(new Set(q.facts.map((f) => f[1])).size, q.facts.length, 'distinct cities');
    assert.ok(q.facts.some(([p, c]) => p === q.person && c === q.city));
    assert.equal(q.answer, ` ${CITY_COUNTRY[q.city]}`);
    assert.ok(q.prompt.includes(` ${q.person} ${q.city}.`) && q.prompt.endsWith(`country of ${q.person}`));
  }
  assert.equal(twoHopQuestion(rng, { city: 'luxor' }).city, 'luxor');
  assert.equal(COUNTRIES.length * 2, CITIES.length);
  // Where a person lives changes between documents: no person -> country shortcut.
  const homes = new Map<string, Set<string>>();
  for (const doc of twoHopCorpus(300, 1)) for (const m of facts(doc)) (homes.get(m[0]) ?? homes.set(m[0], new Set()).get(m[0])!).add(m[1]);
  assert.ok(PEOPLE.every((p) => (homes.get(p)?.size ?? 0) > 3));
  // Every answer in the corpus agrees with the world.
  for (const doc of twoHopCorpus(200, 2)) {
    const lives = new Map(facts(doc));
    for (const m of doc.matchAll(/country of (\w+) (\w+)\./g)) {
      const city = CITY_COUNTRY[m[1]!] ? m[1]! : lives.get(m[1]!)!;
      assert.equal(CITY_COUNTRY[city], m[2], doc);
    }
    for (const m of doc.matchAll(/city of (\w+) (\w+)\./g)) assert.equal(lives.get(m[1]!), m[2], doc);
  }
});

test('swap test runs end to end and reports a flip rate per layer, site and size', async () => {
  const docs = twoHopCorpus(600, 3);
  let json;
  try {
    json = await trainByteLevelBpe(docs, { vocabSize: 4096 });
  } catch (err) {
    json = await trainByteLevelBpe(docs, { vocabSize: (err as { details: { supportedVocabSize: number } }).details.supportedVocabSize });
  }
  const tok = parseHfTokenizer(json, 'two-hop test');
  for (const w of [...CITIES, ...COUNTRIES, ...PEOPLE]) assert.equal(tok.encode(` ${w}`, { bos: false }).length, 1, w);
  const model = Transformer.random(llamaConfig({ dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, vocabSize: tok.vocabSize, nCtx: 64, bosTokenId: 0 }), { seed: 1, std: 0.3 });
  const set = randomTranscoderSet(model, { kind: 'per-layer', F: 16, k: 3 });
  const r = cityFeatureSwap(model, tok, set, { perCity: 1, ms: [1] });
  assert.equal(r.questions, CITIES.length);
  assert.equal(r.results.length, 2 * 2);
  for (const x of r.results) assert.ok(x.flip_rate >= 0 && x.flip_rate <= 1 && x.trials === CITIES.length);
  assert.ok(r.example && r.example.set.every((s) => /^\d+:\d+:\d+=[-\d.e]+$/.test(s)));
});

/** The (person, city) facts of a corpus document. */
function facts(doc: string): [string, string][] {
  const part = doc.slice('facts: '.length, doc.indexOf(' questions:'));
  return [...part.matchAll(/(\w+) (\w+)\./g)].map((m) => [m[1]!, m[2]!]);
}
