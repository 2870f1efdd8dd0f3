import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, InputError } from '../../errors.js';
import { HfTokenizer } from './hf-tokenizer.js';
import { Llama2cTokenizer, serializeLlama2cTokenizer } from './llama2c.js';
import { loadTokenizer } from './load.js';
import { TOK512, gpt2StyleJson, sharedFile } from './test-fixtures.js';

function llamaBin(): Uint8Array {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  pieces.push(' ', 'a');
  return serializeLlama2cTokenizer(pieces, pieces.map(() => 0));
}

test('dispatches on name, then on content, with clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-load-'));
  try {
    const json = JSON.stringify(gpt2StyleJson([['a', 'b']]));
    writeFileSync(join(dir, 'tokenizer.json'), json);
    writeFileSync(join(dir, 'tok.bin'), llamaBin());
    writeFileSync(join(dir, 'json-without-extension'), '\n ' + json);
    writeFileSync(join(dir, 'bin-without-extension'), llamaBin());
    writeFileSync(join(dir, 'garbage.dat'), 'hello, this is not a tokenizer');
    writeFileSync(join(dir, 'tokenizer.model'), 'x');
    mkdirSync(join(dir, 'empty'));

    assert.ok((await loadTokenizer(join(dir, 'tokenizer.json'))) instanceof HfTokenizer);
    assert.ok((await loadTokenizer(dir)) instanceof HfTokenizer); // a directory with tokenizer.json
    assert.ok((await loadTokenizer(join(dir, 'tok.bin'))) instanceof Llama2cTokenizer);
    assert.ok((await loadTokenizer(join(dir, 'json-without-extension'))) instanceof HfTokenizer);
    assert.ok((await loadTokenizer(join(dir, 'bin-without-extension'))) instanceof Llama2cTokenizer);

    await assert.rejects(loadTokenizer(join(dir, 'garbage.dat')), (e) => e instanceof FormatError && /neither a tokenizer.json nor a llama2.c/.test(e.message));
    await assert.rejects(loadTokenizer(join(dir, 'tokenizer.model')), /sentencepiece .model files are not read/);
    await assert.rejects(loadTokenizer(join(dir, 'missing.bin')), (e) => e instanceof InputError && /tokenizer not found/.test(e.message));
    await assert.rejects(loadTokenizer(join(dir, 'empty')), /directory without tokenizer.json/);
    // The model's vocabulary: exact for llama2.c, an upper bound for tokenizer.json (models may pad).
    await assert.rejects(loadTokenizer(join(dir, 'tok.bin'), { vocabSize: 300 }), FormatError);
    assert.equal((await loadTokenizer(join(dir, 'tokenizer.json'), { vocabSize: 300 })).vocabSize, 258);
    await assert.rejects(loadTokenizer(join(dir, 'tokenizer.json'), { vocabSize: 100 }), /does not belong to the model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loads the real tok512.bin', { skip: sharedFile(TOK512) ? false : `needs ../shared/${TOK512}` }, async () => {
  const tok = await loadTokenizer(sharedFile(TOK512)!, { vocabSize: 512 });
  assert.equal(tok.kind, 'llama2c');
  assert.equal(tok.vocabSize, 512);
  assert.equal(readFileSync(sharedFile(TOK512)!).length, 6227);
});
