// `loupe generate` with several prompts, end to end through bin/loupe.js: each batched row equals the
// one-prompt run with that row's seed, and one prompt keeps the one-prompt output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = join(root, 'bin', 'loupe.js');
const model = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
const tok = join(root, '..', 'shared', 'models', 'stories260K', 'tok512.bin');
const skip = existsSync(model) && existsSync(tok) ? false : 'needs ../shared/models/stories260K';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [loupe, 'generate', '--model', model, '--tokenizer', tok, ...args], { encoding: 'utf8' });
}

test('loupe generate with several prompts: one batch, each row as its own run with seed + row', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'loupe-generate-'));
  try {
    const file = join(dir, 'prompts.txt');
    writeFileSync(file, 'The little dog ran to the park and saw\n\n');
    const prompts = ['Once upon a time', 'Lily', 'The little dog ran to the park and saw'];
    const sampling = ['--max-new-tokens', '20', '--temperature', '0.8'];
    const r = run('--prompt', prompts[0]!, '--prompt', prompts[1]!, '--prompts-file', file, ...sampling, '--seed', '3', '--json');
    assert.equal(r.status, 0, r.stderr);
    const { results } = JSON.parse(r.stdout) as { results: { prompt: string; prompt_ids: number[]; text: string; ids: number[]; stop_reason: string }[] };
    assert.deepEqual(results.map((x) => x.prompt), prompts);
    prompts.forEach((p, i) => {
      const one = JSON.parse(run('--prompt', p, ...sampling, '--seed', String(3 + i), '--json').stdout);
      assert.deepEqual(results[i]!.prompt_ids, one.prompt_ids, p);
      assert.deepEqual(results[i]!.ids, one.ids, p);
      assert.equal(results[i]!.text, one.text, p);
      assert.equal(results[i]!.stop_reason, one.stop_reason, p);
    });
    // Text output: one block per prompt, the prompt then its continuation.
    const greedy = run('--prompt', 'Once upon a time', '--prompt', 'Lily', '--max-new-tokens', '10', '--temperature', '0');
    assert.equal(greedy.status, 0, greedy.stderr);
    const blocks = greedy.stdout.split(/^--- prompt \d of 2 ---\n/m);
    assert.equal(blocks.length, 3, greedy.stdout);
    assert.equal(blocks[0], '');
    const single = run('--prompt', 'Lily', '--max-new-tokens', '10', '--temperature', '0');
    assert.equal(single.stdout, blocks[2]);
    assert.ok(!single.stdout.includes('--- prompt'));
    const bad = run('--prompts-file', join(dir, 'missing.txt'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--prompts-file .*missing\.txt: cannot read the file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
