import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, InputError } from '../../errors.js';
import { GPT2_SPLIT_PATTERN, byteToChar } from './byte-level.js';
import { loadHfTokenizer, parseHfTokenizer, type HfTokenizer } from './hf-tokenizer.js';
import { TINYSTORIES, gpt2StyleJson, llamaStyleJson, sharedFile } from './test-fixtures.js';
import { TokenStream } from './tokenizer.js';

const GPT2_MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['Ġ', 'c'],
  ['a', 't'],
  ['Ġc', 'at'],
  ['Ġ', 'Ġ'],
];

function gpt2(): HfTokenizer {
  return parseHfTokenizer(gpt2StyleJson(GPT2_MERGES), 'gpt2-fixture');
}

test('GPT-2 byte-level: hand-worked encodings', () => {
  const tok = gpt2();
  const id = (piece: string) => tok.tokenId(piece)!;
  const byte = (b: number) => b; // the fixture gives byte b the id b
  assert.equal(tok.vocabSize, 256 + 7 + 1);
  assert.equal(tok.bosId, id('<|endoftext|>'));
  assert.equal(tok.eosId, id('<|endoftext|>'));
  // "the" alone: only (h,e) merges (Ġt needs a space). " cat": Ġc (rank 3), then at (4), then Ġcat (5).
  assert.deepEqual(tok.encode('the cat', { bos: false }), [byte(0x74), id('he'), id('Ġcat')]);
  // " the": Ġt (0), he (1), Ġthe (2).
  assert.deepEqual(tok.encode(' the', { bos: false }), [id('Ġthe')]);
  // Special tokens are matched before BPE; BOS comes only when asked for.
  assert.deepEqual(tok.encode('<|endoftext|>the', { bos: true }), [id('<|endoftext|>'), id('<|endoftext|>'), byte(0x74), id('he')]);
  // "é" is two bytes, C3 A9, shown as "Ã" and "©".
  assert.deepEqual(tok.encode('é', { bos: false }), [0xc3, 0xa9]);
  assert.equal(tok.tokenString(0xc3), 'Ã');
  // Two spaces: GPT-2's split leaves the last space to the next word ("a", "Ġ", "Ġb"), so "ĠĠ" cannot form.
  assert.deepEqual(tok.encode('a  b', { bos: false }), [byte(0x61), byte(0x20), byte(0x20), byte(0x62)]);
  // Trailing spaces are one whitespace word "ĠĠĠ": the leftmost "ĠĠ" merges, the last space stays.
  assert.deepEqual(tok.encode('a   ', { bos: false }), [byte(0x61), id('ĠĠ'), byte(0x20)]);
  assert.deepEqual(tok.encode('', { bos: true, eos: true }), [id('<|endoftext|>'), id('<|endoftext|>')]);
});

test('GPT-2 byte-level: decoding, per-token bytes and streaming', () => {
  const tok = gpt2();
  const ids = tok.encode('the cat é 🐱', { bos: true });
  assert.equal(tok.decode(ids), 'the cat é 🐱');
  assert.equal(tok.decode(ids, { skipSpecial: false }), '<|endoftext|>the cat é 🐱');
  assert.equal(tok.decodeToken(tok.tokenId('Ġcat')!), ' cat');
  assert.equal(tok.decodeToken(0xc3), '\uFFFD'); // half a character
  const stream = new TokenStream(tok);
  const out = ids.map((i) => stream.push(i)).join('') + stream.flush();
  assert.equal(out, '<|endoftext|>the cat é 🐱');
  assert.equal(tok.decode([]), '');
  assert.throws(() => tok.decode([999]), InputError);
});

