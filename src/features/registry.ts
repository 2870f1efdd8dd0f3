// A feature database belongs to one model and one dictionary. The first build records them (paths,
// sizes, content hashes, the vocabulary as displayed); every later command checks a source against that
// record, so features are never mixed with, or recomputed by, a different dictionary.
import { LoupeError } from '../errors.js';
import { Col, type Store } from '../store/index.js';
import type { ActivationSource, SourceIdentity } from './source.js';

/** A model or dictionary that is not the one a database was built from. */
export class SourceMismatchError extends LoupeError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('source_mismatch', message, details);
  }
}

interface ModelRow {
  path: string;
  sha256: string;
  tokenizer_path: string;
  tokenizer_sha256: string;
  architecture: string;
  d_model: number;
  n_layers: number;
  vocab_size: number;
}
interface DictionaryRow {
  path: string;
  sha256: string;
  architecture: string;
  hook_name: string;
  hook_name_out: string | null;
  d_in: number;
  n_features: number;
}

/** The identity recorded in a database, or null for a fresh one. */
export async function storedIdentity(store: Store): Promise<SourceIdentity | null> {
  const [m] = await store.all<ModelRow>(`SELECT * FROM models WHERE id = 1`);
  const [d] = await store.all<DictionaryRow>(`SELECT * FROM dictionaries WHERE id = 1`);
  if (!m || !d) return null;
  return {
    model: { path: m.path, sha256: m.sha256, architecture: m.architecture, dModel: m.d_model, nLayers: m.n_layers, vocabSize: m.vocab_size },
    tokenizer: { path: m.tokenizer_path, sha256: m.tokenizer_sha256 },
    dictionary: {
      path: d.path,
      sha256: d.sha256,
      architecture: d.architecture,
      hookName: d.hook_name,
      hookNameOut: d.hook_name_out,
      dIn: d.d_in,
      nFeatures: d.n_features,
    },
  };
}

/** Throws SourceMismatchError unless `actual` has the recorded dictionary, model and tokenizer contents. */
export function checkIdentity(stored: SourceIdentity, actual: SourceIdentity, dbPath: string): void {
  const s = stored.dictionary;
  const a = actual.dictionary;
  if (s.sha256 !== a.sha256) {
    throw new SourceMismatchError(
      `${dbPath} holds features of another dictionary: it was built from ${s.path} (${s.nFeatures} features at ${s.hookName}, sha256 ${s.sha256.slice(0, 12)}), ` +
        `but ${a.path} is ${a.nFeatures} features at ${a.hookName}, sha256 ${a.sha256.slice(0, 12)}; use a new --db for this dictionary`,
      { expected: s, found: a },
    );
  }
  if (stored.model.sha256 !== actual.model.sha256) {
    throw new SourceMismatchError(
      `${dbPath} was built with the model ${stored.model.path} (sha256 ${stored.model.sha256.slice(0, 12)}), but ${actual.model.path} has sha256 ${actual.model.sha256.slice(0, 12)}`,
      { expected: stored.model, found: actual.model },
    );
  }
  if (stored.tokenizer.sha256 !== actual.tokenizer.sha256) {
    throw new SourceMismatchError(
      `${dbPath} was built with the tokenizer ${stored.tokenizer.path} (sha256 ${stored.tokenizer.sha256.slice(0, 12)}), but ${actual.tokenizer.path} has sha256 ${actual.tokenizer.sha256.slice(0, 12)}`,
      { expected: stored.tokenizer, found: actual.tokenizer },
    );
  }
}

/** Records the source in a fresh database (with its vocabulary), or checks it against the record. */
export async function recordSource(store: Store, source: ActivationSource): Promise<void> {
  const stored = await storedIdentity(store);
  if (stored) {
    checkIdentity(stored, source.identity, store.path);
    return;
  }
  const { model: m, tokenizer: t, dictionary: d } = source.identity;
  await store.transaction(async () => {
    await store.run(`INSERT INTO models VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)`, [
      m.path, m.sha256, t.path, t.sha256, m.architecture, m.dModel, m.nLayers, m.vocabSize,
    ]);
    await store.run(`INSERT INTO dictionaries VALUES (1, 1, ?, ?, ?, ?, ?, ?, ?, current_timestamp)`, [
      d.path, d.sha256, d.architecture, d.hookName, d.hookNameOut, d.dIn, d.nFeatures,
    ]);
    await writeVocab(store, source);
  });
}

async function writeVocab(store: Store, source: ActivationSource): Promise<void> {
  const tok = source.tokenizer;
  const V = tok.vocabSize;
  // A plain (non-special) token to stand before each token, so `text` is its mid-text form.
  let plain = 0;
  while (plain < V && tok.isSpecial(plain)) plain++;
  const ids: number[] = [];
  const pieces: string[] = [];
  const texts: string[] = [];
  const firsts: string[] = [];
  for (let id = 0; id < V; id++) {
    ids.push(id);
    pieces.push(safe(() => tok.tokenString(id)));
    texts.push(safe(() => tok.decodeToken(id, plain)));
    firsts.push(safe(() => tok.decodeToken(id, tok.bosId ?? undefined)));
  }
  await store.append('vocab', [Col.int(ids), Col.varchar(pieces), Col.varchar(texts), Col.varchar(firsts)]);
}

function safe(fn: () => string): string {
  try {
    return fn();
  } catch {
    return '';
  }
}
