import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = join(root, 'bin', 'loupe.js');
const tok512 = join(root, '..', 'shared', 'models', 'stories260K', 'tok512.bin');
const model = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
const skip = existsSync(tok512) ? false : 'needs ../shared/models/stories260K/tok512.bin';

test('loupe tokenize --json prints the ids, BOS first unless --no-bos', { skip }, () => {
  const run = (...args: string[]) => execFileSync(process.execPath, [loupe, 'tokenize', '--tokenizer', tok512, ...args], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(run('--text', 'Once upon a time', '--json')), { ids: [1, 403, 407, 261, 378] });
  assert.deepEqual(JSON.parse(run('--text', 'Once upon a time', '--no-bos', '--json')), { ids: [403, 407, 261, 378] });
  assert.deepEqual(JSON.parse(run('--text', 'Once', '--model', model, '--json')), { ids: [1, 403] });
  const listing = run('--text', 'Once upon');
  assert.match(listing, /3 tokens \(BOS first\)/);
  assert.match(listing, /403 {2}" Once"/);
});

test('loupe tokenize reports a bad tokenizer on one line and exits 1', { skip }, () => {
  const r = spawnSync(process.execPath, [loupe, 'tokenize', '--tokenizer', model, '--text', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loupe: .*stories260K.bin: .*max_token_length/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
