// `loupe steer`, `loupe patch` and `loupe ablate` end to end through bin/loupe.js on stories260K with a
// random SAE: the documented JSON keys, clamp values in feature_values, one-line errors for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig, initializeSae, Sae, saveSae } from '../../sae/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = join(root, 'bin', 'loupe.js');
const model = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
const tok = join(root, '..', 'shared', 'models', 'stories260K', 'tok512.bin');
const skip = existsSync(model) && existsSync(tok) ? false : 'needs ../shared/models/stories260K';
const dir = mkdtempSync(join(tmpdir(), 'loupe-steer-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [loupe, ...args], { encoding: 'utf8', env: { ...process.env, LOUPE_QUIET: '1' } });
}

function sae(): string {
  const p = join(dir, 'sae');
  if (!existsSync(p)) {
    const s = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 128, k: 8, hookName: 'blocks.3.hook_resid_post' }));
    initializeSae(s, { seed: 2 });
    saveSae(s, p);
  }
  return p;
}

test('loupe steer --json: paired texts, losses, rates, and a clamp at V everywhere', { skip }, () => {
  const r = run('steer', '--model', model, '--tokenizer', tok, '--sae', sae(), '--feature', '9', '--mode', 'clamp', '--value', '2.5', '--prompt', 'Once upon a time', '--max-new-tokens', '8', '--samples', '3', '--seed', '0', '--concept', 'girl', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['baseline', 'steered', 'steered_loss', 'baseline_loss', 'feature_values', 'baseline_rate', 'steered_rate']) assert.ok(k in j, k);
  assert.equal(j.baseline.length, 3);
  assert.equal(j.feature_values.length, 3);
  for (const rows of j.feature_values) {
    assert.ok(rows.length >= 4);
    for (const v of rows) assert.ok(Math.abs(v - 2.5) <= 1e-4, String(v));
  }
  const v = run('steer', '--model', model, '--tokenizer', tok, '--vector-from', 'a dog', 'a cat', '--hook', 'blocks.1.hook_resid_post', '--strength', '1', '--prompt', 'Once', '--max-new-tokens', '4', '--samples', '2', '--json');
  assert.equal(v.status, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).feature_values, undefined);
});

test('loupe steer: bad input is one line naming the problem and the fix', { skip }, () => {
  // (the library tests cover the rest of the bad input; here: that it reaches the user as one line)
  const cases: [string[], RegExp][] = [
    [['--sae', sae(), '--feature', '128'], /feature 128 is outside the dictionary: it has 128 features \(0-127\)/],
    [['--vector-from', 'a big dog', 'a cat', '--hook', 'blocks.1.hook_resid_post', '--aggregate', 'aligned'], /positive prompt has \d+ tokens and the negative \d+.*same token count/],
  ];
  for (const [args, re] of cases) {
    const r = run('steer', '--model', model, '--tokenizer', tok, '--prompt', 'Once', '--max-new-tokens', '2', '--samples', '1', ...args);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('loupe patch --json: [layer][position] and [layer][head] grids, both methods; loupe ablate', { skip }, () => {
  const r = run('patch', '--model', model, '--tokenizer', tok, '--clean', 'Lily gave the ball to', '--corrupt', 'Tim gave the ball to', '--answer', 'Tim', '--wrong', 'Lily', '--sites', 'resid_pre,attn_out,mlp_out,heads,final', '--method', 'both', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.method, 'activation');
  assert.equal(typeof j.clean_metric, 'number');
  assert.equal(typeof j.corrupt_metric, 'number');
  const P = j.tokens.length;
  for (const grids of [j.sites, j.attribution]) {
    for (const k of ['resid_pre', 'attn_out', 'mlp_out']) assert.deepEqual([grids[k].length, grids[k][0].length], [5, P]);
    assert.deepEqual([grids.heads.length, grids.heads[0].length], [5, 8]);
    assert.deepEqual([grids.final.length, grids.final[0].length], [1, P]);
  }
  assert.ok(j.agreement.final.correlation > 0.9999, 'attribution is exact on the normalised final residual');
  const bad = run('patch', '--model', model, '--tokenizer', tok, '--clean', 'a', '--corrupt', 'b', '--answer', 'dog', '--wrong', 'Lily');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /the answer "dog" is 2 tokens.*--answer-id/);
  const a = run('ablate', '--model', model, '--tokenizer', tok, '--targets', 'head:4.2,neuron:3.17', '--prompt', 'Once upon a time there was a little girl named Lily.', '--json');
  assert.equal(a.status, 0, a.stderr);
  const ab = JSON.parse(a.stdout);
  assert.ok(Number.isFinite(ab.delta) && ab.tokens > 5);
});
