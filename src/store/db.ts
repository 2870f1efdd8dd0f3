// A thin, typed layer over one embedded DuckDB file: open (creating the schema), query into plain JS
// values, run a block in a transaction, and bulk-append rows through DuckDB data chunks (per-value
// appender calls cost ~100 us per list-valued row; a chunk of 2048 rows costs about as much as ten).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BIGINT,
  BLOB,
  DOUBLE,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  FLOAT,
  INTEGER,
  LIST,
  VARCHAR,
  blobValue,
  listValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { InputError, LoupeError } from '../errors.js';
import { SCHEMA_VERSION, schemaStatements } from './schema.js';

export interface OpenStoreOptions {
  /** Open without write access (several readers may share a file no writer holds). */
  readOnly?: boolean;
  /** Create the file when it does not exist (default: true unless readOnly). */
  create?: boolean;
}

/** A parameter value for a query: numbers, strings, booleans, null, byte arrays and number lists. */
export type SqlParam = number | string | boolean | null | bigint | Uint8Array | readonly number[];

/** A column of a bulk append: its DuckDB type and one JS value per row. */
export interface AppendColumn {
  type: DuckDBType;
  values: readonly unknown[];
}

/** Column builders for Store.append, so callers never touch DuckDB types. Null entries stay NULL. */
export const Col = {
  int: (values: readonly (number | null)[]): AppendColumn => ({ type: INTEGER, values }),
  bigint: (values: readonly (number | null)[]): AppendColumn => ({ type: BIGINT, values: values.map((v) => (v === null ? null : BigInt(Math.round(v)))) }),
  float: (values: readonly (number | null)[]): AppendColumn => ({ type: FLOAT, values }),
  double: (values: readonly (number | null)[]): AppendColumn => ({ type: DOUBLE, values }),
  varchar: (values: readonly (string | null)[]): AppendColumn => ({ type: VARCHAR, values }),
  blob: (values: readonly (Uint8Array | null)[]): AppendColumn => ({ type: BLOB, values }),
  intList: (values: readonly (ArrayLike<number> | null)[]): AppendColumn => ({ type: LIST(INTEGER), values }),
  floatList: (values: readonly (ArrayLike<number> | null)[]): AppendColumn => ({ type: LIST(FLOAT), values }),
  bigintList: (values: readonly (ArrayLike<number> | null)[]): AppendColumn => ({
    type: LIST(BIGINT),
    values: values.map((v) => (v === null ? null : Array.from(v, (x) => BigInt(Math.round(x))))),
  }),
};

/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;

export class StoreError extends LoupeError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('store_error', message, details);
  }
}

export class Store {
  private inTransaction = false;

