import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DTypeError, FormatError, InputError } from '../errors.js';
import { f16BitsToF32, f32ToF16Bits, bf16BitsToF32, f32ToBF16Bits } from '../tensor/dtype.js';
import { openSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-safetensors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Hand-build a file: an 8-byte length (actual header length unless overridden), header text, data. */
function build(header: string | Uint8Array | object, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): string {
  const json =
    header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  const file = path.join(dir, `case-${counter++}.safetensors`);
  fs.writeFileSync(file, bytes);
  return file;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function expectFormatError(file: string, pattern: RegExp): void {
  assert.throws(
    () => openSafetensors(file),
    (err: unknown) => {
      assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
      assert.match(err.message, pattern);
      assert.ok(err.message.startsWith(file), 'message names the file');
      return true;
    },
  );
}

test('round trip of F32, F16 and BF16 tensors with metadata', () => {
  const file = path.join(dir, 'round.safetensors');
  const a = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.37);
  const b = Float32Array.from([1, -2.5, 65504, 1e-7, -0, 3.14159]);
  const c = Float32Array.from([1, -2.5, 1e30, 3.14159]);
  writeSafetensors(
    file,
    {
      'blocks.0.b': { dtype: 'F16', shape: [2, 3], data: b },
      'blocks.0.a': { dtype: 'F32', shape: [3, 4], data: a },
      scalar: { dtype: 'F32', shape: [], data: Float32Array.from([42]) },
      empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      c: { dtype: 'BF16', shape: [4], data: c },
    },
    { format: 'pt', note: 'hello' },
  );
  // Header padded so the data section starts 8-byte aligned.
  const bytes = fs.readFileSync(file);
  assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);

  const st = openSafetensors(file);
  try {
    assert.deepEqual(st.metadata, { format: 'pt', note: 'hello' });
    assert.deepEqual(new Set(st.names()), new Set(['blocks.0.a', 'blocks.0.b', 'scalar', 'empty', 'c']));
    assert.deepEqual(st.info('blocks.0.a'), { dtype: 'F32', shape: [3, 4] });
    assert.deepEqual(st.info('blocks.0.b'), { dtype: 'F16', shape: [2, 3] });
    assert.deepEqual(Array.from(st.readFloat32('blocks.0.a')), Array.from(a));
    assert.deepEqual(Array.from(st.readFloat32('blocks.0.b')), Array.from(b, (x) => f16BitsToF32(f32ToF16Bits(x))));
    assert.deepEqual(Array.from(st.readFloat32('c')), Array.from(c, (x) => bf16BitsToF32(f32ToBF16Bits(x))));
    assert.deepEqual(Array.from(st.readFloat32('scalar')), [42]);
    assert.equal(st.readFloat32('empty').length, 0);
    assert.throws(() => st.info('blocks.0.x'), (e: unknown) => e instanceof InputError && /closest: blocks\.0\.a/.test(e.message));
  } finally {
    st.close();
  }
  assert.equal(readSafetensors(file).tensors.get('scalar')?.data[0], 42);
});

test('reads the integer and F64 dtypes real files contain; F8 is a DTypeError naming the tensor', () => {
  const i64 = new BigInt64Array([-3n, 7n, 1n << 40n]);
  const f64 = new Float64Array([0.5, -1e-3]);
  const i32 = new Int32Array([-1, 2]);
  const parts = [new Uint8Array(i64.buffer), new Uint8Array(f64.buffer), new Uint8Array(i32.buffer), Uint8Array.from([1, 0, 1]), Uint8Array.from([200]), Uint8Array.from([0x38])];
  const header: Record<string, unknown> = {};
  const names = ['ids', 'f64', 'i32', 'mask', 'u8', 'fp8'];
  const dtypes = ['I64', 'F64', 'I32', 'BOOL', 'U8', 'F8_E4M3'];
  let off = 0;
  parts.forEach((p, i) => {
    const itemSize = { I64: 8, F64: 8, I32: 4, BOOL: 1, U8: 1, F8_E4M3: 1 }[dtypes[i]]!;
    header[names[i]] = { dtype: dtypes[i], shape: [p.length / itemSize], data_offsets: [off, off + p.length] };
    off += p.length;
  });
  const data = new Uint8Array(off);
  off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  const st = openSafetensors(build(header, data));
  try {
    assert.deepEqual(Array.from(st.readFloat32('ids')), [-3, 7, 2 ** 40]);
    assert.deepEqual(Array.from(st.readFloat32('f64')), [0.5, Math.fround(-1e-3)]);
    assert.deepEqual(Array.from(st.readFloat32('i32')), [-1, 2]);
    assert.deepEqual(Array.from(st.readFloat32('mask')), [1, 0, 1]);
    assert.deepEqual(Array.from(st.readFloat32('u8')), [200]);
    assert.deepEqual(Array.from(st.readBytes('ids')), Array.from(new Uint8Array(i64.buffer)));
    assert.throws(() => st.readFloat32('fp8'), (e: unknown) => e instanceof DTypeError && /tensor "fp8".*F8_E4M3/.test(e.message));
  } finally {
    st.close();
  }
});

