import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { GPT2_SPLIT_PATTERN, byteToChar } from './byte-level.js';
import { parseHfTokenizer } from './hf-tokenizer.js';
import { TINYSTORIES, sharedFile } from './test-fixtures.js';
import { trainByteLevelBpe } from './train-bpe.js';

test('hand-worked merges on a tiny corpus', async () => {
  // Words: "aaab", "Ġaab", "Ġab". Pair counts: (a,a) 3 (twice in "aaab"), (a,b) 3, (Ġ,a) 2.
  // (a,a) and (a,b) tie: the smaller ids win, so "a a" first. Then "aaab" = aa a b, "Ġaab" = Ġ aa b, and
  // (a,b) is left in "aaab" and "Ġab": count 2, merged second. Everything else is seen once.
  const json = await trainByteLevelBpe(['aaab aab ab'], { vocabSize: 259 });
  assert.deepEqual(json.model.merges, ['a a', 'a b']);
  assert.equal(json.model.vocab['<|endoftext|>'], 0);
  assert.equal(json.model.vocab['Ā'], 1); // byte 0
  assert.equal(json.model.vocab['aa'], 257);
  assert.equal(json.model.vocab['ab'], 258);
  assert.deepEqual(json.added_tokens.map((t) => [t.id, t.content, t.special]), [[0, '<|endoftext|>', true]]);
  // With minFrequency 2 the text supports no third merge ...
  await assert.rejects(trainByteLevelBpe(['aaab aab ab'], { vocabSize: 260 }), /supports a vocabulary of only 259 tokens/);
  // ... with 1 it does: the pairs left all have count 1 and the smallest ids win, (Ġ=33, aa=257).
  const more = await trainByteLevelBpe(['aaab aab ab'], { vocabSize: 260, minFrequency: 1 });
  assert.deepEqual(more.model.merges, ['a a', 'a b', 'Ġ aa']);
  // Read back: "aaab" is aa + ab.
  const tok = parseHfTokenizer(more, 'trained');
  assert.deepEqual(tok.encode('aaab', { bos: true }), [0, 257, 258]);
  assert.equal(tok.bosId, 0);
  assert.equal(tok.eosId, 0);
  assert.equal(tok.decode(tok.encode('aaab aab ab', { bos: true, eos: true })), 'aaab aab ab');
});

test('special tokens are cut out of the text and never learned from', async () => {
  const json = await trainByteLevelBpe(['xy<|endoftext|>xy<|endoftext|>xy'], { vocabSize: 258, specialTokens: ['<|endoftext|>'] });
  assert.deepEqual(json.model.merges, ['x y']); // not "xy<" or pieces of the special token
  const two = await trainByteLevelBpe(['ab ab'], { vocabSize: 259, specialTokens: ['<|endoftext|>', '<|pad|>'] });
  assert.equal(two.model.vocab['<|pad|>'], 1);
  assert.equal(two.model.vocab['ab'], 258);
});

