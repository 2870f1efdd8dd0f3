// Half-precision storage formats: float16 (IEEE binary16) and bfloat16 (the top half of a float32).
// Checkpoints store them; all compute is float32, so these decode to and encode from Float32Array.
// Inputs and outputs are little-endian, as in safetensors and every other format Loupe reads.
import { InputError } from '../errors.js';

/** True on little-endian hosts (every platform Node ships for today); typed-array views then match file order. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Scratch cell for reinterpreting float32 bits.
const f32Cell = new Float32Array(1);
const u32Cell = new Uint32Array(f32Cell.buffer);

/** The float32 value of one float16 bit pattern (exact: every float16 is a float32). */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  let bits: number;
  if (exp === 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13); // inf, or NaN with its payload kept
  } else if (exp !== 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13); // rebias 15 -> 127
  } else if (mant === 0) {
    bits = sign; // signed zero
  } else {
    // Subnormal: value = mant * 2^-24. Normalise so the leading one becomes the implicit bit.
    let e = 113; // float32 biased exponent of 2^-14
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
  }
  u32Cell[0] = bits >>> 0;
  return f32Cell[0];
}

/** The float32 value of one bfloat16 bit pattern. */
export function bf16BitsToF32(h: number): number {
  u32Cell[0] = (h & 0xffff) << 16;
  return f32Cell[0];
}

/** float32 -> float16 bits, round to nearest even; overflow gives inf, NaN stays NaN (quiet). */
export function f32ToF16Bits(x: number): number {
  f32Cell[0] = x;
  const bits = u32Cell[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // float16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): shift the 24-bit significand down to units of 2^-24.
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++; // a carry into bit 10 is the smallest normal
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // carry may overflow into inf: correct
  return sign | h;
}

/** float32 -> bfloat16 bits, round to nearest even; NaN stays NaN (quiet). */
export function f32ToBF16Bits(x: number): number {
  f32Cell[0] = x;
  return bf16FromF32Bits(u32Cell[0]);
}

function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  // Add just under half an ulp, plus one when the kept part is odd (ties to even). Math.floor, not >>>:
  // the sum can pass 2^32 for negative values.
  return Math.floor((bits + 0x7fff + ((bits >>> 16) & 1)) / 0x10000) & 0xffff;
}

// Decoding table for float16: 256 KiB, built on first use, makes decoding one load per element.
let f16Table: Float32Array | undefined;
function f16DecodeTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32(h);
  }
  return f16Table;
}

/** View little-endian 16-bit words as a Uint16Array (copying only when misaligned or on a big-endian host). */
function asU16(src: Uint16Array | Uint8Array, what: string): Uint16Array {
  if (src instanceof Uint16Array) return src;
  if (src.byteLength % 2 !== 0) {
    throw new InputError(`${what}: expected an even number of bytes (2 per element), got ${src.byteLength}`);
  }
  const n = src.byteLength / 2;
  if (HOST_LITTLE_ENDIAN && src.byteOffset % 2 === 0) return new Uint16Array(src.buffer, src.byteOffset, n);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = src[2 * i] | (src[2 * i + 1] << 8);
  return out;
}

/**
 * Decode float16 values to float32. `src` is either 16-bit words or their little-endian bytes.
 * `out` (optional) must hold at least as many elements; it is returned.
 */
export function decodeFloat16(src: Uint16Array | Uint8Array, out?: Float32Array): Float32Array {
  const words = asU16(src, 'decodeFloat16');
  const dst = out ?? new Float32Array(words.length);
  if (dst.length < words.length) {
    throw new InputError(`decodeFloat16: output holds ${dst.length} elements, need ${words.length}`);
  }
  const table = f16DecodeTable();
  for (let i = 0; i < words.length; i++) dst[i] = table[words[i]];
  return dst;
}

/** Decode bfloat16 values to float32 (exact: a shift into the top half of each float32). */
export function decodeBFloat16(src: Uint16Array | Uint8Array, out?: Float32Array): Float32Array {
  const words = asU16(src, 'decodeBFloat16');
  const dst = out ?? new Float32Array(words.length);
  if (dst.length < words.length) {
    throw new InputError(`decodeBFloat16: output holds ${dst.length} elements, need ${words.length}`);
  }
  const dst32 = new Uint32Array(dst.buffer, dst.byteOffset, words.length);
  for (let i = 0; i < words.length; i++) dst32[i] = words[i] << 16;
  return dst;
}

/** Encode float32 values as float16 words (round to nearest even). */
export function encodeFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]);
  return out;
}

/** Encode float32 values as bfloat16 words (round to nearest even). */
export function encodeBFloat16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16FromF32Bits(bits[i]);
  return out;
}

/** Reverse the byte order of each `itemSize`-byte element in place (big-endian hosts reading LE files). */
export function byteSwapInPlace(bytes: Uint8Array, itemSize: number): void {
  if (itemSize <= 1) return;
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
