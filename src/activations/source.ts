// Where dictionary training reads activations from: an ActivationSource yields chunks of rows, one
// [rows, width] matrix per hook (several hooks for transcoders: input and output, row-aligned).
// Sources are deterministic, and every chunk says where to resume right after it, so a checkpointed run
// can restart its data stream exactly where it stopped.
import { InputError, ShapeError } from '../errors.js';

export interface ActivationChunk {
  rows: number;
  /** One row-major [rows, widths[h]] buffer per hook, in source.hooks order. */
  acts: Float32Array[];
  /** Tokens of text this chunk came from (for tokens/s; 0 where not meaningful). */
  tokens?: number;
  /** Opaque, JSON-serialisable: pass to read() to continue right after this chunk. */
  resume: unknown;
}

export interface ActivationSource {
  readonly hooks: readonly string[];
  readonly widths: readonly number[];
  /** Chunks in order, from the start or from a chunk's `resume` value. May be endless. */
  read(from?: unknown): AsyncIterable<ActivationChunk>;
}

export function checkChunk(source: ActivationSource, chunk: ActivationChunk, where: string): void {
  if (chunk.acts.length !== source.hooks.length) {
    throw new ShapeError(where, `chunk has ${chunk.acts.length} activation matrices for ${source.hooks.length} hooks`);
  }
  chunk.acts.forEach((a, h) => {
    if (a.length !== chunk.rows * source.widths[h]!) {
      throw new ShapeError(where, `hook ${source.hooks[h]}: ${a.length} values for ${chunk.rows} rows of width ${source.widths[h]}`);
    }
  });
}

/** Rows held in memory (tests, held-out evaluation sets), served in chunks; optionally looping forever. */
export class ArraySource implements ActivationSource {
  readonly hooks: readonly string[];
  readonly widths: readonly number[];
  readonly rows: number;

  constructor(
    hooks: readonly string[],
    private readonly data: readonly Float32Array[],
    widths: readonly number[],
    private readonly opts: { chunkRows?: number; loop?: boolean } = {},
  ) {
    if (hooks.length !== data.length || hooks.length !== widths.length || hooks.length === 0) {
      throw new InputError('ArraySource: give one data array and one width per hook');
    }
    this.hooks = hooks;
    this.widths = widths;
    this.rows = data[0]!.length / widths[0]!;
    data.forEach((d, h) => {
      if (d.length !== this.rows * widths[h]!) throw new ShapeError('ArraySource', `hook ${hooks[h]} holds ${d.length} values, expected ${this.rows} x ${widths[h]}`);
    });
  }

  async *read(from?: unknown): AsyncIterable<ActivationChunk> {
    const chunk = this.opts.chunkRows ?? 1024;
    let row = typeof from === 'number' ? from : 0;
    if (this.rows === 0) return;
    for (;;) {
      if (row >= this.rows) {
        if (!this.opts.loop) return;
        row = 0;
      }
      const n = Math.min(chunk, this.rows - row);
      const acts = this.data.map((d, h) => d.slice(row * this.widths[h]!, (row + n) * this.widths[h]!));
      row += n;
      yield { rows: n, acts, resume: row };
    }
  }
}

/** Read up to `maxRows` rows of a source into memory (held-out sets, initialisation samples). */
export async function collectRows(source: ActivationSource, maxRows: number, from?: unknown): Promise<{ rows: number; acts: Float32Array[] }> {
  const parts: Float32Array[][] = source.hooks.map(() => []);
  let rows = 0;
  for await (const chunk of source.read(from)) {
    const take = Math.min(chunk.rows, maxRows - rows);
    chunk.acts.forEach((a, h) => parts[h]!.push(take === chunk.rows ? a : a.subarray(0, take * source.widths[h]!)));
    rows += take;
    if (rows >= maxRows) break;
  }
  return { rows, acts: parts.map((p) => concat(p)) };
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
