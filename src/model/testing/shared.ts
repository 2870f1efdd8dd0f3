// Paths to the real data in ../shared (a sibling of the repository); tests skip with a message when absent.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/model/testing/ -> repository root
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function sharedPath(relative: string): string | null {
  const p = join(repoRoot, '..', 'shared', relative);
  return existsSync(p) ? p : null;
}

export const STORIES_MODEL = 'models/stories260K/stories260K.bin';
export const STORIES_TOKENIZER = 'models/stories260K/tok512.bin';
export const TINYSTORIES = 'data/tinystories-sample.txt';

/** The skip message tests print when a shared file is missing. */
export function missing(relative: string): string {
  return `../shared/${relative} is not present (real-data test skipped)`;
}
