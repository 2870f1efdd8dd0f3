// safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then the raw little-endian data; data_offsets are [begin, end) relative to the end of the header.
// The reader checks the whole header against the file before trusting any offset, then reads tensors
// on demand, each into a fresh buffer decoded straight to float32.
import * as fs from 'node:fs';
import { DTypeError, FormatError, InputError, closestNames } from '../errors.js';
import { decodeBFloat16, decodeFloat16, encodeBFloat16, encodeFloat16 } from '../tensor/dtype.js';
import { fromLittleEndian, littleEndianBytes, openForRead, readExactly, writeAll, writeFileAtomic } from './files.js';

/** Every dtype the safetensors format defines that Loupe recognises in a header. */
export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Dtypes readFloat32 converts (integers become the nearest float32; exact up to 2^24). */
export const FLOAT32_READABLE: readonly SafetensorsDType[] = [
  'F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL',
];

/** The dtypes the writer produces. */
export type WritableDType = 'F32' | 'F16' | 'BF16';

/** Largest header the reader accepts (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  dtype: SafetensorsDType;
  shape: number[];
}

/** A lazily read set of named tensors: one safetensors file, or a sharded checkpoint. */
export interface TensorSource {
  /** Tensor names, in file order. */
  names(): string[];
  has(name: string): boolean;
  /** dtype and shape; InputError (with near names) for an unknown name. */
  info(name: string): TensorInfo;
  /** Read and decode one tensor into a fresh Float32Array of product(shape) elements, row-major. */
  readFloat32(name: string): Float32Array;
  /** The tensor's raw little-endian bytes, for dtypes readFloat32 does not convert exactly (large ints). */
  readBytes(name: string): Uint8Array;
  close(): void;
}

