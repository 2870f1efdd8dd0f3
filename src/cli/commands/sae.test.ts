// `loupe sae` on bad input: one clear line on stderr and a non-zero exit (skipped without ../shared).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../../model/tokenizers/index.js';
import { defaultConfig } from '../../sae/config.js';
import { CFG_FILE, saveSae } from '../../sae/format.js';
import { initializeSae } from '../../sae/init.js';
import { Sae } from '../../sae/sae.js';
import { withRecordedData } from './sae-common.js';

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
    fails([...train, '--hook', 'blocks.2.hook_resid_post', '--arch', 'gated', '--out', path.join(dir, 'd')], /^loupe: architecture "gated" takes no k \(its sparsity comes from an L1 penalty; --k is for .*\); drop --k$/);
    // Penalty settings the architecture does not use are refused like --k, naming who takes them.
    fails([...train, '--hook', 'blocks.2.hook_resid_post', '--l1', '1', '--out', path.join(dir, 'd')], /^loupe: architecture "topk" takes no L1 coefficient \(k fixes its L0; --l1 is for relu, gated, transcoder-relu\); drop --l1$/);
    const noK = train.filter((a, i) => a !== '--k' && train[i - 1] !== '--k');
    fails([...noK, '--hook', 'blocks.2.hook_resid_post', '--arch', 'relu', '--l0', '1', '--out', path.join(dir, 'd')], /"relu" takes no L0 coefficient .*--l0 is for jumprelu\); drop --l0$/);
    fails([...noK, '--hook', 'blocks.2.hook_resid_post', '--arch', 'relu', '--bandwidth', '0.1', '--out', path.join(dir, 'd')], /"relu" takes no straight-through bandwidth .*--bandwidth is for jumprelu/);
    fails([...noK, '--hook', 'blocks.2.hook_resid_post', '--arch', 'jumprelu', '--l1', '1', '--out', path.join(dir, 'd')], /"jumprelu" takes no L1 coefficient .*--l1 is for relu, gated, transcoder-relu/);
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

