// Shared pieces of the Hugging Face loaders: typed reads of config.json fields, a tensor reader that
// checks shapes and notices leftover tensors (a checkpoint of another architecture must not load
// silently), its export-side writer, and the layout conversions some families need (Conv1D's [in, out]
// to [out, in], interleaved RoPE rows to HF's half-split ones).
import { FormatError } from '../../errors.js';
import type { TensorSource } from '../../io/safetensors.js';
import type { ExportedTensor } from './hf-family.js';

export type RawConfig = Record<string, unknown>;

export function num(raw: RawConfig, key: string, where: string, fallback?: number): number {
  const v = raw[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new FormatError(where, `config.json is missing "${key}"`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(where, `config.json "${key}" must be a number, found ${JSON.stringify(v)}`);
  return v;
}

export function int(raw: RawConfig, key: string, where: string, fallback?: number): number {
  const v = num(raw, key, where, fallback);
  if (!Number.isInteger(v) || v < 0) throw new FormatError(where, `config.json "${key}" must be a non-negative integer, found ${v}`);
  return v;
}

export function bool(raw: RawConfig, key: string, where: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new FormatError(where, `config.json "${key}" must be true or false, found ${JSON.stringify(v)}`);
  return v;
}

export function str(raw: RawConfig, key: string, where: string, fallback: string): string {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new FormatError(where, `config.json "${key}" must be a string, found ${JSON.stringify(v)}`);
  return v;
}

/**
 * A token id field that may be a number, a list (first wins) or null. Ids outside the vocabulary become
 * null: HF's config classes default GPT-2's to 50256 even for tiny test vocabularies.
 */
export function tokenId(raw: RawConfig, key: string, fallback: number | null, vocabSize: number): number | null {
  let v = raw[key];
  if (v === undefined) v = fallback;
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < vocabSize ? v : null;
}

/** Reads tensors by name, checking each shape, and remembers which ones were used. */
export class TensorReader {
  private readonly used = new Set<string>();
  constructor(
    private readonly src: TensorSource,
    private readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.src.has(name);
  }

  read(name: string, shape: readonly number[]): Float32Array {
    const info = this.src.info(name); // InputError with near names when missing
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(this.where, `tensor "${name}" has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`);
    }
    this.used.add(name);
    return this.src.readFloat32(name);
  }

  /** Fail on tensors nothing read, except known non-parameter buffers. */
  finish(ignore: RegExp | null): void {
    const left = this.src.names().filter((n) => !this.used.has(n) && !(ignore && ignore.test(n)));
    if (left.length) {
      throw new FormatError(this.where, `${left.length} tensor(s) not used by this architecture, e.g. ${left.slice(0, 3).map((n) => `"${n}"`).join(', ')}: config.json may name the wrong architecture`);
    }
  }
}

/** The export side of TensorReader: `get` a parameter by its Loupe name, `put` it under the checkpoint's name and shape. */
export function tensorWriter(named: Map<string, Float32Array>) {
  const tensors = new Map<string, ExportedTensor>();
  return {
    tensors,
    get: (n: string): Float32Array => named.get(n)!,
    put: (n: string, shape: number[], data: Float32Array): void => void tensors.set(n, { shape, data }),
  };
}

/** [rows, cols] -> [cols, rows] (blocked, so both sides stay in cache). */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const BS = 32;
  for (let r0 = 0; r0 < rows; r0 += BS)
    for (let c0 = 0; c0 < cols; c0 += BS) {
      const r1 = Math.min(r0 + BS, rows);
      const c1 = Math.min(c0 + BS, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = src[r * cols + c]!;
    }
  return out;
}

/** Columns [c0, c1) of a row-major [rows, cols] matrix, transposed: [c1 - c0, rows]. */
export function transposedColumns(src: Float32Array, rows: number, cols: number, c0: number, c1: number): Float32Array {
  const n = c1 - c0;
  const out = new Float32Array(n * rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols + c0;
    for (let c = 0; c < n; c++) out[c * rows + r] = src[base + c]!;
  }
  return out;
}

/**
 * Meta/llama2.c interleaved RoPE rows -> HF's half-split rows, per head (what HF's convert script does
 * to q_proj and k_proj): HF row j*half + i = Meta row 2i + j. inverse=true goes back.
 */
export function permuteRopeRows(w: Float32Array, heads: number, dHead: number, cols: number, inverse = false): Float32Array {
  const out = new Float32Array(w.length);
  const half = dHead / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < 2; j++) {
        const hf = h * dHead + j * half + i;
        const meta = h * dHead + 2 * i + j;
        const [to, from] = inverse ? [meta, hf] : [hf, meta];
        out.set(w.subarray(from * cols, from * cols + cols), to * cols);
      }
  return out;
}
