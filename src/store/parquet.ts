// Parquet export: every table of a feature database as one .parquet file, readable by pandas, polars,
// DuckDB or Spark without Loupe.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import type { Store } from './db.js';
import { ALL_TABLES } from './schema.js';

export interface ParquetExport {
  dir: string;
  files: { table: string; path: string; rows: number }[];
}

/** Writes `<dir>/<table>.parquet` for each table (default: all of them). */
export async function exportParquet(store: Store, dir: string, tables: readonly string[] = ALL_TABLES): Promise<ParquetExport> {
  for (const t of tables) {
    if (!(ALL_TABLES as readonly string[]).includes(t)) throw new InputError(`unknown table "${t}" (tables: ${ALL_TABLES.join(', ')})`, { table: t });
  }
  fs.mkdirSync(dir, { recursive: true });
  const files: ParquetExport['files'] = [];
  for (const table of tables) {
    const file = path.resolve(dir, `${table}.parquet`);
    // Table names come from the fixed list above; the path is quoted as an SQL string literal.
    await store.run(`COPY (SELECT * FROM ${table}) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
    const [row] = await store.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
    files.push({ table, path: file, rows: row!.n });
  }
  return { dir: path.resolve(dir), files };
}
