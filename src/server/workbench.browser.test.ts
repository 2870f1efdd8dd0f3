// The workbench in a real browser: Debian's chromium driven by playwright-core through the main flows
// (feature page, prompt inspector, steering playground, graph explorer, training page, bad input), with
// screenshots kept in test-artifacts/. A token whose text is HTML must show as text and never run.
// The graph explorer's hover latency on a 5,000-node / 50,000-link graph is measured and reported.
// Skips (with the reason) where chromium is absent; .ci/run installs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../store/index.js';
import { createApp } from './app.js';
import { ARTIFACTS, chromiumSkip as skip, ensureWebBuilt, launchChromium } from './browser.test-helper.js';
import { createUnavailableApp } from './routes/unavailable.js';
import { HTML_TOKEN, makeWorkbenchFixture, SCRIPT_LABEL, type WorkbenchFixture } from './workbench-fixture.test-helper.js';

let fx: WorkbenchFixture;
let store: Store;
let app: FastifyInstance;
let down: FastifyInstance;
let base = '';
let downBase = '';
let browser: Browser;
let page: Page;
const errors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

before(async () => {
  if (skip) return;
  ensureWebBuilt();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fx = await makeWorkbenchFixture();
  store = await Store.open(fx.db);
  app = (await createApp({
    store,
    artifacts: { graphs: [{ name: 'graph.json', path: fx.graph }, { name: 'graph-5000.json', path: fx.bigGraph }], dynamics: [{ name: 'dynamics.json', path: fx.dynamics }], dictionary: null, transcoders: [] },
  })).app;
  base = (await app.listen({ host: '127.0.0.1', port: 0 })) + '/';
  down = await createUnavailableApp('cannot open the feature database /nowhere/f.duckdb: no such file');
  downBase = (await down.listen({ host: '127.0.0.1', port: 0 })) + '/';
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(90_000);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await app?.close();
  await down?.close();
  store?.close();
  fx?.cleanup();
});

/** What the page exposes (the root tsconfig has no DOM types; these run in the page). */
interface PageGlobals {
  __xss?: number;
  __loupeHover?: { handler: number[]; frame: number[] };
  __loupeGraph?: { nodeAt(id: string): { x: number; y: number } | null; shownIds(limit: number): string[] };
  location: { hash: string };
  requestAnimationFrame(cb: () => void): number;
}

const noXss = async (): Promise<void> => assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss ?? null), null, 'markup in a token or label ran');

