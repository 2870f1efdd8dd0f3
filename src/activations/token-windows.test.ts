import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../model/testing/fixtures.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import { splitDocuments, tokenWindows } from './token-windows.js';

/** One token per character (code % 50 + 3), BOS 1: enough to test windowing. */
const charTokenizer = {
  bosId: 1,
  eosId: 2,
  vocabSize: 53,
  encode: (text: string, opts: { bos: boolean }) => [...(opts.bos ? [1] : []), ...[...text].map((c) => (c.charCodeAt(0) % 50) + 3)],
} as unknown as Tokenizer;

function tmpFile(name: string, text: string): string {
  const dir = tempDir('tw');
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('train and test splits partition the documents of a JSONL file, deterministically', async () => {
  const docs = Array.from({ length: 200 }, (_, i) => `document number ${i} says ${'x'.repeat(i % 7)}`);
  const file = tmpFile('c.jsonl', docs.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
  const collect = async (split: 'train' | 'test' | 'all') => {
    const out: string[] = [];
    for await (const d of splitDocuments({ path: file, split, testFraction: 0.2 })) out.push(d);
    return out;
  };
  const [train, testDocs, all] = [await collect('train'), await collect('test'), await collect('all')];
  assert.equal(all.length, 200);
  assert.equal(train.length + testDocs.length, 200);
  assert.ok(testDocs.length > 20 && testDocs.length < 60, `about 20% held out, got ${testDocs.length}`);
  assert.deepEqual(new Set([...train, ...testDocs]), new Set(docs));
  assert.deepEqual(await collect('test'), testDocs);
});

test('token windows: fixed length, BOS first in each, documents BOS-separated, looping and skipping', async () => {
  const file = tmpFile('t.txt', 'abcdefghij\n\nklmno\n\npqrstuvwxyz\n');
  const windows: number[][] = [];
  for await (const w of tokenWindows({ path: file, split: 'all' }, charTokenizer, { contextSize: 8 })) windows.push([...w]);
  for (const w of windows) assert.equal(w[0], 1);
  assert.ok(windows.slice(0, -1).every((w) => w.length === 8));
  const tokens = windows.flat().filter((t) => t !== 1).length;
  assert.equal(tokens, 10 + 5 + 11);
  const looped: number[][] = [];
  for await (const w of tokenWindows({ path: file, split: 'all' }, charTokenizer, { contextSize: 8, loop: true, skipWindows: 2 })) {
    looped.push([...w]);
    if (looped.length === windows.length) break;
  }
  assert.deepEqual(looped.slice(0, windows.length - 2), windows.slice(2));
  assert.deepEqual(looped.slice(windows.length - 2), windows.slice(0, 2));
});

test('an empty data file is a clear error', async () => {
  const file = tmpFile('e.txt', '');
  await assert.rejects(async () => {
    for await (const _ of tokenWindows({ path: file }, charTokenizer, { contextSize: 8 })) void _;
  }, /empty file/);
});
