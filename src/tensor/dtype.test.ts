import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bf16BitsToF32,
  byteSwapInPlace,
  decodeBFloat16,
  decodeFloat16,
  encodeBFloat16,
  encodeFloat16,
  f16BitsToF32,
  f32ToBF16Bits,
  f32ToF16Bits,
} from './dtype.js';

// Independent reference: the value a binary16/bfloat16 pattern denotes, straight from the IEEE definition.
function halfValue(h: number, expBits: number, mantBits: number): number {
  const sign = h >>> (expBits + mantBits) ? -1 : 1;
  const exp = (h >>> mantBits) & ((1 << expBits) - 1);
  const mant = h & ((1 << mantBits) - 1);
  const bias = (1 << (expBits - 1)) - 1;
  if (exp === (1 << expBits) - 1) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * (mant / Math.pow(2, mantBits)) * Math.pow(2, 1 - bias);
  return sign * (1 + mant / Math.pow(2, mantBits)) * Math.pow(2, exp - bias);
}

function sameValue(got: number, want: number, h: number): void {
  if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `pattern 0x${h.toString(16)}: expected NaN, got ${got}`);
  else assert.ok(Object.is(got, want), `pattern 0x${h.toString(16)}: expected ${want}, got ${got}`);
}

const allPatterns = Uint16Array.from({ length: 65536 }, (_, i) => i);

test('float16 decoding matches the IEEE formula for all 65536 bit patterns', () => {
  const decoded = decodeFloat16(allPatterns);
  for (let h = 0; h < 65536; h++) {
    const want = halfValue(h, 5, 10);
    sameValue(decoded[h], want, h);
    sameValue(f16BitsToF32(h), want, h);
  }
  // Spot checks that pin the formula itself.
  assert.equal(decoded[0x3c00], 1);
  assert.equal(decoded[0x7bff], 65504);
  assert.equal(decoded[0x0001], Math.pow(2, -24));
  assert.ok(Object.is(decoded[0x8000], -0));
  assert.equal(decoded[0xfc00], -Infinity);
});

test('bfloat16 decoding matches the formula for all 65536 bit patterns', () => {
  const decoded = decodeBFloat16(allPatterns);
  for (let h = 0; h < 65536; h++) {
    const want = halfValue(h, 8, 7);
    sameValue(decoded[h], want, h);
    sameValue(bf16BitsToF32(h), want, h);
  }
  assert.equal(decoded[0x3f80], 1);
  assert.equal(decoded[0xc000], -2);
});

test('decoding from little-endian bytes, aligned and misaligned', () => {
  const words = Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x0001]);
  const bytes = new Uint8Array(9);
  for (let i = 0; i < words.length; i++) {
    bytes[1 + 2 * i] = words[i] & 0xff;
    bytes[2 + 2 * i] = words[i] >>> 8;
  }
  const misaligned = bytes.subarray(1, 9);
  assert.deepEqual(Array.from(decodeFloat16(misaligned)), [1, -2, Infinity, Math.pow(2, -24)]);
  const aligned = new Uint8Array(misaligned);
  assert.deepEqual(Array.from(decodeFloat16(aligned)), [1, -2, Infinity, Math.pow(2, -24)]);
  assert.deepEqual(Array.from(decodeBFloat16(Uint8Array.from([0x80, 0x3f]))), [1]);
  assert.throws(() => decodeFloat16(new Uint8Array(3)), /even number of bytes/);
});

test('float16 encoding round-trips every non-NaN pattern and keeps NaN', () => {
  for (let h = 0; h < 65536; h++) {
    const v = f16BitsToF32(h);
    if (Number.isNaN(v)) assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(v))));
    else assert.equal(f32ToF16Bits(v), h, `pattern 0x${h.toString(16)}`);
  }
});

