// The store layer: an embedded DuckDB file per feature database (no server), with Parquet export.
export { Store, StoreError, Col, type OpenStoreOptions, type SqlParam, type AppendColumn } from './db.js';
export { SCHEMA_VERSION, ALL_TABLES, RESULT_TABLES, schemaStatements } from './schema.js';
export { exportParquet, type ParquetExport } from './parquet.js';
