// An on-disk activation cache: harvest once, train many times (sweeps, reference trainers) without
// running the model again. A directory of safetensors shards, one tensor per hook named by the hook:
//   manifest.json                 {format, version, hooks, widths, rows, tokens, shards: [{file, rows}], ...info}
//   shard-00000.safetensors       "<hook>": [rows, width] float32, row-aligned across hooks
// Shards are written atomically and the manifest last, so a directory with a manifest is complete.
// Reading streams one shard at a time: memory is one shard, whatever the cache size.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError } from '../errors.js';
import { openSafetensors, writeSafetensors } from '../io/safetensors.js';
import { checkChunk, concat, type ActivationChunk, type ActivationSource } from './source.js';

export const MANIFEST = 'manifest.json';

export interface CacheManifest {
  format: 'loupe-activations';
  version: 1;
  hooks: string[];
  widths: number[];
  rows: number;
  tokens: number;
  shards: { file: string; rows: number }[];
  [key: string]: unknown;
}

export interface WriteCacheOptions {
  /** Rows to write (the source may end sooner). */
  rows: number;
  /** Rows per shard (default 65536). */
  shardRows?: number;
  /** Extra manifest fields (model, data, split, context size ...). */
  info?: Record<string, unknown>;
  onProgress?: (rows: number, tokens: number) => void;
}

export async function writeActivationCache(source: ActivationSource, dir: string, opts: WriteCacheOptions): Promise<CacheManifest> {
  if (!Number.isInteger(opts.rows) || opts.rows < 1) throw new InputError(`rows to cache must be a positive integer, got ${opts.rows}`);
  const shardRows = opts.shardRows ?? 65536;
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, MANIFEST), { force: true });
  const shards: { file: string; rows: number }[] = [];
  let parts: Float32Array[][] = source.hooks.map(() => []);
  let partRows = 0;
  let rows = 0;
  let tokens = 0;
  const writeShard = (): void => {
    if (partRows === 0) return;
    const file = `shard-${String(shards.length).padStart(5, '0')}.safetensors`;
    const tensors = new Map(
      source.hooks.map((h, i) => [h, { dtype: 'F32' as const, shape: [partRows, source.widths[i]!], data: concat(parts[i]!) }]),
    );
    writeSafetensors(path.join(dir, file), tensors);
    shards.push({ file, rows: partRows });
    parts = source.hooks.map(() => []);
    partRows = 0;
  };
  for await (const chunk of source.read()) {
    checkChunk(source, chunk, 'activation source');
    let offset = 0;
    tokens += chunk.tokens ?? 0;
    while (offset < chunk.rows && rows < opts.rows) {
      const take = Math.min(chunk.rows - offset, shardRows - partRows, opts.rows - rows);
      chunk.acts.forEach((a, i) => parts[i]!.push(a.subarray(offset * source.widths[i]!, (offset + take) * source.widths[i]!)));
      offset += take;
      partRows += take;
      rows += take;
      if (partRows === shardRows) writeShard();
    }
    opts.onProgress?.(rows, tokens);
    if (rows >= opts.rows) break;
  }
  writeShard();
  if (rows === 0) throw new InputError('nothing to cache: the activation source produced no rows (empty dataset or split)');
  const manifest: CacheManifest = { format: 'loupe-activations', version: 1, hooks: [...source.hooks], widths: [...source.widths], rows, tokens, shards, ...opts.info };
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export function readManifest(dir: string): CacheManifest {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new InputError(`${dir}: not an activation cache (no ${MANIFEST}; write one with \`loupe sae cache\`)`, { path: dir });
  let m: CacheManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FormatError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (m.format !== 'loupe-activations' || m.version !== 1) throw new FormatError(file, `not a Loupe activation cache manifest (format ${JSON.stringify(m.format)}, version ${m.version})`);
  return m;
}

/** Streams a cache back, shard by shard, in `chunkRows` pieces; optionally looping. */
export class DiskActivationSource implements ActivationSource {
  readonly manifest: CacheManifest;
  readonly hooks: readonly string[];
  readonly widths: readonly number[];

  constructor(
    private readonly dir: string,
    private readonly opts: { loop?: boolean; chunkRows?: number; hooks?: readonly string[] } = {},
  ) {
    this.manifest = readManifest(dir);
    const want = opts.hooks ?? this.manifest.hooks;
    for (const h of want) {
      if (!this.manifest.hooks.includes(h)) throw new InputError(`${dir}: the cache holds hooks ${this.manifest.hooks.join(', ')}, not "${h}"`, { hook: h });
    }
    this.hooks = [...want];
    this.widths = want.map((h) => this.manifest.widths[this.manifest.hooks.indexOf(h)]!);
  }

  async *read(from?: unknown): AsyncIterable<ActivationChunk> {
    const chunkRows = this.opts.chunkRows ?? 4096;
    const start = (from ?? { shard: 0, row: 0 }) as { shard: number; row: number };
    let shard = start.shard;
    let row = start.row;
    const shards = this.manifest.shards;
    if (shards.length === 0) return;
    const tokensPerRow = this.manifest.rows > 0 ? this.manifest.tokens / this.manifest.rows : 0;
    for (;;) {
      if (shard >= shards.length) {
        if (!this.opts.loop) return;
        shard = 0;
        row = 0;
      }
      const info = shards[shard]!;
      const file = path.join(this.dir, info.file);
      const st = openSafetensors(file);
      let data: Float32Array[];
      try {
        data = this.hooks.map((h, i) => {
          const t = st.info(h);
          if (t.shape.length !== 2 || t.shape[0] !== info.rows || t.shape[1] !== this.widths[i]) {
            throw new FormatError(file, `tensor "${h}" is [${t.shape.join(', ')}], the manifest says [${info.rows}, ${this.widths[i]}]`);
          }
          return st.readFloat32(h);
        });
      } finally {
        st.close();
      }
      while (row < info.rows) {
        const n = Math.min(chunkRows, info.rows - row);
        const acts = data.map((d, i) => d.slice(row * this.widths[i]!, (row + n) * this.widths[i]!));
        row += n;
        const next = row < info.rows ? { shard, row } : { shard: shard + 1, row: 0 };
        yield { rows: n, acts, tokens: Math.round(n * tokensPerRow), resume: next };
      }
      shard++;
      row = 0;
    }
  }
}
