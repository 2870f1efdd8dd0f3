// The model commands end to end through bin/loupe.js: output formats, streaming, one-line errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../../model/save.js';
import { smallModel } from '../../model/testing/models.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = join(root, 'bin', 'loupe.js');
const model = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
const tok = join(root, '..', 'shared', 'models', 'stories260K', 'tok512.bin');
const skip = existsSync(model) && existsSync(tok) ? false : 'needs ../shared/models/stories260K';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [loupe, ...args], { encoding: 'utf8' });
}

test('loupe generate: greedy from BOS prints the documented stories260K text', { skip }, () => {
  const r = run('generate', '--model', model, '--tokenizer', tok, '--prompt', '', '--max-new-tokens', '60', '--temperature', '0');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith('Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.'), r.stdout);
  const j = run('generate', '--model', model, '--tokenizer', tok, '--prompt', 'Once upon a time', '--max-new-tokens', '5', '--temperature', '0.8', '--seed', '3', '--json');
  const out = JSON.parse(j.stdout);
  assert.deepEqual(out.prompt_ids, [1, 403, 407, 261, 378]);
  assert.equal(out.ids.length, 5);
});

test('loupe logits --json: one row per position over the whole vocabulary', { skip }, () => {
  const r = run('logits', '--model', model, '--ids', '1,317,269', '--json');
  assert.equal(r.status, 0, r.stderr);
  const { logits } = JSON.parse(r.stdout);
  assert.equal(logits.length, 3);
  assert.ok(logits.every((row: number[]) => row.length === 512 && row.every(Number.isFinite)));
});

test('loupe loss and heads print the documented JSON', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-cli-'));
  try {
    const data = join(dir, 'text.txt');
    writeFileSync(data, 'Once upon a time, there was a little dog. The dog liked to run in the park with his friend.\n'.repeat(8));
    const l = JSON.parse(run('loss', '--model', model, '--tokenizer', tok, '--data', data, '--ctx', '32', '--json').stdout);
    assert.ok(l.loss > 0 && l.loss < 4, String(l.loss));
    assert.equal(l.windows, Math.ceil(l.tokens / 32));
    const h = JSON.parse(run('heads', '--model', model, '--tokenizer', tok, '--seq-len', '20', '--batch', '2', '--json').stdout);
    assert.equal(h.induction.length, 5);
    assert.equal(h.previous_token[0].length, 8);
    assert.equal(h.heads.length, 40);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loupe hooks lists hook points with shapes and shows one activation', { skip }, () => {
  const list = JSON.parse(run('hooks', '--model', model, '--json').stdout).hooks as { name: string; shape: string[] }[];
  assert.ok(list.some((h) => h.name === 'blocks.4.attn.hook_pattern' && h.shape.join() === 'batch,head_index,query_pos,key_pos'));
  const one = JSON.parse(run('hooks', '--model', model, '--ids', '1,403,407', '--show', 'blocks.1.attn.hook_k', '--json').stdout);
  assert.deepEqual(one.shape, [1, 3, 4, 8]);
  assert.equal(one.values.length, 96);
});

test('model commands: bad input is one line on stderr and exit 1', { skip }, () => {
  const cases: [string[], RegExp][] = [
    [['logits', '--model', model, '--ids', '1,600'], /600 at position 1 is outside the vocabulary \[0, 512\)/],
    [['logits', '--model', model, '--ids', Array.from({ length: 513 }, () => '5').join(',')], /longer than the model's context of 512/],
    [['logits', '--model', model, '--ids', '1,x'], /"x" is not a token id/],
    [['generate', '--model', model, '--tokenizer', tok, '--prompt', 'the '.repeat(600), '--max-new-tokens', '1'], /longer than the model's context/],
    [['logits', '--model', tok, '--ids', '1'], /stories260K|tok512|bytes|header/],
    [['logits', '--model', join(root, 'no-such-model.bin'), '--ids', '1'], /no such file/],
    [['hooks', '--model', model, '--ids', '1,2', '--show', 'blocks.0.hook_resid_psot'], /unknown hook point "blocks\.0\.hook_resid_psot" \(closest: blocks\.0\.hook_resid_post/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('loupe logits reads a Hugging Face directory; an unknown architecture fails on one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-cli-hf-'));
  try {
    const m = smallModel('gpt2');
    saveModel(m, join(dir, 'gpt2'));
    const r = run('logits', '--model', join(dir, 'gpt2'), '--ids', '1,2,3', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout).logits as number[][];
    const want = m.forward([1, 2, 3]).data;
    assert.ok(rows.flat().every((v, i) => Math.abs(v - want[i]!) < 1e-5));
    writeFileSync(join(dir, 'gpt2', 'config.json'), JSON.stringify({ model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
    const bad = run('logits', '--model', join(dir, 'gpt2'), '--ids', '1');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown architecture: model_type "mamba"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
