// What route handlers share: the open feature database, one lock that serialises its queries (one
// DuckDB connection), the activation source for live inspection (loaded on first use, checked against
// the database's recorded hashes), and which explanation providers this server may call.
import { Limiter } from '../autointerp/http.js';
import { sourceForStore, tokenizerForStore, type ActivationSource, type SourcePaths } from '../features/index.js';
import type { Tokenizer } from '../model/tokenizers/index.js';
import type { Store } from '../store/index.js';

export interface ServerContext {
  store: Store;
  lock: Limiter;
  /** Runs fn with the database to itself. */
  db<T>(fn: () => Promise<T>): Promise<T>;
  source(): Promise<ActivationSource>;
  /** The recorded tokenizer alone (null when unavailable), for search. */
  tokenizer(): Promise<Tokenizer | null>;
  /** Providers the explain/score endpoints accept (HTTP ones spend the server's API keys). */
  providers: readonly string[];
  readOnly: boolean;
}

export function createContext(store: Store, opts: { sourcePaths?: Partial<SourcePaths>; providers?: readonly string[] }): ServerContext {
  const lock = new Limiter(1);
  let source: Promise<ActivationSource> | null = null;
  let tokenizer: Promise<Tokenizer | null> | null = null;
  return {
    store,
    lock,
    db: (fn) => lock.run(fn),
    source() {
      if (!source) {
        source = lock.run(() => sourceForStore(store, opts.sourcePaths));
        source.catch(() => (source = null)); // a failed load is retried on the next request
      }
      return source;
    },
    tokenizer() {
      tokenizer ??= lock.run(() => tokenizerForStore(store, opts.sourcePaths?.tokenizer));
      return tokenizer;
    },
    providers: opts.providers ?? ['offline'],
    readOnly: store.readOnly,
  };
}
