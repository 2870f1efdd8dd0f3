// `loupe sae` on bad input: one clear line on stderr and a non-zero exit (skipped without ../shared).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../sae/config.js';
import { CFG_FILE, saveSae } from '../../sae/format.js';
import { initializeSae } from '../../sae/init.js';
import { Sae } from '../../sae/sae.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'stories260K', 'stories260K.bin');
const TOK = path.join(SHARED, 'models', 'stories260K', 'tok512.bin');
const DATA = path.join(SHARED, 'data', 'tinystories-sample.txt');
const skip = fs.existsSync(MODEL) && fs.existsSync(DATA) ? false : `needs ${MODEL} and ${DATA}`;

function loupe(args: string[]): { code: number; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'loupe.js'), ...args], { encoding: 'utf8', env: { ...process.env, LOUPE_QUIET: '1' } });
  return { code: r.status ?? -1, stderr: r.stderr, stdout: r.stdout };
}

function fails(args: string[], pattern: RegExp): void {
  const r = loupe(args);
  assert.notEqual(r.code, 0, `expected failure: ${args.join(' ')}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

const model = ['--model', MODEL, '--tokenizer', TOK];

test('sae train and eval refuse bad input with one clear line', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sae-cli-'));
  try {
    const train = ['sae', 'train', ...model, '--data', DATA, '--latents', '64', '--k', '4', '--tokens', '4096', '--batch', '1024', '--buffer', '2048', '--context', '32'];
    fails([...train, '--hook', 'blocks.2.hook_resid_pots', '--out', path.join(dir, 'a')], /unknown hook point "blocks.2.hook_resid_pots" \(closest: blocks.2.hook_resid_post/);
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    fails(['sae', 'train', ...model, '--data', empty, '--hook', 'blocks.2.hook_resid_post', '--k', '4', '--out', path.join(dir, 'b')], /empty/);
    fails([...train, '--hook', 'blocks.2.hook_resid_post', '--arch', 'transcoder-topk', '--out', path.join(dir, 'c')], /--hook-in and --hook-out/);
    fails([...train, '--hook', 'blocks.2.hook_resid_post', '--arch', 'relu', '--out', path.join(dir, 'd')], /takes no k/);
    // A run whose loss blows up: stopped, last good checkpoint named.
    fails([...train, '--hook', 'blocks.2.hook_resid_post', '--lr', '1e38', '--checkpoint-every', '1', '--out', path.join(dir, 'nan')], /diverged.*last good checkpoint is .*step-00000\d/);

    // Dictionaries that do not fit, or whose files disagree with their cfg.json.
    const eval_ = (sae: string) => ['sae', 'eval', ...model, '--sae', sae, '--data', DATA, '--max-tokens', '200', '--context', '32'];
    const wrongWidth = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 32, dSae: 64, k: 4, hookName: 'blocks.2.hook_resid_post' }));
    initializeSae(wrongWidth, { seed: 0 });
    saveSae(wrongWidth, path.join(dir, 'w32'));
    fails(eval_(path.join(dir, 'w32')), /d_in is 32, but blocks.2.hook_resid_post in this model has width 64/);
    const good = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 64, k: 4, hookName: 'blocks.2.hook_resid_post' }));
    initializeSae(good, { seed: 0 });
    saveSae(good, path.join(dir, 'g'));
    const cfgPath = path.join(dir, 'g', CFG_FILE);
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    fs.writeFileSync(cfgPath, JSON.stringify({ ...cfg, architecture: 'gated-topk' }));
    fails(eval_(path.join(dir, 'g')), /unknown SAE architecture "gated-topk"/);
    fs.writeFileSync(cfgPath, JSON.stringify({ ...cfg, d_sae: 128 }));
    fails(eval_(path.join(dir, 'g')), /tensor "W_enc" is \[64, 64\] but cfg.json .* needs \[64, 128\]/);
    fs.writeFileSync(cfgPath, JSON.stringify({ ...cfg, hook_name: 'blocks.9.hook_resid_post', metadata: {} }));
    fails(eval_(path.join(dir, 'g')), /unknown hook point "blocks.9.hook_resid_post"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
