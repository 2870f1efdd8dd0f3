// The workbench on real data, started as a user starts it: `loupe serve` spawned through bin/loupe.js on
// the embedded default (assets/default: a grown llama, a TopK SAE on blocks.1.hook_resid_post and its
// feature database), with a graph that `loupe attribute` wrote for that model. Driven in Debian's chromium:
//   - the feature page shows the database's top examples (tokens and activation values as stored);
//   - the prompt inspector colours a typed prompt by a feature, with the values the model and SAE give
//     when run here, independently of the server;
//   - the steering playground streams baseline and steered continuations side by side, the baseline
//     being exactly the model's greedy continuation;
//   - the graph explorer shows every node and link of the attribute-written GRAPH.json, highlights a
//     hovered node's links and opens a clicked feature's panel;
//   - bad input (unknown feature, prompt over the context, bad parameters) is a 4xx shown on the page.
// Screenshots go to test-artifacts/workbench/real-*.png. Skips (with the reason) where chromium is absent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import '../tensor/backend/native/index.js';
import { randomTranscoderSet } from '../circuits/testing.js';
import type { GraphJson } from '../circuits/graph-json.js';
import { loadDemoAssets } from '../demo/assets.js';
import { featureRecord, openFeatureDb, type FeatureRecord } from '../features/index.js';
import { generate, loadModel, type Transformer } from '../model/index.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizers/index.js';
import { loadSae } from '../sae/format.js';
import { ARTIFACTS, chromiumSkip as skip, ensureWebBuilt, launchChromium, ROOT } from './browser.test-helper.js';

const LOUPE = path.join(ROOT, 'bin', 'loupe.js');
const assets = loadDemoAssets();
const FEATURE = assets.settings.steering.feature;
const INSPECT_PROMPT = 'One day, a little bird flew over the tree and sang a song.';
const GRAPH_PROMPT = 'The little dog ran to the big tree';
const LONG_PROMPT = 'Once upon a time there was a girl. '.repeat(20);

let dir = '';
let server: ChildProcess | null = null;
let serverLog = '';
let base = '';
let browser: Browser;
let page: Page;
let record: FeatureRecord;
let graph: GraphJson;
let model: Transformer;
let tokenizer: Tokenizer;
const errors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `real-${name}.png`), fullPage: true });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `loupe serve ... --json`: resolves with its URL once it listens (its one stdout line). */
function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOUPE, 'serve', ...args, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.once('exit', (code) => reject(new Error(`loupe serve exited (${code}) before listening: ${serverLog}`)));
  });
}

/** What the page exposes (the root tsconfig has no DOM types; these run in the page). */
interface PageGlobals {
  __loupeGraph?: { nodeAt(id: string): { x: number; y: number } | null; shownIds(limit: number): string[]; hovered(): string | null };
  __genSnapshots?: string[];
  location: { hash: string };
  document: {
    querySelector(s: string): ({ textContent: string | null } & { getContext?(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }; width?: number; height?: number }) | null;
    body: unknown;
  };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, o: Record<string, boolean>): void };
}
const G = (): PageGlobals => globalThis as unknown as PageGlobals;

/** fmt() of web/src/util.ts: how the pages print a number. */
function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

