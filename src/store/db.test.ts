// The store: schema creation, typed bulk appends, transactions that roll back whole, Parquet export,
// read-only access and clear errors for files that are not feature databases.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { Col, Store, StoreError } from './db.js';
import { exportParquet } from './parquet.js';
import { ALL_TABLES, SCHEMA_VERSION } from './schema.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-store-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a new database gets every table and the schema version', async () => {
  const s = await Store.open(path.join(dir, 'new.duckdb'));
  const tables = (await s.all<{ table_name: string }>(`SELECT table_name FROM information_schema.tables`)).map((r) => r.table_name);
  for (const t of ALL_TABLES) assert.ok(tables.includes(t), t);
  const [v] = await s.all<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
  assert.equal(Number(v!.value), SCHEMA_VERSION);
  s.close();
});

test('bulk append of lists and a rollback that leaves nothing behind', async () => {
  const s = await Store.open(path.join(dir, 'rows.duckdb'));
  const n = 5000;
  await s.append('sequences', [
    Col.int(Array.from({ length: n }, (_, i) => i)),
    Col.intList(Array.from({ length: n }, (_, i) => [1, i, i + 1])),
    Col.varchar(Array.from({ length: n }, (_, i) => `text ${i}`)),
  ]);
  const [row] = await s.all<{ token_ids: number[]; text: string }>(`SELECT token_ids, text FROM sequences WHERE seq_id = 4321`);
  assert.deepEqual(row, { token_ids: [1, 4321, 4322], text: 'text 4321' });
  await assert.rejects(
    s.transaction(async () => {
      await s.append('features', [Col.int([1]), Col.bigint([2]), Col.double([0.5]), Col.float([1.5]), Col.float([1]), Col.floatList([[0, 1]]), Col.bigintList([[2]])]);
      throw new Error('boom');
    }),
    /boom/,
  );
  const [c] = await s.all<{ n: number }>(`SELECT count(*) AS n FROM features`);
  assert.equal(c!.n, 0);
  await s.append('features', [Col.int([1]), Col.bigint([2]), Col.double([0.5]), Col.float([1.5]), Col.float([1]), Col.floatList([Float32Array.of(0, 1)]), Col.bigintList([[2]])]);
  const [f] = await s.all<{ fire_count: number; histogram_edges: number[]; histogram_counts: number[] }>(`SELECT * FROM features`);
  assert.equal(f!.fire_count, 2);
  assert.deepEqual(f!.histogram_edges, [0, 1]);
  assert.deepEqual(f!.histogram_counts, [2]);
  s.close();
});

test('parquet export writes one readable file per table', async () => {
  const s = await Store.open(path.join(dir, 'rows.duckdb'));
  const out = await exportParquet(s, path.join(dir, 'pq'), ['sequences', 'features']);
  assert.deepEqual(out.files.map((f) => [f.table, f.rows]), [['sequences', 5000], ['features', 1]]);
  const [r] = await s.all<{ n: number }>(`SELECT count(*) AS n FROM '${out.files[0]!.path}'`);
  assert.equal(r!.n, 5000);
  await assert.rejects(exportParquet(s, path.join(dir, 'pq'), ['nope']), InputError);
  s.close();
});

test('read-only refuses writes; missing and foreign files give clear errors', async () => {
  const ro = await Store.open(path.join(dir, 'rows.duckdb'), { readOnly: true });
  await assert.rejects(ro.run(`DELETE FROM sequences`), StoreError);
  ro.close();
  await assert.rejects(Store.open(path.join(dir, 'missing.duckdb'), { create: false }), (e: unknown) => e instanceof InputError && /no such feature database/.test((e as Error).message));
  const junk = path.join(dir, 'junk.duckdb');
  fs.writeFileSync(junk, 'this is not a database');
  await assert.rejects(Store.open(junk), (e: unknown) => e instanceof StoreError && /cannot open/.test((e as Error).message));
});