test('header __metadata__ and trailing space padding are accepted', () => {
  const file = build('{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   ', f32Bytes([1, 2]));
  const st = openSafetensors(file);
  assert.deepEqual(Array.from(st.readFloat32('w')), [1, 2]);
  assert.deepEqual(st.metadata, { format: 'pt' });
  st.close();
  assert.throws(() => st.readFloat32('w'), /after close/);
});

test('truncated file shorter than the length prefix', () => {
  const file = path.join(dir, 'tiny.safetensors');
  fs.writeFileSync(file, Uint8Array.from([1, 2, 3]));
  expectFormatError(file, /truncated: expected at least 8 bytes.*found 3/);
});

test('header length beyond the file or beyond the limit', () => {
  expectFormatError(build('{}', new Uint8Array(0), 1000n), /header length 1000 runs past the end of the file \(2 bytes/);
  expectFormatError(build('{}', new Uint8Array(0), 1n << 62n), /exceeds the limit of 100000000 bytes/);
});

test('invalid JSON and non-object headers', () => {
  expectFormatError(build('{"w": {"dtype": "F32",'), /not valid UTF-8 JSON/);
  expectFormatError(build(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /not valid UTF-8 JSON/);
  expectFormatError(build('[1,2]'), /must be a JSON object of tensors, found an array/);
  expectFormatError(build('{"__metadata__":{"n":3}}'), /__metadata__\.n must be a string/);
  expectFormatError(build('{"w": 5}'), /tensor "w": expected \{dtype, shape, data_offsets\}/);
});

test('unknown dtype', () => {
  expectFormatError(build({ w: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /tensor "w": unknown dtype "Q4_K"/);
  expectFormatError(build({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])), /unknown dtype "toString"/);
});

test('bad shapes and offsets', () => {
  const d = f32Bytes([1, 2]);
  expectFormatError(build({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, d), /shape must be an array of non-negative integers, found \[-2\]/);
  expectFormatError(build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, d), /shape must be/);
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, d), /data_offsets must be \[begin, end\]/);
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, d), /outside the data section/);
});

test('offsets beyond the file (truncated data)', () => {
  expectFormatError(
    build({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32Bytes([1, 2])),
    /tensor "w": data_offsets \[0, 16\] outside the data section of 8 bytes.*truncated/,
  );
});

test('shape and byte length disagree', () => {
  expectFormatError(
    build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
    /tensor "w": shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 8\] hold 8/,
  );
});

test('overlapping tensors', () => {
  expectFormatError(
    build(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      f32Bytes([1, 2, 3]),
    ),
    /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/,
  );
});

test('missing file is an InputError', () => {
  assert.throws(() => openSafetensors(path.join(dir, 'nope.safetensors')), (e: unknown) => e instanceof InputError && /no such file/.test(e.message));
});

test('writer validates its input and replaces files atomically', () => {
  const file = path.join(dir, 'atomic.safetensors');
  writeSafetensors(file, { w: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
  assert.throws(
    () => writeSafetensors(file, { w: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2]) } }),
    (e: unknown) => e instanceof InputError && /shape \[3\] needs 3 elements, data has 2/.test(e.message),
  );
  assert.throws(() => writeSafetensors(file, { w: { dtype: 'F8' as 'F32', shape: [1], data: new Float32Array(1) } }), DTypeError);
  // A failure half-way through writing (simulated by data whose encoding throws) leaves the old file.
  const poisoned = new Float32Array(2);
  Object.defineProperty(poisoned, 'buffer', { get: () => { throw new Error('disk full'); } });
  assert.throws(() => writeSafetensors(file, { w: { dtype: 'F32', shape: [2], data: poisoned } }), /disk full/);
  assert.deepEqual(Array.from(readSafetensors(file).tensors.get('w')!.data), [1, 2]);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('atomic') && n.includes('tmp')), [], 'temp file removed');
});
