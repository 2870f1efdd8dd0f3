// Opening an ActivationSource from paths (as given on the command line or recorded in a database), and
// the check that a database's features were computed by exactly that source.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizers/index.js';
import { CFG_FILE, WEIGHTS_FILE } from '../sae/format.js';
import { sha256Files, sha256Path } from './identity.js';
import type { Store } from '../store/index.js';
import { storedIdentity, checkIdentity } from './registry.js';
import type { ActivationSource } from './source.js';
import { SyntheticSource, SyntheticTokenizer } from './synthetic.js';

export interface SourcePaths {
  model: string;
  tokenizer: string;
  dictionary: string;
}

/** A loader for real checkpoints, installed by the module that knows the model and SAE runtimes. */
export type SourceLoader = (paths: SourcePaths) => Promise<ActivationSource>;

let modelLoader: SourceLoader | null = null;

export function setModelSourceLoader(loader: SourceLoader): void {
  modelLoader = loader;
}

/** A source from paths: "synthetic:..." URIs, or model / tokenizer / dictionary files. */
export async function loadSource(paths: SourcePaths): Promise<ActivationSource> {
  if (paths.model.startsWith('synthetic')) {
    if (!paths.dictionary.startsWith('synthetic')) throw new InputError(`a synthetic model needs a synthetic dictionary, got ${paths.dictionary}`);
    return SyntheticSource.fromUris(paths.model, paths.dictionary);
  }
  if (!modelLoader) {
    const { loadModelSource } = await import('./model-source.js');
    modelLoader = loadModelSource;
  }
  return modelLoader(paths);
}

/**
 * The source a database was built from, loaded from its recorded paths (or the given overrides, e.g.
 * after moving the files) and checked against the recorded content hashes.
 */
export async function sourceForStore(store: Store, overrides: Partial<SourcePaths> = {}): Promise<ActivationSource> {
  const stored = await storedIdentity(store);
  if (!stored) throw new InputError(`${store.path} holds no features yet (run \`loupe features build\` first)`);
  const paths: SourcePaths = {
    model: overrides.model ?? (await locate(stored.model.path, stored.model.sha256, store.path, sha256Path)),
    tokenizer: overrides.tokenizer ?? (await locate(stored.tokenizer.path, stored.tokenizer.sha256, store.path, sha256Path)),
    dictionary: overrides.dictionary ?? (await locate(stored.dictionary.path, stored.dictionary.sha256, store.path, (d) => sha256Files(d, [CFG_FILE, WEIGHTS_FILE]))),
  };
  const source = await loadSource(paths);
  checkIdentity(stored, source.identity, store.path);
  return source;
}

/**
 * The tokenizer a database was built with, loaded alone (no model), from its recorded path or `override`
 * (where it moved: `loupe serve --tokenizer`), or null when that file is gone or not the recorded one:
 * callers that can do without (search) fall back to the stored vocabulary.
 */
export async function tokenizerForStore(store: Store, override?: string): Promise<Tokenizer | null> {
  const stored = await storedIdentity(store);
  if (!stored) return null;
  try {
    const p = override ?? (await locate(stored.tokenizer.path, stored.tokenizer.sha256, store.path, sha256Path));
    if (p === 'synthetic') return new SyntheticTokenizer();
    if ((await sha256Path(p)) !== stored.tokenizer.sha256) return null;
    return await loadTokenizer(p, { vocabSize: stored.model.vocabSize });
  } catch {
    return null;
  }
}

/**
 * Where a recorded file is now: the recorded path when its content still matches, else the same content
 * beside the database, found by joining the recorded path's trailing parts to the database's folder
 * (assets moved together, e.g. a database built in /tmp/x/ and shipped in assets/default/). The content
 * hash decides.
 */
async function locate(recorded: string, sha256: string, dbPath: string, hash: (p: string) => Promise<string>): Promise<string> {
  if (recorded.startsWith('synthetic')) return recorded;
  const matches = async (p: string): Promise<boolean> => {
    try {
      return (await hash(p)) === sha256;
    } catch {
      return false;
    }
  };
  if (await matches(recorded)) return recorded;
  const parts = path.resolve(recorded).split(path.sep).filter(Boolean);
  const base = path.dirname(path.resolve(dbPath));
  let existing: string | null = null;
  for (let i = parts.length - 1; i >= 0; i--) {
    const candidate = path.join(base, ...parts.slice(i));
    if (candidate === path.resolve(recorded) || !fs.existsSync(candidate)) continue;
    if (await matches(candidate)) return candidate;
    existing ??= candidate;
  }
  // Nothing has the recorded content: the recorded path if it is there, else the moved copy, so the
  // identity check says what changed rather than that a file is missing.
  return fs.existsSync(recorded) || !existing ? recorded : existing;
}
