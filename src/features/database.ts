// Reading a feature database: what it was built from and how (the BOS policy decides how stored
// sequences map to displayed tokens), the vocabulary as displayed, and range checks on feature indices.
import { InputError } from '../errors.js';
import { Store } from '../store/index.js';
import { storedIdentity } from './registry.js';
import type { SourceIdentity } from './source.js';

export interface DatabaseInfo {
  path: string;
  identity: SourceIdentity;
  nFeatures: number;
  build: {
    status: string;
    dataPath: string;
    tokens: number;
    target: number;
    sequences: number;
    context: number;
    /** Sequences start with BOS, and that position is left out of statistics and of displayed tokens. */
    bos: boolean;
    seconds: number | null;
    tokensPerSecond: number | null;
    finishedAt: string | null;
  } | null;
}

/** Opens an existing feature database (never creates one). */
export async function openFeatureDb(path: string, opts: { readOnly?: boolean } = {}): Promise<Store> {
  return Store.open(path, { readOnly: opts.readOnly ?? false, create: false });
}

export async function databaseInfo(store: Store): Promise<DatabaseInfo> {
  const identity = await storedIdentity(store);
  if (!identity) throw new InputError(`${store.path} holds no features yet (run \`loupe features build\` first)`, { path: store.path });
  const [b] = await store.all<Record<string, unknown>>(`SELECT * FROM builds WHERE id = 1`);
  let build: DatabaseInfo['build'] = null;
  if (b) {
    const params = JSON.parse(String(b.params)) as { context: number; bos: boolean };
    build = {
      status: String(b.status),
      dataPath: String(b.data_path),
      tokens: Number(b.tokens_done),
      target: Number(b.tokens_target),
      sequences: Number(b.sequences_done),
      context: params.context,
      bos: params.bos,
      seconds: b.seconds === null ? null : Number(b.seconds),
      tokensPerSecond: b.tokens_per_second === null ? null : Number(b.tokens_per_second),
      finishedAt: b.finished_at ? String(b.finished_at) : null,
    };
  }
  return { path: store.path, identity, nFeatures: identity.dictionary.nFeatures, build };
}

type BuiltInfo = DatabaseInfo & { build: NonNullable<DatabaseInfo['build']> };

// A finished build does not change under an open Store (DuckDB lets no other process write while it is
// open, and buildFeatures forgets the entry), so read paths ask the database once per Store.
const builtCache = new WeakMap<Store, BuiltInfo>();

export function forgetBuiltInfo(store: Store): void {
  builtCache.delete(store);
}

/** databaseInfo, requiring a finished build. */
export async function builtInfo(store: Store): Promise<BuiltInfo> {
  const hit = builtCache.get(store);
  if (hit) return hit;
  const info = await databaseInfo(store);
  if (!info.build) throw new InputError(`${store.path} holds no build yet (run \`loupe features build\`)`);
  if (info.build.status !== 'done') {
    throw new InputError(`the build in ${store.path} is not finished (${info.build.tokens} of ${info.build.target} tokens); rerun \`loupe features build\` with the same arguments to resume it`);
  }
  builtCache.set(store, info as BuiltInfo);
  return info as BuiltInfo;
}

export function checkFeature(feature: number, nFeatures: number): void {
  if (!Number.isInteger(feature) || feature < 0 || feature >= nFeatures) {
    throw new InputError(`feature ${feature} is out of range: this dictionary has ${nFeatures} features (0-${nFeatures - 1})`, { feature, nFeatures });
  }
}

/** Parses "0-49", "3", "1,5,9-12" into sorted unique indices, each checked against nFeatures. */
export function parseFeatureList(spec: string, nFeatures: number): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new InputError(`bad feature list "${spec}": expected indices and ranges like 0-49,60,70-80`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InputError(`bad feature range "${part}": the end is before the start`);
    checkFeature(a, nFeatures);
    checkFeature(b, nFeatures);
    for (let f = a; f <= b; f++) out.add(f);
  }
  if (out.size === 0) throw new InputError(`feature list "${spec}" names no features`);
  return [...out].sort((x, y) => x - y);
}

/** Token display strings, read once per store. */
export interface Vocab {
  piece: string[];
  text: string[];
  textFirst: string[];
}

const vocabCache = new WeakMap<Store, Vocab>();

export async function loadVocab(store: Store): Promise<Vocab> {
  const hit = vocabCache.get(store);
  if (hit) return hit;
  const rows = await store.all<{ token_id: number; piece: string; text: string; text_first: string }>(`SELECT * FROM vocab ORDER BY token_id`);
  const v: Vocab = { piece: [], text: [], textFirst: [] };
  for (const r of rows) {
    v.piece[r.token_id] = r.piece;
    v.text[r.token_id] = r.text;
    v.textFirst[r.token_id] = r.text_first;
  }
  vocabCache.set(store, v);
  return v;
}

/** Display strings of a token sequence: the first token in its start-of-text form. */
export function displayTokens(vocab: Vocab, ids: readonly number[]): string[] {
  return ids.map((id, i) => (i === 0 ? vocab.textFirst[id] : vocab.text[id]) ?? `<${id}>`);
}