test('Llama-style (legacy normalizer and Metaspace): hand-worked encodings with byte fallback', () => {
  const merges: [string, string][] = [
    ['▁', 't'],
    ['h', 'e'],
    ['▁t', 'he'],
    ['a', 't'],
    ['▁', 'c'],
    ['▁c', 'at'],
  ];
  for (const style of ['legacy', 'metaspace'] as const) {
    const tok = parseHfTokenizer(llamaStyleJson(['▁', 't', 'h', 'e', 'c', 'a'], merges, style), `llama-${style}`);
    const id = (piece: string) => tok.tokenId(piece)!;
    assert.equal(tok.bosId, 1, style);
    assert.equal(tok.eosId, 2, style);
    // "▁the▁cat" is one sequence (no pre-tokenizer split): ▁t, he, ▁the, then at, ▁c, ▁cat.
    assert.deepEqual(tok.encode('the cat', { bos: true }), [1, id('▁the'), id('▁cat')], style);
    assert.deepEqual(tok.encode('the cat', { bos: false, eos: true }), [id('▁the'), id('▁cat'), 2], style);
    // "é" is not in the vocabulary: its bytes C3 A9 as <0xC3><0xA9> (ids byte + 3).
    assert.deepEqual(tok.encode('é', { bos: false }), [id('▁'), 0xc3 + 3, 0xa9 + 3], style);
    // "<s>" in the text is the special token, matched before the normalizer. The text after it is normalized on its
    // own: the legacy Prepend normalizer gives it a "▁" (▁, at), Metaspace's prepend_scheme "first" does not.
    assert.deepEqual(tok.encode('<s>at', { bos: false }), style === 'legacy' ? [1, id('▁'), id('at')] : [1, id('at')], style);
    const ids = tok.encode('the  é🐱 cat', { bos: true });
    assert.equal(tok.decode(ids), 'the  é🐱 cat', style);
    // A leading space survives the legacy layout ("▁▁the", one "▁" stripped) but not Metaspace, which prepends
    // nothing to text that already starts with "▁" and still strips one: the same as the Rust library.
    assert.equal(tok.decode(tok.encode(' the', { bos: false })), style === 'legacy' ? ' the' : 'the', style);
    assert.equal(tok.decodeToken(id('▁the'), 1), 'the', style);
    assert.equal(tok.decodeToken(id('▁the'), id('at')), ' the', style);
    assert.equal(tok.tokenString(0xc3 + 3), '<0xC3>', style);
    const stream = new TokenStream(tok, 1);
    assert.equal(ids.slice(1).map((i) => stream.push(i)).join('') + stream.flush(), 'the  é🐱 cat', style);
  }
});

test('round trips on real text and agrees with a naive BPE reference', { skip: sharedFile(TINYSTORIES) ? false : `needs ../shared/${TINYSTORIES}` }, () => {
  const text = readFileSync(sharedFile(TINYSTORIES)!, 'utf8').slice(0, 200_000) + ' Zoë’s 🐶 café — 日本';
  // Merges taken from frequent pairs of the text itself, so BPE has real work to do.
  const merges = frequentMerges(text.slice(0, 50_000), 150);
  const json = gpt2StyleJson(merges);
  const tok = parseHfTokenizer(json, 'gpt2-trained-fixture');
  const ids = tok.encode(text, { bos: false });
  assert.equal(tok.decode(ids), text);
  assert.ok(ids.length < Buffer.byteLength(text) * 0.7, 'merges compress the text');
  const window = text.slice(0, 20_000);
  assert.deepEqual(tok.encode(window, { bos: false }), naiveByteLevelEncode(json.model.vocab, merges, window));

  const llama = parseHfTokenizer(llamaStyleJson([...new Set(text.slice(0, 5000).replace(/ /g, '▁'))], []), 'llama-fixture');
  assert.equal(llama.decode(llama.encode(text, { bos: true })), text);
});