test('rejects empty and binary data and impossible sizes with InputError', async () => {
  await assert.rejects(trainByteLevelBpe([], { vocabSize: 300 }), (e) => e instanceof InputError && /no text/.test(e.message));
  await assert.rejects(trainByteLevelBpe(['', ''], { vocabSize: 300 }), /no text to train on \(2 documents/);
  await assert.rejects(trainByteLevelBpe(['<|endoftext|>'], { vocabSize: 300 }), /only special tokens/);
  await assert.rejects(trainByteLevelBpe(['abc\0def'], { vocabSize: 300 }), /NUL bytes/);
  // Random bytes read as UTF-8: mostly U+FFFD and control characters.
  let noise = '';
  for (let i = 0; i < 2000; i++) noise += String.fromCharCode((i * 7919) % 256);
  const binary = new TextDecoder().decode(Buffer.from(noise, 'latin1'));
  await assert.rejects(trainByteLevelBpe([binary.replace(/\0/g, '')], { vocabSize: 300 }), /looks like binary/);
  await assert.rejects(trainByteLevelBpe(['hello'], { vocabSize: 100 }), /vocabSize must be an integer from 257/);
  await assert.rejects(trainByteLevelBpe(['hello'], { vocabSize: 300.5 }), InputError);
  await assert.rejects(trainByteLevelBpe(['hello'], { vocabSize: 300, minFrequency: 0 }), /minFrequency/);
  await assert.rejects(trainByteLevelBpe(['hello'], { vocabSize: 300, specialTokens: ['!'] }), /byte-level character/);
  await assert.rejects(trainByteLevelBpe(['hello hello'], { vocabSize: 5000 }), (e) => e instanceof InputError && /only \d+ tokens/.test(e.message));
});

const storiesPath = sharedFile(TINYSTORIES);
const skipStories = storiesPath ? false : `needs ../shared/${TINYSTORIES}`;

test('the incremental trainer learns the same merges as a naive one that recounts every pair', { skip: skipStories }, async () => {
  const text = readFileSync(storiesPath!, 'utf8').slice(0, 30_000);
  const json = await trainByteLevelBpe([text], { vocabSize: 450 });
  assert.deepEqual(json.model.merges, naiveTrain(text, 450));
});

test('TinyStories: round trip, determinism, and which story words become single tokens', { skip: skipStories }, async () => {
  const text = readFileSync(storiesPath!, 'utf8');
  const t0 = performance.now();
  const json = await trainByteLevelBpe([text], { vocabSize: 512 });
  const ms = performance.now() - t0;
  assert.ok(ms < 30_000, `training took ${ms.toFixed(0)} ms`); // about 0.2 s on the project machines
  const tok = parseHfTokenizer(JSON.stringify(json), 'trained-512');
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.decode(tok.encode(text, { bos: true })), text);

  // Same input, same tokenizer: also when the documents arrive one by one from an async iterable.
  const stories = text.split(/(?<=\S\n)(?=\S)/); // cut after a line that runs straight into the next story
  assert.ok(stories.length > 100 && stories.join('') === text);
  async function* docs() {
    yield* stories;
  }
  const again = await trainByteLevelBpe([text], { vocabSize: 512 });
  assert.equal(JSON.stringify(again), JSON.stringify(json));
  const streamed = await trainByteLevelBpe(docs(), { vocabSize: 512 });
  assert.equal(JSON.stringify(streamed), JSON.stringify(json)); // no word crosses a story boundary here

  // Merges come in a fixed order, so a bigger vocabulary extends a smaller one, and a word is a single token from
  // the size just above its id. Measured on this sample: none of these at 512; " bird" 584, " dog" 666,
  // " cat" 721, " ball" 731, " tree" 755: all five from vocabSize 755 on.
  const words = [' dog', ' cat', ' ball', ' tree', ' bird'];
  const single = (t: typeof tok) => words.filter((w) => t.encode(w, { bos: false }).length === 1);
  assert.deepEqual(single(tok), []);
  const big = parseHfTokenizer(await trainByteLevelBpe([text], { vocabSize: 1024 }), 'trained-1024');
  assert.deepEqual(single(big), words);
  assert.deepEqual(big.json.model.merges.slice(0, 512 - 257), json.model.merges);
  const ids = words.map((w) => big.encode(w, { bos: false })[0]!);
  assert.equal(Math.max(...ids) + 1, 755);
  const at755 = parseHfTokenizer(await trainByteLevelBpe([text], { vocabSize: 755 }), 'trained-755');
  const at754 = parseHfTokenizer(await trainByteLevelBpe([text], { vocabSize: 754 }), 'trained-754');
  assert.deepEqual(single(at755), words);
  assert.deepEqual(single(at754), [' dog', ' cat', ' ball', ' bird']);
});

/** Byte-level BPE training by the book: each merge recounts every pair over all words. Same tie rule: smaller ids. */
function naiveTrain(text: string, vocabSize: number): string[] {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(GPT2_SPLIT_PATTERN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const pieces = ['<|endoftext|>', ...byteToChar];
  const idOf = new Map(pieces.map((p, i) => [p, i]));
  let words = [...counts].map(([w, c]) => ({ ids: Array.from(Buffer.from(w, 'utf8'), (b) => b + 1), c }));
  const out: string[] = [];
  while (pieces.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.ids.length; i++) pairs.set(`${w.ids[i]},${w.ids[i + 1]}`, (pairs.get(`${w.ids[i]},${w.ids[i + 1]}`) ?? 0) + w.c);
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best || bestCount < 2) throw new Error('ran out of pairs');
    const [a, b] = best;
    const piece = pieces[a]! + pieces[b]!;
    if (!idOf.has(piece)) {
      idOf.set(piece, pieces.length);
      pieces.push(piece);
    }
    const c = idOf.get(piece)!;
    out.push(`${pieces[a]} ${pieces[b]}`);
    words = words.map((w) => {
      const ids: number[] = [];
      for (let i = 0; i < w.ids.length; i++) {
        if (w.ids[i] === a && w.ids[i + 1] === b) {
          ids.push(c);
          i++;
        } else ids.push(w.ids[i]!);
      }
      return { ids, c: w.c };
    });
  }
  return out;
}