  private constructor(
    readonly path: string,
    readonly readOnly: boolean,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** Opens (or creates) a feature database and brings its schema up to date. */
  static async open(file: string, opts: OpenStoreOptions = {}): Promise<Store> {
    const readOnly = opts.readOnly ?? false;
    const create = opts.create ?? !readOnly;
    const exists = fs.existsSync(file);
    if (!exists && !create) throw new InputError(`${file}: no such feature database (build one with \`loupe features build\`)`, { path: file });
    if (exists && fs.statSync(file).isDirectory()) throw new InputError(`${file}: expected a DuckDB file, found a directory`, { path: file });
    if (!exists) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file, readOnly ? { access_mode: 'READ_ONLY' } : {});
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (/lock/i.test(msg)) throw new StoreError(`${file}: the database is in use by another process (${firstLine(msg)})`, { path: file });
      throw new StoreError(`${file}: cannot open as a DuckDB database (${firstLine(msg)})`, { path: file });
    }
    const conn = await instance.connect();
    const store = new Store(file, readOnly, instance, conn);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const hasMeta = await this.all<{ n: number }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'meta'`);
    if (hasMeta[0]!.n > 0) {
      const v = await this.all<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
      const found = v[0] ? Number(v[0].value) : NaN;
      if (found === SCHEMA_VERSION) return;
      if (found > SCHEMA_VERSION) {
        throw new StoreError(`${this.path}: written by a newer Loupe (schema ${found}; this one reads ${SCHEMA_VERSION})`, { found, expected: SCHEMA_VERSION });
      }
    }
    if (this.readOnly) {
      if (hasMeta[0]!.n === 0) throw new InputError(`${this.path}: not a Loupe feature database (no meta table)`, { path: this.path });
      return;
    }
    await this.transaction(async () => {
      for (const stmt of schemaStatements()) await this.run(stmt);
      await this.run(`INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)`, [String(SCHEMA_VERSION)]);
    });
  }

  /** Runs a statement; returns nothing. */
  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    try {
      await this.conn.run(sql, params.map(toDuckValue));
    } catch (err) {
      throw wrapSqlError(err, sql);
    }
  }

  /** Runs a query and returns its rows as plain objects (BIGINT as number, lists as arrays, BLOB as bytes). */
  async all<R = Record<string, unknown>>(sql: string, params: readonly SqlParam[] = []): Promise<R[]> {
    let rows: Record<string, unknown>[];
    try {
      const reader = await this.conn.runAndReadAll(sql, params.map(toDuckValue));
      rows = reader.getRowObjectsJS() as Record<string, unknown>[];
    } catch (err) {
      throw wrapSqlError(err, sql);
    }
    for (const row of rows) for (const k of Object.keys(row)) row[k] = plain(row[k]);
    return rows as R[];
  }

  /** Runs `fn` inside one transaction: everything it writes lands together or not at all. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(); // nested: part of the outer transaction
    await this.run('BEGIN TRANSACTION');
    this.inTransaction = true;
    try {
      const out = await fn();
      await this.run('COMMIT');
      return out;
    } catch (err) {
      try {
        await this.run('ROLLBACK');
      } catch {
        // the original error is the one worth reporting
      }
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  /**
   * Appends rows to `table`, whose columns must be exactly `columns` in order. Runs inside the current
   * transaction when there is one. Lists are given as JS arrays or typed arrays.
   */
  async append(table: string, columns: readonly AppendColumn[]): Promise<void> {
    const n = columns[0]?.values.length ?? 0;
    for (const c of columns) {
      if (c.values.length !== n) throw new StoreError(`append ${table}: columns have different row counts (${n} vs ${c.values.length})`);
    }
    if (n === 0) return;
    const appender = await this.conn.createAppender(table);
    try {
      const chunk = DuckDBDataChunk.create(columns.map((c) => c.type));
      for (let start = 0; start < n; start += CHUNK_ROWS) {
        const end = Math.min(n, start + CHUNK_ROWS);
        chunk.reset();
        chunk.setColumns(columns.map((c) => c.values.slice(start, end).map(toDuckValue)));
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } catch (err) {
      throw wrapSqlError(err, `append to ${table}`);
    } finally {
      appender.closeSync();
    }
  }

  /** Writes pending changes into the main file (DuckDB's CHECKPOINT), so the WAL stays small. */
  async checkpoint(): Promise<void> {
    if (!this.readOnly) await this.run('CHECKPOINT');
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

function toDuckValue(v: unknown): DuckDBValue {
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return blobValue(v);
  if (ArrayBuffer.isView(v)) return listValue(Array.from(v as unknown as ArrayLike<number>));
  if (typeof v === 'number' && !Number.isFinite(v)) return null; // NaN/Infinity are not JSON-safe downstream
  if (Array.isArray(v)) return listValue(v.map(toDuckValue));
  return v as DuckDBValue;
}

/** DuckDB JS values to plain JSON-friendly ones (bigint -> number, nested lists likewise). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

function wrapSqlError(err: unknown, sql: string): unknown {
  if (err instanceof LoupeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new StoreError(`database error: ${firstLine(msg)}`, { sql: sql.slice(0, 200) });
}