test('float16 encoding rounds to nearest, ties to even, at every pair of neighbours', () => {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const nextUp = (x: number, dir: 1 | -1): number => {
    f32[0] = x;
    u32[0] += x > 0 ? dir : -dir; // valid for the positive non-zero midpoints used below
    return f32[0];
  };
  // Positive finite neighbours a = h, b = h + 1 (their midpoint is exact in float32).
  for (let h = 0; h < 0x7bff; h++) {
    const a = f16BitsToF32(h);
    const b = f16BitsToF32(h + 1);
    const mid = (a + b) / 2;
    const even = h % 2 === 0 ? h : h + 1;
    assert.equal(f32ToF16Bits(mid), even, `midpoint of 0x${h.toString(16)} and its successor`);
    assert.equal(f32ToF16Bits(-mid), even | 0x8000);
    assert.equal(f32ToF16Bits(nextUp(mid, -1)), h);
    assert.equal(f32ToF16Bits(nextUp(mid, 1)), h + 1);
  }
  // Overflow: 65504 is the largest finite; the midpoint to the next (virtual) step 65536 rounds to inf.
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00);
  assert.equal(f32ToF16Bits(1e10), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  // Underflow: exactly half the smallest subnormal ties to zero; anything above rounds up.
  assert.equal(f32ToF16Bits(Math.pow(2, -25)), 0);
  assert.equal(f32ToF16Bits(Math.pow(2, -25) * 1.0001), 1);
  assert.equal(f32ToF16Bits(1e-30), 0);
  assert.equal(f32ToF16Bits(-1e-30), 0x8000);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.equal(f32ToF16Bits(NaN) & 0x7e00, 0x7e00);
});

test('bfloat16 encoding rounds to nearest even and round-trips', () => {
  for (let h = 0; h < 65536; h++) {
    const v = bf16BitsToF32(h);
    if (Number.isNaN(v)) assert.ok(Number.isNaN(bf16BitsToF32(f32ToBF16Bits(v))));
    else assert.equal(f32ToBF16Bits(v), h, `pattern 0x${h.toString(16)}`);
  }
  // 1 + 2^-8 is the midpoint of 1 (0x3f80, even) and 1 + 2^-7 (0x3f81): ties to even.
  assert.equal(f32ToBF16Bits(1 + Math.pow(2, -8)), 0x3f80);
  // 1 + 3*2^-8 is the midpoint of 0x3f81 (odd) and 0x3f82: goes up.
  assert.equal(f32ToBF16Bits(1 + 3 * Math.pow(2, -8)), 0x3f82);
  assert.equal(f32ToBF16Bits(1 + Math.pow(2, -8) + Math.pow(2, -20)), 0x3f81);
  // The largest finite float32 rounds up to inf in bfloat16.
  assert.equal(f32ToBF16Bits(3.4028234663852886e38), 0x7f80);
  assert.equal(f32ToBF16Bits(-3.4028234663852886e38), 0xff80);
  // A signalling NaN payload that lives only in the low bits must not become inf.
  const nan = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0];
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBF16Bits(nan))));
});

test('array encoders agree with the scalar ones', () => {
  const xs = Float32Array.from([0, -0, 1, -1.5, 3.14159, 1e-6, 7e4, -7e4, Infinity, NaN, 65504, 1e-8]);
  const h = encodeFloat16(xs);
  const b = encodeBFloat16(xs);
  for (let i = 0; i < xs.length; i++) {
    assert.equal(h[i], f32ToF16Bits(xs[i]));
    assert.equal(b[i], f32ToBF16Bits(xs[i]));
  }
  // Decode(encode(x)) is within half an ulp (2^-10 for values in [2, 4)).
  const back = decodeFloat16(h);
  assert.ok(Math.abs(back[4] - 3.14159) <= Math.pow(2, -10));
});

test('byteSwapInPlace reverses each element', () => {
  const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  byteSwapInPlace(bytes, 4);
  assert.deepEqual(Array.from(bytes), [4, 3, 2, 1, 8, 7, 6, 5]);
  byteSwapInPlace(bytes, 2);
  assert.deepEqual(Array.from(bytes), [3, 4, 1, 2, 7, 8, 5, 6]);
});
