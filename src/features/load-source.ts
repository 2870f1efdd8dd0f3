// Opening an ActivationSource from paths (as given on the command line or recorded in a database), and
// the check that a database's features were computed by exactly that source.
import { InputError } from '../errors.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizers/index.js';
import { sha256Path } from './identity.js';
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
    model: overrides.model ?? stored.model.path,
    tokenizer: overrides.tokenizer ?? stored.tokenizer.path,
    dictionary: overrides.dictionary ?? stored.dictionary.path,
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
  const p = override ?? stored.tokenizer.path;
  try {
    if (p === 'synthetic') return new SyntheticTokenizer();
    if ((await sha256Path(p)) !== stored.tokenizer.sha256) return null;
    return await loadTokenizer(p, { vocabSize: stored.model.vocabSize });
  } catch {
    return null;
  }
}