test('workbench in chromium: feature page, inspector, steering, graph, training, bad input', { skip, timeout: 900_000 }, async (t) => {
  await t.test('GET / serves the app and /api/health answers', async () => {
    const res = await fetch(base + 'api/health');
    assert.deepEqual(await res.json(), { ok: true });
    await page.goto(base);
    await page.getByRole('heading', { name: 'Model overview' }).waitFor();
    await shot('01-overview');
  });

  await t.test('feature page: panels, tokens coloured with values on hover, an HTML token shown as text', async () => {
    await page.goto(`${base}#/feature/${fx.htmlFeature}`);
    await page.locator('#top-examples .tok').first().waitFor();
    for (const title of ['Activation histogram', 'Promotes (top logits)', 'Top activating examples', 'Across the activation range', 'Co-activating features']) {
      await page.getByRole('heading', { name: title }).first().waitFor();
    }
    const tok = page.locator('#top-examples .tok', { hasText: HTML_TOKEN }).first();
    await tok.waitFor();
    assert.equal(await tok.textContent(), HTML_TOKEN);
    assert.equal(await page.locator('#top-examples img').count(), 0, 'the token became an <img> element');
    const tip = await page.locator('#top-examples .tok.peak').first().getAttribute('data-tip');
    assert.match(tip ?? '', /feature \d+: [\d.]+/);
    await page.locator('#top-examples .tok.peak').first().hover();
    await noXss();
    await shot('02-feature-page');
  });

  await t.test('bad feature ids in the URL say what went wrong', async () => {
    await page.goto(`${base}#/feature/abc`);
    await page.getByText('"abc" is not a feature index').waitFor();
    await page.goto(`${base}#/feature/999`);
    await page.getByText('feature 999 is out of range').waitFor();
    await shot('03-feature-out-of-range');
  });

  await t.test('prompt inspector: tokens by feature, click a token for its features, click a feature for its page', async () => {
    await page.goto(`${base}#/inspect?p=${encodeURIComponent('once upon a time the little girl saw a red ball')}`);
    const toks = page.locator('[data-testid=prompt-tokens] .tok');
    await toks.first().waitFor();
    assert.ok((await toks.count()) >= 10);
    await toks.nth(4).click();
    const feats = page.locator('[data-testid=token-features] li a');
    await feats.first().waitFor();
    const label = (await feats.first().textContent())!;
    await shot('04-inspector');
    await feats.first().click();
    await page.getByRole('heading', { name: `Feature ${label}` }).waitFor();
  });

  await t.test('steering playground: the page says why it cannot steer a synthetic database', async () => {
    await page.goto(`${base}#/steer?f=3:4,7:clamp:2`);
    assert.equal(await page.locator('.steer-features tr').count(), 2);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByText('no model to run').waitFor();
    await shot('05-steering-synthetic');
  });

  await t.test('graph explorer: a 5,000-node / 50,000-link graph stays interactive (hover latency reported)', async () => {
    await page.goto(`${base}#/graph?g=1`);
    await page.getByText('of 5,000 nodes').waitFor();
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__loupeGraph?.shownIds(1).length ?? 0) > 0);
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).__loupeHover = { handler: [], frame: [] }));
    const ids = await page.evaluate(() => (globalThis as unknown as PageGlobals).__loupeGraph!.shownIds(100000));
    const pick = Array.from({ length: 40 }, (_, i) => ids[Math.floor(((i + 0.5) * ids.length) / 40)]!);
    for (const id of pick) {
      const p = await page.evaluate((x) => (globalThis as unknown as PageGlobals).__loupeGraph!.nodeAt(x), id);
      assert.ok(p, `node ${id} has no position`);
      await page.mouse.move(p.x, p.y);
      await page.evaluate(() => new Promise<void>((r) => (globalThis as unknown as PageGlobals).requestAnimationFrame(() => (globalThis as unknown as PageGlobals).requestAnimationFrame(() => r()))));
    }
    const hov = await page.evaluate(() => (globalThis as unknown as PageGlobals).__loupeHover!);
    const q = (xs: number[], f: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
    const report = `hover on 5,000 nodes / 50,000 links over ${hov.frame.length} hovers: handler median ${q(hov.handler, 0.5).toFixed(2)} ms, p95 ${q(hov.handler, 0.95).toFixed(2)} ms; event to next frame median ${q(hov.frame, 0.5).toFixed(1)} ms, p95 ${q(hov.frame, 0.95).toFixed(1)} ms, max ${Math.max(...hov.frame).toFixed(1)} ms`;
    t.diagnostic(report);
    process.stderr.write(`workbench: ${report}\n`);
    fs.writeFileSync(path.join(ARTIFACTS, 'hover-latency.txt'), report + '\n');
    assert.ok(hov.frame.length >= 30, `only ${hov.frame.length} hovers registered`);
    assert.ok(q(hov.frame, 0.5) < 100, report);
    await shot('06-graph-5000');
  });

  await t.test('graph explorer: click, pin, supernode, prune; state in the URL survives a reload; labels stay text', async () => {
    await page.goto(`${base}#/graph?g=0`);
    await page.getByTestId('graph-prompt').filter({ hasText: HTML_TOKEN }).waitFor();
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__loupeGraph?.shownIds(1).length ?? 0) > 0);
    assert.equal(await page.getByTestId('graph-prompt').textContent(), `Fact: the${HTML_TOKEN} of Dallas is`);
    const ids = await page.evaluate(() => (globalThis as unknown as PageGlobals).__loupeGraph!.shownIds(100000).filter((id) => /^\d+_\d+_\d+$/.test(id)));
    const click = async (id: string, shift = false): Promise<void> => {
      const p = (await page.evaluate((x) => (globalThis as unknown as PageGlobals).__loupeGraph!.nodeAt(x), id))!;
      if (shift) await page.keyboard.down('Shift');
      await page.mouse.click(p.x, p.y);
      if (shift) await page.keyboard.up('Shift');
    };
    await click(ids[0]!);
    await page.locator('#node-panel').waitFor();
    await page.waitForFunction((id) => (globalThis as unknown as PageGlobals).location.hash.includes(`clicked=${id}`), ids[0]!);
    await page.getByRole('button', { name: 'pin to subgraph' }).click();
    await click(ids[1]!, true);
    await click(ids[2]!, true);
    await page.waitForFunction(() => decodeURIComponent((globalThis as unknown as PageGlobals).location.hash).split('pinned=')[1]?.split('&')[0]?.split(',').length === 3);
    const boxes = page.locator('#subgraph input[type=checkbox]');
    await boxes.nth(1).check();
    await boxes.nth(2).check();
    await page.getByPlaceholder('supernode name').fill('Texas <b>bold</b>');
    await page.getByRole('button', { name: /as supernode/ }).click();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).location.hash.includes('sn='));
    await page.getByTestId('node-threshold').fill('0.5');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).location.hash.includes('nt=0.5'));
    const hash = await page.evaluate(() => (globalThis as unknown as PageGlobals).location.hash);
    await page.reload();
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__loupeGraph?.shownIds(1).length ?? 0) > 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).location.hash), hash);
    await page.getByText('Subgraph (3 pinned, 1 supernodes)').waitFor();
    assert.equal(await page.locator('#subgraph svg text', { hasText: 'Texas <b>bold</b>' }).count(), 1);
    // the node labelled with a script tag: its panel shows the label as text
    const scripted = await page.evaluate(() => (globalThis as unknown as PageGlobals).__loupeGraph!.shownIds(100000));
    await page.evaluate((h) => ((globalThis as unknown as PageGlobals).location.hash = h), `#/graph?g=0&nt=1&clicked=${encodeURIComponent(scripted.find(() => true)!)}`);
    const res = await fetch(base + 'api/graphs/0');
    const g = (await res.json()) as { nodes: { node_id: string; clerp: string }[] };
    const target = g.nodes.find((n) => n.clerp === SCRIPT_LABEL)!;
    await page.evaluate((h) => ((globalThis as unknown as PageGlobals).location.hash = h), `#/graph?g=0&nt=1&clicked=${encodeURIComponent(target.node_id)}`);
    await page.getByTestId('node-label').filter({ hasText: SCRIPT_LABEL }).waitFor();
    await noXss();
    await shot('07-graph-pinned');
  });

  await t.test('training page: dynamics plots', async () => {
    await page.goto(`${base}#/training`);
    await page.getByTestId('dynamics').locator('svg polyline').first().waitFor();
    await shot('08-training');
  });

  await t.test('a database the server cannot open: the page says so', async () => {
    await page.goto(downBase);
    await page.getByText('nowhere/f.duckdb').first().waitFor();
    await shot('09-database-unavailable');
  });

  await noXss();
  assert.deepEqual(errors, [], `errors in the page: ${errors.join('; ')}`);
});