test('sae sweep applies every training flag it lists to each run, or refuses it', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sae-sweep-'));
  try {
    const hook = ['--hook', 'blocks.2.hook_resid_post'];
    const sweep = (...args: string[]) => ['sae', 'sweep', ...model, '--data', DATA, '--tokens', '2048', '--batch', '1024', '--buffer', '2048', '--eval-tokens', '300', ...args];
    const out = path.join(dir, 'never');
    fails(sweep(...hook, '--arch', 'relu', '--k', '4', '--latents-list', '32', '--out', out), /"relu" takes no k .*drop --k$/);
    fails(sweep(...hook, '--k', '4', '--l0', '1', '--latents-list', '32', '--out', out), /"topk" takes no L0 coefficient .*drop --l0$/);
    fails(sweep(...hook, '--arch', 'jumprelu', '--l1', '1', '--latents-list', '32', '--out', out), /"jumprelu" takes no L1 coefficient/);
    fails(sweep(...hook, '--arch', 'relu', '--bandwidth', '0.1', '--latents-list', '32', '--out', out), /"relu" takes no straight-through bandwidth/);
    fails(sweep(...hook, '--k-list', '4', '--l1-list', '1', '--latents-list', '32', '--out', out), /"topk" takes no L1 coefficient \(--l1-list is for relu, gated, transcoder-relu\); drop --l1-list/);
    fails(sweep(...hook, '--arch', 'relu', '--k-list', '4', '--latents-list', '32', '--out', out), /"relu" takes no k \(--k-list is for .*\); drop --k-list/);
    fails(sweep(...hook, '--k', '4', '--k-list', '4,8', '--latents-list', '32', '--out', out), /--k .* or --k-list, not both/);
    fails(sweep(...hook, '--k', '4', '--skip', '--latents-list', '32', '--out', out), /only transcoders have a skip connection/);
    fails(sweep(...hook, '--k', '4', '--split', 'test', '--latents-list', '32', '--out', out), /split "test" would train on held-out documents/);
    fails(['sae', 'sweep', ...hook, '--cache', path.join(dir, 'c'), '--k', '4', '--latents-list', '32', '--out', out], /give --model, --tokenizer and --data with --cache/);
    assert.ok(!fs.existsSync(out), 'refused before anything was written');
    const latents = loupe(sweep(...hook, '--k', '4', '--latents', '64', '--latents-list', '32', '--out', out));
    assert.notEqual(latents.code, 0);
    assert.match(latents.stderr, /unknown option '--latents'/);

    // Training from a cache (context 32), with every pass-through flag.
    const cache = path.join(dir, 'cache');
    const harvest = ['sae', 'cache', ...model, '--data', DATA, '--tokens', '4096', '--context', '32'];
    assert.equal(loupe([...harvest, ...hook, '--out', cache]).code, 0);
    const s = path.join(dir, 'sweep');
    const r = loupe(
      sweep(...hook, '--cache', cache, '--arch', 'jumprelu', '--l0', '0.5', '--bandwidth', '0.1', '--no-normalize', '--b-dec-init', 'zeros',
        '--dead-tokens', '500', '--checkpoint-every', '1', '--lr', '0.001', '--seed', '3', '--latents-list', '32,64', '--out', s, '--json'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).runs.map((run: { latents: number }) => run.latents), [32, 64]);
    assert.ok(!fs.existsSync(path.join(s, 'activations')), 'no harvest of its own');
    for (const latents of [32, 64]) {
      const cfg = JSON.parse(fs.readFileSync(path.join(s, `latents-${latents}`, CFG_FILE), 'utf8'));
      const o = cfg.loupe.options;
      assert.deepEqual(
        [o.l0Coefficient, o.bandwidth, o.normalizeActivations, o.bDecInit, o.deadTokens, o.lr, o.seed, o.batchSize],
        [0.5, 0.1, false, 'zeros', 500, 0.001, 3, 1024],
      );
      assert.equal(cfg.metadata.activation_cache, cache);
      assert.equal(cfg.metadata.context_size, 32);
      assert.deepEqual(fs.readdirSync(path.join(s, `latents-${latents}`, 'checkpoints')).sort(), ['step-000001', 'step-000002']);
    }
    // --k and --l1 fix one value for every run; --skip reaches a transcoder.
    const tcCache = path.join(dir, 'tc-cache');
    assert.equal(loupe([...harvest, '--hook', 'blocks.2.hook_resid_mid', 'blocks.2.hook_mlp_out', '--out', tcCache]).code, 0);
    const tc = loupe(
      sweep('--cache', tcCache, '--arch', 'transcoder-topk', '--hook-in', 'blocks.2.hook_resid_mid', '--hook-out', 'blocks.2.hook_mlp_out', '--k', '4', '--skip', '--latents-list', '32', '--out', path.join(dir, 'tc'), '--json'),
    );
    assert.equal(tc.code, 0, tc.stderr);
    const tcCfg = JSON.parse(fs.readFileSync(path.join(dir, 'tc', 'latents-32-k4', CFG_FILE), 'utf8'));
    assert.deepEqual([tcCfg.k, tcCfg.skip], [4, true]);
    const relu = loupe(sweep(...hook, '--cache', cache, '--arch', 'relu', '--l1', '0.7', '--latents-list', '32', '--out', path.join(dir, 'relu'), '--json'));
    assert.equal(relu.code, 0, relu.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'relu', 'latents-32-l1_0.7', CFG_FILE), 'utf8')).loupe.options.l1Coefficient, 0.7);

    // A cache of held-out documents, or of another model, is refused.
    const testCache = path.join(dir, 'test-cache');
    assert.equal(loupe([...harvest, ...hook, '--split', 'test', '--out', testCache]).code, 0);
    fails(sweep(...hook, '--cache', testCache, '--k', '4', '--latents-list', '32', '--out', out), /holds the test split .* overlaps the held-out test split/);
    fails(sweep(...hook, '--cache', cache, '--split', 'train', '--k', '4', '--latents-list', '32', '--out', out), /with --cache the training rows are the cache's: drop --split/);
    const manifest = path.join(cache, 'manifest.json');
    fs.writeFileSync(manifest, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifest, 'utf8')), model_name: 'stories15M' }));
    fails(sweep(...hook, '--cache', cache, '--k', '4', '--latents-list', '32', '--out', out), /harvested from model "stories15M", not "stories260K"/);

    // `sae eval` evaluates at the context size the dictionary was trained with, unless told otherwise.
    const evalArgs = ['sae', 'eval', ...model, '--sae', path.join(s, 'latents-32'), '--data', DATA, '--max-tokens', '100', '--json'];
    const recorded = loupe(evalArgs);
    assert.equal(recorded.code, 0, recorded.stderr);
    assert.equal(JSON.parse(recorded.stdout).context_size, 32);
    assert.equal(JSON.parse(loupe([...evalArgs, '--context', '128']).stdout).context_size, 128);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sae train --cache refuses the flags that only say how to harvest, naming them', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sae-train-cache-'));
  try {
    const hook = ['--hook', 'blocks.2.hook_resid_post'];
    const cache = path.join(dir, 'cache');
    assert.equal(loupe(['sae', 'cache', ...model, '--data', DATA, ...hook, '--tokens', '1024', '--context', '32', '--out', cache]).code, 0);
    const out = path.join(dir, 'never');
    const train = (...args: string[]) => ['sae', 'train', '--cache', cache, ...hook, '--latents', '32', '--k', '4', '--tokens', '1024', '--batch', '512', '--buffer', '1024', '--out', out, ...args];
    const refused = (flags: string) => new RegExp(`^loupe: --cache trains from stored activations, .*: drop ${flags} \\(or drop --cache to harvest live\\)$`);
    for (const [flag, value] of [['--context', '64'], ['--split', 'train'], ['--test-fraction', '0.2'], ['--doc-split', 'line'], ['--field', 'text'], ['--data', DATA], ['--model', MODEL], ['--tokenizer', TOK]]) {
      fails(train(flag!, value!), refused(flag!));
    }
    // Given explicitly, even at its default value; several at once are all named.
    fails(train('--context', '128', '--split', 'train'), refused('--split, --context'));
    fails(train(...model, '--data', DATA), refused('--model, --tokenizer, --data'));
    assert.ok(!fs.existsSync(out), 'refused before anything was written');
    // Without them it trains, and records the cache's windows.
    const ok = loupe(train('--json'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).tokens, 1024);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, CFG_FILE), 'utf8')).metadata.context_size, 32);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sae eval --max-tokens stops at exactly that many tokens, cutting the last window', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sae-eval-max-'));
  try {
    const sae = Sae.zeros(defaultConfig({ architecture: 'topk', dIn: 64, dSae: 64, k: 4, hookName: 'blocks.2.hook_resid_post' }));
    initializeSae(sae, { seed: 0 });
    saveSae(sae, path.join(dir, 'sae'));
    const evalJson = (data: string, ...args: string[]) => {
      const r = loupe(['sae', 'eval', ...model, '--sae', path.join(dir, 'sae'), '--data', data, '--context', '32', '--json', ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { tokens: number; predictions: number };
    };
    // Windows of 32 hold 31 tokens after BOS and a model batch is 16 windows (496 tokens): 200 ends inside
    // the first batch, 1000 inside the third, 1 after one token.
    for (const n of [200, 1000, 1]) {
      const r = evalJson(DATA, '--max-tokens', String(n));
      assert.equal(r.tokens, n);
      // Every token is predicted from the one before it; only a document's BOS inside a window adds a prediction.
      assert.ok(r.predictions >= n && r.predictions <= n + Math.ceil(n / 10), `predictions ${r.predictions} for ${n} tokens`);
    }
    // Asking for more than the text holds: every token of it, counted independently of the window code.
    const docs = ['Once upon a time there was a little cat.', 'The dog ran to the park and played with a big red ball all day long until the sun went down.'];
    const small = path.join(dir, 'small.txt');
    fs.writeFileSync(small, docs.join('\n\n') + '\n');
    const tokenizer = await loadTokenizer(TOK);
    const expected = docs.reduce((n, d) => n + tokenizer.encode(d, { bos: false }).length, 0);
    assert.equal(evalJson(small, '--split', 'all', '--max-tokens', '100000').tokens, expected);
    assert.equal(evalJson(small, '--split', 'all').tokens, expected);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('recorded data settings fill the flags left at their defaults', () => {
  const flags = { data: 'a.txt', split: 'test' as const, testFraction: 0.1, docSplit: 'blank-line' as const, context: 128 };
  const recorded = { dataset_path: 'a.txt', context_size: 64, test_fraction: 0.25, document_split: 'line' };
  const none = () => false;
  assert.deepEqual(withRecordedData(flags, none, recorded), { data: { path: 'a.txt', split: 'test', testFraction: 0.25, documentSplit: 'line', field: undefined }, context: 64 });
  // Another file: only the context size (a property of the dictionary's training windows) carries over.
  const other = withRecordedData({ ...flags, data: 'b.txt' }, none, recorded);
  assert.deepEqual([other.context, other.data.testFraction, other.data.documentSplit], [64, 0.1, 'blank-line']);
  // Flags given on the command line win, even when they equal the defaults.
  const given = withRecordedData(flags, () => true, recorded);
  assert.deepEqual([given.context, given.data.testFraction, given.data.documentSplit], [128, 0.1, 'blank-line']);
  // Nothing recorded, or nonsense recorded: the flags.
  assert.equal(withRecordedData(flags, none, {}).context, 128);
  assert.equal(withRecordedData(flags, none, { context_size: 'x', dataset_path: 'a.txt', document_split: 'paragraph' }).data.documentSplit, 'blank-line');
});
