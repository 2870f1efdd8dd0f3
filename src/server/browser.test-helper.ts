// Shared by the browser tests: where chromium is (and the skip reason where it is not), the shipped web
// build (rebuilt when web/src is newer), and a headless chromium launched the same way everywhere.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { defaultWebRoot } from './static.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'workbench');
export const CHROMIUM = process.env.LOUPE_CHROMIUM ?? '/usr/bin/chromium';
/** false where chromium is installed, else the reason the browser tests skip. */
export const chromiumSkip: string | false = !fs.existsSync(CHROMIUM) ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set LOUPE_CHROMIUM); browser tests skipped` : false;

/** The shipped build, rebuilt when web/src is newer (a clean checkout without `npm run build:web`). */
export function ensureWebBuilt(): void {
  const index = path.join(defaultWebRoot(), 'index.html');
  const newest = (dir: string): number => Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= newest(path.join(ROOT, 'web', 'src'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'web', 'vite.config.ts')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr || r.stdout}`);
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