export interface SafetensorsFile extends TensorSource {
  readonly path: string;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Where a validated tensor lies: absolute byte offset in the file and byte length. */
export interface TensorEntry extends TensorInfo {
  start: number;
  length: number;
}

/**
 * Parse and validate a header against the size of its file. `json` is the N header bytes; `fileSize` the
 * total file size. Exported for tools that inspect headers; openSafetensors is the usual entry point.
 */
export function parseSafetensorsHeader(
  json: Uint8Array,
  fileSize: number,
  file: string,
): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const dataStart = 8 + json.length;
  const dataLength = fileSize - dataStart;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw new FormatError(file, `header (bytes 8..${dataStart}) is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(header)) {
    throw new FormatError(file, `header must be a JSON object of tensors, found ${describe(header)}`);
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorEntry>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value)) throw new FormatError(file, `__metadata__ must be an object of strings, found ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new FormatError(file, `__metadata__.${k} must be a string, found ${describe(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!isPlainObject(value)) throw new FormatError(file, `${where}: expected {dtype, shape, data_offsets}, found ${describe(value)}`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
      throw new FormatError(file, `${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(ITEM_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      throw new FormatError(file, `${where}: shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      throw new FormatError(file, `${where}: data_offsets must be [begin, end] non-negative integers, found ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw new FormatError(
        file,
        `${where}: data_offsets [${begin}, ${end}] outside the data section of ${dataLength} bytes ` +
          `(file bytes ${dataStart}..${fileSize}); the file may be truncated`,
      );
    }
    const itemSize = ITEM_SIZE[dtype as SafetensorsDType];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (count * itemSize !== end - begin) {
      throw new FormatError(
        file,
        `${where}: shape [${shape.join(', ')}] of ${dtype} needs ${count * itemSize} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    tensors.set(name, { dtype: dtype as SafetensorsDType, shape: shape as number[], start: dataStart + begin, length: end - begin });
  }
  // No two tensors may share bytes (empty tensors occupy none).
  const byStart = [...tensors.entries()].filter(([, e]) => e.length > 0).sort((a, b) => a[1].start - b[1].start);
  for (let i = 1; i < byStart.length; i++) {
    const [prevName, prev] = byStart[i - 1];
    const [name, cur] = byStart[i];
    if (cur.start < prev.start + prev.length) {
      throw new FormatError(
        file,
        `tensors "${prevName}" [${prev.start - dataStart}, ${prev.start - dataStart + prev.length}] and "${name}" ` +
          `[${cur.start - dataStart}, ${cur.start - dataStart + cur.length}] overlap`,
      );
    }
  }
  return { tensors, metadata };
}

/** Open a safetensors file: the header is read and validated now, tensors when asked for. */
export function openSafetensors(file: string, options: { maxHeaderBytes?: number } = {}): SafetensorsFile {
  const maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  const { fd, size } = openForRead(file);
  try {
    if (size < 8) throw new FormatError(file, `truncated: expected at least 8 bytes (the header length), found ${size}`);
    const lenBytes = new Uint8Array(8);
    readExactly(fd, lenBytes, 0, file);
    const headerLength = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(maxHeader)) {
      throw new FormatError(file, `header length ${headerLength} exceeds the limit of ${maxHeader} bytes; not a safetensors file?`);
    }
    if (headerLength > BigInt(size - 8)) {
      throw new FormatError(file, `header length ${headerLength} runs past the end of the file (${size - 8} bytes after the length); truncated?`);
    }
    const json = new Uint8Array(Number(headerLength));
    readExactly(fd, json, 8, file);
    const { tensors, metadata } = parseSafetensorsHeader(json, size, file);
    return new SafetensorsReader(file, fd, tensors, metadata);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

class SafetensorsReader implements SafetensorsFile {
  private fd: number | undefined;
  constructor(
    readonly path: string,
    fd: number,
    private readonly tensors: Map<string, TensorEntry>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape] };
  }

  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    const out = new Uint8Array(e.length);
    readExactly(this.openFd(), out, e.start, this.path);
    return out;
  }

  readFloat32(name: string): Float32Array {
    const e = this.entry(name);
    const itemSize = ITEM_SIZE[e.dtype];
    const count = e.length / itemSize;
    const fd = this.openFd();
    if (e.dtype === 'F32') {
      const out = new Float32Array(count);
      const bytes = new Uint8Array(out.buffer);
      readExactly(fd, bytes, e.start, this.path);
      fromLittleEndian(bytes, 4);
      return out;
    }
    if (!FLOAT32_READABLE.includes(e.dtype)) {
      throw new DTypeError(`${this.path}: tensor "${name}"`, e.dtype, FLOAT32_READABLE);
    }
    // Other dtypes: decode in bounded chunks so the raw copy never exceeds a few MiB.
    const out = new Float32Array(count);
    const chunk = Math.min(count, 1 << 20);
    const raw = new ArrayBuffer(chunk * itemSize);
    for (let i = 0; i < count; i += chunk) {
      const n = Math.min(chunk, count - i);
      const bytes = new Uint8Array(raw, 0, n * itemSize);
      readExactly(fd, bytes, e.start + i * itemSize, this.path);
      fromLittleEndian(bytes, itemSize);
      decodeChunk(e.dtype, raw, n, out.subarray(i, i + n));
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new InputError(`${this.path}: read after close()`, { path: this.path });
    return this.fd;
  }

  private entry(name: string): TensorEntry {
    const e = this.tensors.get(name);
    if (!e) {
      const near = closestNames(name, this.tensors.keys());
      throw new InputError(`${this.path}: no tensor named "${name}"${near.length ? ` (closest: ${near.join(', ')})` : ''}`, {
        path: this.path,
        name,
      });
    }
    return e;
  }
}

function decodeChunk(dtype: SafetensorsDType, raw: ArrayBuffer, n: number, out: Float32Array): void {
  const copy = (src: ArrayLike<number>): void => {
    for (let j = 0; j < n; j++) out[j] = src[j];
  };
  switch (dtype) {
    case 'F16': decodeFloat16(new Uint16Array(raw, 0, n), out); return;
    case 'BF16': decodeBFloat16(new Uint16Array(raw, 0, n), out); return;
    case 'F64': copy(new Float64Array(raw, 0, n)); return;
    case 'I32': copy(new Int32Array(raw, 0, n)); return;
    case 'U32': copy(new Uint32Array(raw, 0, n)); return;
    case 'I16': copy(new Int16Array(raw, 0, n)); return;
    case 'U16': copy(new Uint16Array(raw, 0, n)); return;
    case 'I8': copy(new Int8Array(raw, 0, n)); return;
    case 'U8': copy(new Uint8Array(raw, 0, n)); return;
    case 'BOOL': {
      const b = new Uint8Array(raw, 0, n);
      for (let j = 0; j < n; j++) out[j] = b[j] ? 1 : 0;
      return;
    }
    case 'I64': {
      const b = new BigInt64Array(raw, 0, n);
      for (let j = 0; j < n; j++) out[j] = Number(b[j]);
      return;
    }
    case 'U64': {
      const b = new BigUint64Array(raw, 0, n);
      for (let j = 0; j < n; j++) out[j] = Number(b[j]);
      return;
    }
    default:
      throw new DTypeError('safetensors', dtype, FLOAT32_READABLE);
  }
}

/** Read every tensor of a (small) file at once, e.g. an SAE's weights. */
export function readSafetensors(file: string): {
  tensors: Map<string, { dtype: SafetensorsDType; shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
} {
  const st = openSafetensors(file);
  try {
    const tensors = new Map<string, { dtype: SafetensorsDType; shape: number[]; data: Float32Array }>();
    for (const name of st.names()) tensors.set(name, { ...st.info(name), data: st.readFloat32(name) });
    return { tensors, metadata: { ...st.metadata } };
  } finally {
    st.close();
  }
}

// ---------------------------------------------------------------------------------------------- writer

export interface TensorToWrite {
  /** Storage dtype in the file; data is always given as float32 and rounded to nearest even. */
  dtype: WritableDType;
  shape: readonly number[];
  /** Row-major, product(shape) elements. */
  data: Float32Array;
}

/** Bytes a tensor occupies in a safetensors file. */
export function storedByteLength(t: TensorToWrite): number {
  return t.data.length * ITEM_SIZE[t.dtype];
}

/**
 * Write tensors (and an optional `__metadata__` string map) to a safetensors file, atomically: the file
 * is built beside the target and renamed over it, so a crash or a full disk leaves any previous file
 * intact. Tensors are laid out widest dtype first (then in the given order) so every tensor starts at a
 * multiple of its element size; the header is padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) validateTensorToWrite(name, t, file);
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new InputError(`${file}: metadata "${k}" must be a string, got ${describe(v)}`);
    }
  }
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => ITEM_SIZE[b.e[1].dtype] - ITEM_SIZE[a.e[1].dtype] || a.i - b.i)
    .map(({ e }) => e);

  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of ordered) {
    const length = storedByteLength(t);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + length] };
    offset += length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);

  writeFileAtomic(file, (fd) => {
    writeAll(fd, head);
    for (const [, t] of ordered) {
      if (t.dtype === 'F32') writeAll(fd, littleEndianBytes(t.data, 4));
      else if (t.dtype === 'F16') writeAll(fd, littleEndianBytes(encodeFloat16(t.data), 2));
      else writeAll(fd, littleEndianBytes(encodeBFloat16(t.data), 2));
    }
  });
}

function validateTensorToWrite(name: string, t: TensorToWrite, file: string): void {
  const where = `${file}: tensor "${name}"`;
  if (name === '' || name === '__metadata__') throw new InputError(`${where}: reserved or empty tensor name`);
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new DTypeError(where, String(t.dtype), ['F32', 'F16', 'BF16']);
  if (!Array.isArray(t.shape) || !t.shape.every(isNonNegativeInt)) {
    throw new InputError(`${where}: shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  if (!(t.data instanceof Float32Array)) throw new InputError(`${where}: data must be a Float32Array`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new InputError(`${where}: shape [${t.shape.join(', ')}] needs ${count} elements, data has ${t.data.length}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