test('load from disk picks up tokenizer_config.json for BOS/EOS names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-tok-'));
  try {
    const path = join(dir, 'tokenizer.json');
    const json = gpt2StyleJson(GPT2_MERGES);
    json.added_tokens.push({ id: 300, content: '<|bos|>', special: true }, { id: 301, content: '<|eos|>', special: true });
    writeFileSync(path, JSON.stringify(json));
    return (async () => {
      const plain = await loadHfTokenizer(path);
      assert.equal(plain.bosId, 300); // "<|bos|>" comes before "<|endoftext|>" among the usual names
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: { content: '<|endoftext|>' }, eos_token: '<|eos|>' }));
      const configured = await loadHfTokenizer(path);
      assert.equal(configured.bosId, 263);
      assert.equal(configured.eosId, 301);
      assert.equal((await loadHfTokenizer(path, { bosToken: null })).bosId, null);
      assert.throws(() => configured.decode([302]), InputError);
      assert.throws(() => parseHfTokenizer(json, 'x', { bosToken: 'nope' }), /bosToken "nope" is not in the vocabulary/);
      assert.throws(() => parseHfTokenizer(llamaStyleJson([], []), 'x', { bosToken: null }).encode('a', { bos: true }), /no BOS token/);
    })().finally(() => rmSync(dir, { recursive: true, force: true }));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
});

test('rejects malformed tokenizer.json with FormatError', () => {
  const good = gpt2StyleJson(GPT2_MERGES);
  const withModel = (model: Record<string, unknown>) => ({ ...good, model: { ...good.model, ...model } });
  assert.throws(() => parseHfTokenizer('{not json', 'bad.json'), /bad.json: is not valid JSON/);
  assert.throws(() => parseHfTokenizer([], 'x'), FormatError);
  assert.throws(() => parseHfTokenizer({ ...good, model: undefined }, 'x'), /no "model"/);
  assert.throws(() => parseHfTokenizer(withModel({ type: 'WordPiece' }), 'x'), /model type "WordPiece" is not supported/);
  assert.throws(() => parseHfTokenizer(withModel({ vocab: { a: 0, b: 0 } }), 'x'), /gives id 0 to both/);
  assert.throws(() => parseHfTokenizer(withModel({ vocab: { a: -1 } }), 'x'), /non-negative integer/);
  assert.throws(() => parseHfTokenizer(withModel({ merges: [42] }), 'x'), /merges\[0\]/);
  assert.throws(() => parseHfTokenizer(withModel({ merges: ['a b c'] }), 'x'), /one space/);
  assert.throws(() => parseHfTokenizer(withModel({ merges: ['x q'] }), 'x'), /merges\[0\] "x q" uses or makes a piece that is not in model.vocab/);
  assert.throws(() => parseHfTokenizer({ ...good, added_tokens: [{ id: 0, content: 'zz' }] }, 'x'), /vocab has "Ā" there/);
  // A vocabulary that cannot spell every byte, with no unk and no byte fallback, would drop characters silently.
  const noBytes = withModel({ vocab: { a: 0, '<|endoftext|>': 1 }, merges: [] });
  assert.throws(() => parseHfTokenizer({ ...noBytes, added_tokens: [] }, 'x'), /dropped silently/);
});

// ---- Independent references ----

/** Byte-level BPE by the book: split, then per word merge the lowest-ranked pair (leftmost first) until none. */
function naiveByteLevelEncode(vocab: Record<string, number>, merges: [string, string][], text: string): number[] {
  const rank = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const out: number[] = [];
  for (const m of text.matchAll(GPT2_SPLIT_PATTERN)) {
    const word = Array.from(Buffer.from(m[0], 'utf8'), (b) => byteToChar[b]!);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = rank.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      word.splice(best, 2, word[best]! + word[best + 1]!);
    }
    for (const p of word) out.push(vocab[p]!);
  }
  return out;
}

/** A crude merge list: repeatedly the most frequent adjacent pair over the words of `text` (no efficiency needed). */
function frequentMerges(text: string, count: number): [string, string][] {
  let words = [...text.matchAll(GPT2_SPLIT_PATTERN)].map((m) => Array.from(Buffer.from(m[0], 'utf8'), (b) => byteToChar[b]!));
  const merges: [string, string][] = [];
  while (merges.length < count) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]} ${w[i + 1]}`, (counts.get(`${w[i]} ${w[i + 1]}`) ?? 0) + 1);
    let best = '';
    let bestCount = 0;
    for (const [k, c] of counts) if (c > bestCount) [best, bestCount] = [k, c];
    if (bestCount < 2) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    words = words.map((w) => {
      const out: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w[i]!);
      }
      return out;
    });
  }
  return merges;
}
