// The circuits commands end to end through bin/loupe.js (attribute, intervene, transcoders info): the
// documented JSON summaries, the exactness check from the written file, and one-line errors for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomTranscoderSet } from '../../circuits/testing.js';
import { loadModel } from '../../model/index.js';
import { tempDir } from '../../model/testing/fixtures.js';
import { smallModel } from '../../model/testing/models.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = join(root, 'bin', 'loupe.js');
const modelPath = join(root, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
const tok = join(root, '..', 'shared', 'models', 'stories260K', 'tok512.bin');
const skip = existsSync(modelPath) && existsSync(tok) ? false : 'needs ../shared/models/stories260K';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [loupe, ...args], { encoding: 'utf8' });
}

const dir = tempDir('circuits-cli');
const tc = join(dir, 'tc');
const prompt = 'Once upon a time, there was a little girl named Lily';
if (!skip) randomTranscoderSet(loadModel(modelPath), { kind: 'per-layer', F: 64, k: 8 }).save(tc);
const common = ['--model', modelPath, '--tokenizer', tok, '--transcoders', tc];

test('loupe attribute --no-prune --check --json: the summary, and exactness recomputed from the file', { skip }, () => {
  const out = join(dir, 'g.json');
  const r = run('attribute', ...common, '--prompt', prompt, '--out', out, '--no-prune', '--check', '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['nodes', 'edges', 'replacement_score', 'completeness_score', 'seconds', 'peak_rss_mb']) assert.equal(typeof s[k], 'number', k);
  assert.ok(s.check.checked > 0 && s.check.maxRelError < 1e-4, JSON.stringify(s.check));
  const g = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(g.nodes.length, s.nodes);
  assert.equal(g.links.length, s.edges);
  const pruned = JSON.parse(run('attribute', ...common, '--prompt', prompt, '--out', join(dir, 'p.json'), '--json').stdout);
  assert.ok(pruned.edges < s.edges && pruned.nodes < s.nodes);
});

test('loupe attribute: bad input is one line and a non-zero exit', { skip }, () => {
  const out = join(dir, 'bad.json');
  const cases: [string[], RegExp][] = [
    [['--node-threshold', '0'], /--node-threshold must be in \(0, 1\], got "0"/],
    [['--edge-threshold', '1.5'], /--edge-threshold must be in \(0, 1\], got "1.5"/],
    [['--prompt', 'Once upon a time '.repeat(200)], /the prompt is \d+ tokens, longer than the model's context of 512/],
  ];
  for (const [extra, want] of cases) {
    const r = run('attribute', ...common, '--prompt', prompt, '--out', out, ...extra);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const other = join(dir, 'tc-other');
  randomTranscoderSet(smallModel('llama-gqa'), { kind: 'clt' }).save(other);
  const m = run('attribute', '--model', modelPath, '--tokenizer', tok, '--transcoders', other, '--prompt', prompt, '--out', out);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /the transcoders do not match the model: they cover 2 layers, the model has 5/);
});

test('loupe intervene --json: logits before and after; inactive and missing features refused', { skip }, () => {
  const g = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8'));
  const node = g.nodes.find((n: { feature_type: string; layer: string }) => n.feature_type === 'cross layer transcoder' && n.layer === '3');
  const spec = `3:${node.ctx_idx}:${node.feature}`;
  const r = run('intervene', ...common, '--prompt', prompt, '--set', `${spec}=0`, '--freeze-attention', '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.before.length, 10);
  assert.equal(s.after.length, 10);
  assert.equal(s.interventions[0].clean_activation.toFixed(4), node.activation.toFixed(4));
  assert.ok(s.changes.some((c: { logit_before: number; logit_after: number }) => c.logit_before !== c.logit_after));
  const missing = run('intervene', ...common, '--prompt', prompt, '--set', '3:2:64=1');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /feature 64 does not exist \(layer 3 has features 0-63\)/);
  const active = new Set(g.nodes.filter((n: { layer: string; ctx_idx: number; feature_type: string }) => n.layer === '3' && n.ctx_idx === 2 && n.feature_type === 'cross layer transcoder').map((n: { feature: number }) => n.feature));
  const inactive = Array.from({ length: 64 }, (_, i) => i).find((i) => !active.has(i));
  const off = run('intervene', ...common, '--prompt', prompt, '--set', `3:2:${inactive}=1`);
  assert.equal(off.status, 1);
  assert.match(off.stderr, /is not active at layer 3, position 2/);
});

test('loupe transcoders info --json', { skip }, () => {
  const r = run('transcoders', 'info', tc, '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.kind, 'per-layer');
  assert.deepEqual(s.features, [64, 64, 64, 64, 64]);
});
