import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../model/tokenizers/index.js';
import { promptOfLength } from './attribute.js';

const assets = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'default', 'model');

test('promptOfLength: the longest prefix that fits in N tokens with BOS', async () => {
  const tok = await loadTokenizer(path.join(assets, 'tokenizer.json'));
  const text = 'Once upon a time, there was a little dog named Max. He liked to run in the park with his friends every day.';
  let previous = '';
  for (const n of [4, 9, 16]) {
    const p = promptOfLength(tok, text, n);
    const len = tok.encode(p, { bos: true }).length;
    assert.ok(len <= n && len >= n - 2, `${n}: ${len} tokens`); // longest: within a word piece or two of n
    assert.ok(text.startsWith(p) && p.length > previous.length);
    previous = p;
  }
  assert.throws(() => promptOfLength(tok, text, 1), /no prefix/);
});