before(async () => {
  if (skip) return;
  ensureWebBuilt();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-wb-real-'));
  // A copy, so the shipped database is never written to (serving opens it read-write).
  const db = path.join(dir, 'features.duckdb');
  fs.copyFileSync(assets.db, db);
  // The stored record, read before the server holds the file (one DuckDB process at a time).
  const store = await openFeatureDb(db, { readOnly: true });
  try {
    record = await featureRecord(store, FEATURE);
  } finally {
    store.close();
  }
  model = loadModel(assets.model);
  tokenizer = await loadTokenizer(assets.tokenizer, { vocabSize: model.config.vocabSize });
  // A graph as `loupe attribute` writes it, through transcoders (random weights: exactness holds for any).
  const tc = path.join(dir, 'transcoders');
  randomTranscoderSet(model, { kind: 'per-layer', F: 64, k: 8, seed: 3 }).save(tc);
  const graphFile = path.join(dir, 'graph.json');
  const r = spawnSync(process.execPath, [LOUPE, 'attribute', '--model', assets.model, '--transcoders', tc, '--prompt', GRAPH_PROMPT, '--out', graphFile, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  graph = JSON.parse(fs.readFileSync(graphFile, 'utf8')) as GraphJson;
  const port = await freePort();
  const s = await startServe(['--db', db, '--model', assets.model, '--tokenizer', assets.tokenizer, '--sae', assets.sae, '--graph', graphFile, '--port', String(port)]);
  server = s.child;
  base = s.url + '/';
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => errors.push(e.message));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('loupe serve on the embedded default: real features, inspection, steering, and a graph from loupe attribute', { skip, timeout: 180_000 }, async (t) => {
  await t.test('GET / serves the app and /api/health answers {"ok": true}', async () => {
    const home = await fetch(base);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await home.text(), /<div id="app">|<script/);
    assert.deepEqual(await (await fetch(base + 'api/health')).json(), { ok: true });
    await page.goto(base);
    await page.getByRole('heading', { name: 'Model overview' }).waitFor();
    await page.getByText('blocks.1.hook_resid_post').first().waitFor();
    // the files this server runs (--model, --tokenizer), not the paths recorded where the assets were built
    await page.getByText(assets.model, { exact: false }).first().waitFor();
    await page.getByText(assets.tokenizer, { exact: false }).first().waitFor();
    // search splits a word the vocabulary lacks with that tokenizer (found through --tokenizer)
    const found = (await (await fetch(base + 'api/features/search?query=basket&limit=3')).json()) as { tokens: unknown[]; results: unknown[] };
    assert.ok(found.tokens.length >= 2 && found.results.length > 0, JSON.stringify(found).slice(0, 300));
    await shot('01-overview');
  });

  await t.test(`feature page of feature ${FEATURE}: the database's top examples, token by token with their values`, async () => {
    await page.goto(`${base}#/feature/${FEATURE}`);
    await page.getByRole('heading', { name: `Feature #${FEATURE}` }).waitFor();
    await page.locator('#top-examples .tok').first().waitFor();
    const examples = page.locator('#top-examples .example');
    assert.equal(await examples.count(), Math.min(10, record.top_examples.length));
    for (const k of [0, 1]) {
      const ex = record.top_examples[k]!;
      const row = examples.nth(k);
      assert.equal(await row.locator('.ex-act').textContent(), fmt(ex.activation));
      const shown = await row.locator('.tok').evaluateAll((els) => els.map((e) => ({ act: Number(e.getAttribute('data-act')), tip: e.getAttribute('data-tip') ?? '', peak: e.classList.contains('peak') })));
      assert.equal(shown.length, ex.tokens.length);
      shown.forEach((s, i) => {
        assert.ok(Math.abs(s.act - ex.activations[i]!) < 1e-6, `example ${k} token ${i}: ${s.act} shown, ${ex.activations[i]} stored`);
        assert.ok(s.tip.endsWith(`token ${JSON.stringify(ex.tokens[i])}`), s.tip);
        assert.equal(s.peak, i === ex.position);
      });
    }
    assert.ok(record.top_examples[0]!.activation > 0);
    await page.locator('.stat', { hasText: 'max activation' }).getByText(fmt(record.max_activation), { exact: true }).waitFor();
    assert.equal(await page.locator('.logits li .num').first().textContent(), fmt(record.top_logits[0]!.value));
    assert.ok((await page.locator('svg rect').count()) > 0, 'no activation histogram drawn');
    await shot('02-feature-page');
  });

  await t.test('prompt inspector: a typed prompt coloured by a feature, values as the model and SAE give them here', async () => {
    // The reference: the model run here to the SAE's hook, encoded by the SAE (BOS left out, as the page does).
    const sae = loadSae(assets.sae);
    const ids = tokenizer.encode(INSPECT_PROMPT, { bos: true });
    const acts = sae.encode(model.run([ids], { cache: [sae.cfg.hookName], withGrad: false }).cache.get(sae.cfg.hookName)).data; // [1, T, F]
    const F = sae.dSae;
    let best = { t: 1, f: 0, v: -Infinity };
    for (let t = 1; t < ids.length; t++) for (let f = 0; f < F; f++) if (acts[t * F + f]! > best.v) best = { t, f, v: acts[t * F + f]! };
    const want = Array.from({ length: ids.length - 1 }, (_, i) => acts[(i + 1) * F + best.f]!);

    await page.goto(`${base}#/inspect`);
    await page.locator('textarea[name=prompt]').fill(INSPECT_PROMPT);
    await page.locator('input[name=feature]').fill(String(best.f));
    await page.getByRole('button', { name: 'Inspect' }).click();
    await page.getByRole('heading', { name: `Coloured by feature #${best.f}` }).waitFor();
    const toks = page.locator('[data-testid=prompt-tokens] .tok');
    await toks.first().waitFor();
    const shown = await toks.evaluateAll((els) => els.map((e) => ({ act: Number(e.getAttribute('data-act')), tip: e.getAttribute('data-tip') ?? '', bg: (e as unknown as { style: { background: string } }).style.background })));
    assert.equal(shown.length, ids.length - 1);
    shown.forEach((s, i) => {
      assert.ok(Math.abs(s.act - want[i]!) <= 1e-4 * Math.max(1, best.v), `token ${i}: page ${s.act}, model+SAE ${want[i]}`);
      assert.ok(s.tip.endsWith(`token ${JSON.stringify(tokenizer.decodeToken(ids[i + 1]!, ids[i]))}`), s.tip);
      assert.equal(s.bg === '' || s.bg === 'transparent', !(want[i]! > 0), `token ${i} coloured ${s.bg} for ${want[i]}`);
    });
    assert.ok(want.filter((v) => v > 0).length >= 1);
    // the token where it fires most: its strongest feature is the chosen one
    await toks.nth(best.t - 1).click();
    const first = page.locator('[data-testid=token-features] li').first();
    await first.waitFor();
    assert.equal(await first.locator('a').textContent(), `#${best.f}`);
    assert.equal(await first.locator('.num').textContent(), fmt(best.v));
    await shot('03-inspector');
  });

  await t.test(`steering playground: feature ${FEATURE} (add ${assets.settings.steering.amount}), baseline and steered streamed side by side`, async () => {
    const steer = assets.settings.steering;
    const n = 24;
    const ids = tokenizer.encode(steer.prompt, { bos: true });
    const greedy = generate(model, tokenizer, ids, { maxNewTokens: n, temperature: 0 });
    await page.goto(`${base}#/steer?f=${FEATURE}:${steer.amount}&p=${encodeURIComponent(steer.prompt)}&n=${n}&seed=0&temp=0`);
    assert.equal(await page.locator('.steer-features tr').count(), 1);
    // every state the two columns pass through, to see the tokens arrive one by one
    await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      g.__genSnapshots = [];
      const read = (): string => `${g.document.querySelector('[data-testid=baseline]')?.textContent ?? ''}|${g.document.querySelector('[data-testid=steered]')?.textContent ?? ''}`;
      new g.MutationObserver(() => {
        const s = read();
        if (g.__genSnapshots![g.__genSnapshots!.length - 1] !== s) g.__genSnapshots!.push(s);
      }).observe(g.document.body, { childList: true, subtree: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByText('per-token loss under the unsteered model').waitFor();
    const baseline = (await page.getByTestId('baseline').textContent())!;
    const steered = (await page.getByTestId('steered').textContent())!;
    assert.ok(baseline.startsWith(steer.prompt) && steered.startsWith(steer.prompt));
    assert.equal(baseline.slice(steer.prompt.length).trim(), greedy.text.trim(), 'at temperature 0 the baseline is the model\'s greedy continuation');
    assert.notEqual(steered, baseline, 'steering changed nothing');
    assert.ok(steered.length > steer.prompt.length + 5);
    const snaps = await page.evaluate(() => (globalThis as unknown as PageGlobals).__genSnapshots!);
    const partial = snaps.filter((s) => s.includes('▍'));
    assert.ok(partial.length >= 5, `only ${partial.length} partial states seen: not streamed`);
    await shot('04-steering');
  });

  await t.test('graph explorer: the GRAPH.json that loupe attribute wrote, every node and link, hover and click', async () => {
    const nodeIds = graph.nodes.map((x) => x.node_id);
    assert.ok(graph.nodes.every((x) => x.influence === null || x.influence <= 1));
    await page.goto(`${base}#/graph?g=0&nt=1`);
    await page.getByTestId('graph-prompt').filter({ hasText: GRAPH_PROMPT }).waitFor();
    await page.getByText(`showing ${graph.nodes.length} of ${graph.nodes.length} nodes, ${graph.links.length} of ${graph.links.length} links`).waitFor();
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__loupeGraph?.shownIds(1).length ?? 0) > 0);
    const shown = await page.evaluate(() => (globalThis as unknown as PageGlobals).__loupeGraph!.shownIds(100000));
    assert.deepEqual([...shown].sort(), [...nodeIds].sort());
    assert.equal(await page.locator('.warning').count(), 0, 'the explorer dropped links');

    // hover the feature node with the most links: its links are drawn on the overlay
    const degree = new Map<string, number>();
    for (const l of graph.links) for (const id of [l.source, l.target]) degree.set(id, (degree.get(id) ?? 0) + 1);
    const feats = graph.nodes.filter((x) => x.feature_type === 'cross layer transcoder').sort((a, b) => (degree.get(b.node_id) ?? 0) - (degree.get(a.node_id) ?? 0));
    const hub = feats[0]!;
    const inked = (): Promise<number> =>
      page.evaluate(() => {
        const c = (globalThis as unknown as PageGlobals).document.querySelector('canvas[data-testid=graph-overlay]')!;
        const d = c.getContext!('2d').getImageData(0, 0, c.width!, c.height!).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
    assert.equal(await inked(), 0, 'the overlay is drawn before any hover');
    const p = (await page.evaluate((id) => (globalThis as unknown as PageGlobals).__loupeGraph!.nodeAt(id), hub.node_id))!;
    assert.ok(p, `node ${hub.node_id} has no position`);
    await page.mouse.move(p.x, p.y);
    await page.waitForFunction((id) => (globalThis as unknown as PageGlobals).__loupeGraph!.hovered() === id, hub.node_id);
    await page.locator('.graph-tip', { hasText: `${degree.get(hub.node_id)} links` }).waitFor();
    assert.ok((await inked()) > 200, 'hovering drew no links');
    await shot('05-graph-hover');

    // click it: its panel, with the file's values
    await page.mouse.click(p.x, p.y);
    const panel = page.locator('#node-panel');
    await panel.waitFor();
    await page.waitForFunction((id) => (globalThis as unknown as PageGlobals).location.hash.includes(`clicked=${id}`), hub.node_id);
    await panel.getByRole('heading', { name: `Feature ${hub.feature} · L${hub.layer} @ ${hub.ctx_idx}` }).waitFor();
    assert.equal(await panel.getByTestId('node-label').textContent(), hub.clerp || hub.node_id);
    await panel.locator('tr', { hasText: 'activation' }).getByText(fmt(hub.activation!), { exact: true }).waitFor();
    const inputs = graph.links.filter((l) => l.target === hub.node_id).length;
    const outputs = graph.links.filter((l) => l.source === hub.node_id).length;
    const lists = panel.locator('.grid2.tight > div');
    assert.equal(await lists.nth(0).locator('li').count(), Math.min(8, inputs));
    assert.equal(await lists.nth(1).locator('li').count(), Math.min(8, outputs));
    // the server's database describes the SAE, not these transcoders: no feature page is offered for it
    await panel.getByText('not this graph\'s').waitFor();
    assert.equal(await panel.getByTestId('node-feature').count(), 0);
    // a logit node: its probability as written
    const logit = graph.nodes.find((x) => x.is_target_logit)!;
    await page.evaluate((h) => ((globalThis as unknown as PageGlobals).location.hash = h), `#/graph?g=0&nt=1&clicked=${encodeURIComponent(logit.node_id)}`);
    await panel.getByTestId('node-label').filter({ hasText: logit.clerp }).waitFor();
    await panel.locator('tr', { hasText: 'probability' }).getByText(`${fmt(logit.token_prob)} · target`).waitFor();
    await shot('06-graph-clicked');
  });

  await t.test('bad input is a 4xx whose message the page shows', async () => {
    const post = async (route: string, body: unknown): Promise<{ status: number; message: string }> => {
      const res = await fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
    };
    for (const [route, body, want] of [
      ['api/features/inspect', { prompt: LONG_PROMPT }, /longer than the model's context of 128/],
      ['api/features/inspect', { prompt: 'a dog', features: [99999] }, /feature 99999 is out of range: this dictionary has 512 features/],
      ['api/steer/stream', { prompt: 'a dog', interventions: [{ feature: 99999, mode: 'add' }] }, /feature 99999 is outside the dictionary/],
      ['api/steer/stream', { prompt: LONG_PROMPT, interventions: [{ feature: FEATURE, mode: 'add' }] }, /the model's context is 128 tokens/],
      ['api/steer/stream', { prompt: 'a dog', interventions: [{ feature: FEATURE, mode: 'add' }], max_new_tokens: 500 }, /max_new_tokens must be <= 128/],
      ['api/steer/stream', { prompt: 'a dog', interventions: [{ feature: FEATURE, mode: 'boost' }] }, /mode must be equal to one of the allowed values/],
    ] as const) {
      const r = await post(route, body);
      assert.equal(r.status, 400, `${route} ${JSON.stringify(body).slice(0, 80)}: ${r.status} ${r.message}`);
      assert.match(r.message, want);
    }
    const missing = await fetch(base + 'api/features/99999');
    assert.equal(missing.status, 404);

    await page.goto(`${base}#/feature/99999`);
    await page.getByText('feature 99999 is out of range: this dictionary has 512 features (0-511)').waitFor();
    await page.goto(`${base}#/inspect?p=${encodeURIComponent(LONG_PROMPT)}`);
    await page.getByRole('alert').filter({ hasText: 'The prompt could not be inspected' }).getByText(/longer than the model's context of 128 tokens/).waitFor();
    await shot('07-inspector-too-long');
    await page.goto(`${base}#/inspect?p=${encodeURIComponent('a dog')}&feature=9999`);
    await page.getByText('"9999" is not a feature of this dictionary (0-511)').waitFor();
    await page.goto(`${base}#/steer?f=${FEATURE}:4&p=${encodeURIComponent(LONG_PROMPT)}&n=8`);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('alert').filter({ hasText: 'Steering failed' }).getByText(/the model's context is 128 tokens/).waitFor();
    await shot('08-steering-too-long');
    await page.goto(`${base}#/steer?f=${FEATURE}:4&p=${encodeURIComponent('a dog')}&n=500`);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('alert').filter({ hasText: 'Steering failed' }).getByText(/max_new_tokens must be <= 128/).waitFor();
    await page.goto(`${base}#/steer?f=9999:4`);
    await page.getByText('feature 9999 is out of range').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Generate' }).isDisabled(), true);
    await page.goto(`${base}#/graph?g=7`);
    await page.getByText('no graph 7: this server has 1 (0-0)').waitFor();
  });

  assert.deepEqual(errors, [], `errors in the page: ${errors.join('; ')}`);
  assert.doesNotMatch(serverLog, /internal error|Error:/, serverLog);
});
