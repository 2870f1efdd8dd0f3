// `loupe features ...` and `loupe serve` end to end on the synthetic source (no checkpoint files, no
// network): JSON outputs of the documented shape, and one-line errors with a non-zero exit.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCorpus } from '../../features/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const loupe = path.join(root, 'bin', 'loupe.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-cli-features-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const corpus = path.join(dir, 'c.txt');
fs.writeFileSync(corpus, syntheticCorpus(400));
const db = path.join(dir, 'f.duckdb');
const env = { ...process.env, LOUPE_QUIET: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' };
const run = (...args: string[]): unknown => JSON.parse(execFileSync(process.execPath, [loupe, 'features', ...args], { encoding: 'utf8', env }));
const fail = (...args: string[]): { status: number | null; stderr: string } => spawnSync(process.execPath, [loupe, ...args], { encoding: 'utf8', env });
const source = ['--model', 'synthetic:seed=1,d=16', '--tokenizer', 'synthetic', '--sae', 'synthetic:features=64,seed=2'];

test('build, show, inspect, search, explain, score, export with --json', () => {
  const b = run('build', ...source, '--data', corpus, '--tokens', '3000', '--context', '16', '--db', db, '--json') as { status: string; tokensPerSecond: number };
  assert.equal(b.status, 'done');
  assert.ok(b.tokensPerSecond > 0);
  const rec = run('show', '--db', db, '--feature', '3', '--json') as Record<string, unknown> & { top_examples: { text: string; position: number; activation: number; tokens: string[]; activations: number[] }[] };
  for (const k of ['feature', 'density', 'max_activation', 'top_examples', 'bins', 'histogram', 'top_logits', 'bottom_logits', 'coactivating', 'similar', 'explanations']) assert.ok(k in rec, k);
  const ex = rec.top_examples[0]!;
  const ins = run('inspect', '--db', db, '--prompt', ex.text, '--json') as { tokens: { token: string; features: { feature: number; activation: number }[] }[] };
  assert.equal(ins.tokens.length, ex.tokens.length);
  const got = ins.tokens[ex.position]!.features.find((f) => f.feature === 3);
  assert.ok(got && Math.abs(got.activation - ex.activation) < 1e-3);
  const s = run('search', '--db', db, '--query', 'cat', '--json') as { results: { feature: number; evidence: string[] }[] };
  assert.ok(s.results.length > 0);
  execFileSync(process.execPath, [loupe, 'features', 'explain', '--db', db, '--provider', 'offline', '--features', '0-49'], { env });
  const sc = run('score', '--db', db, '--provider', 'offline', '--features', '0-49', '--json') as { features: { feature: number; scores: Record<string, number | null> }[]; mean: Record<string, number> };
  assert.equal(sc.features.length, 50);
  assert.ok(sc.features.some((f) => typeof f.scores.detection === 'number'));
  assert.ok(typeof sc.mean.fuzzing === 'number');
  const exp = run('export', '--db', db, '--out', path.join(dir, 'pq'), '--json') as { files: { table: string; rows: number }[] };
  assert.ok(exp.files.find((f) => f.table === 'examples')!.rows > 0);
});

test('bad input: one line on stderr, exit 1, nothing stored is lost', () => {
  const cases: [string[], RegExp][] = [
    [['features', 'show', '--db', db, '--feature', '64'], /feature 64 is out of range: this dictionary has 64 features/],
    [['features', 'explain', '--db', db, '--provider', 'openai', '--features', '0-3'], /OPENAI_API_KEY/],
    [['features', 'build', '--model', 'synthetic:seed=1,d=16', '--tokenizer', 'synthetic', '--sae', 'synthetic:features=64,seed=5', '--data', corpus, '--tokens', '100', '--db', db], /holds features of another dictionary/],
    [['features', 'inspect', '--db', db, '--prompt', 'cat', '--sae', 'synthetic:features=64,seed=5'], /another dictionary/],
    [['features', 'show', '--db', path.join(dir, 'nope.duckdb'), '--feature', '0'], /no such feature database/],
    [['features', 'score', '--db', db, '--provider', 'offline', '--features', '0-99'], /feature 99 is out of range/],
  ];
  for (const [args, re] of cases) {
    const r = fail(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const rec = run('show', '--db', db, '--feature', '3', '--json') as { explanations: unknown[] };
  assert.ok(rec.explanations.length >= 1, 'explanations survive the failed runs');
});

test('loupe serve binds 127.0.0.1 and answers /api/health', async () => {
  const child = spawn(process.execPath, [loupe, 'serve', '--db', db, '--port', '0', '--read-only', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const { url } = JSON.parse(line) as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await (await fetch(`${url}/api/health`)).json(), { ok: true });
    const f = (await (await fetch(`${url}/api/features/3`)).json()) as { feature: number };
    assert.equal(f.feature, 3);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
});
