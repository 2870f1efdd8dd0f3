// Checkpoint serialisation: named typed arrays plus a JSON header in one deflated buffer. The layout is
// [u32 header length][header JSON][8-byte aligned array bytes ...], little-endian as the host writes it
// (checkpoints are resumed on the machine that wrote them; the header records the endianness anyway).
import { deflateSync, inflateSync } from 'node:zlib';
import { FormatError } from '../../errors.js';

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Uint8Array;

const CTORS = { Float32Array, Float64Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Uint8Array } as const;
type CtorName = keyof typeof CTORS;

interface Header {
  littleEndian: boolean;
  meta: unknown;
  arrays: { name: string; type: CtorName; length: number; offset: number }[];
}

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function packArrays(meta: unknown, arrays: Record<string, NumericArray>): Uint8Array {
  const entries: Header['arrays'] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, type: a.constructor.name as CtorName, length: a.length, offset });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const header = new TextEncoder().encode(JSON.stringify({ littleEndian: LITTLE, meta, arrays: entries } satisfies Header));
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const out = new Uint8Array(start + offset);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  for (const e of entries) {
    const a = arrays[e.name]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + e.offset);
  }
  // Level 1: the state is mostly zeros and small integers; speed matters more than the last few percent.
  return deflateSync(out, { level: 1 });
}

export function unpackArrays(packed: Uint8Array, where = 'checkpoint'): { meta: unknown; arrays: Record<string, NumericArray> } {
  let raw: Buffer;
  try {
    raw = inflateSync(packed);
  } catch (err) {
    throw new FormatError(where, `cannot inflate the saved state (${(err as Error).message})`);
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const hlen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + hlen))) as Header;
  if (header.littleEndian !== LITTLE) throw new FormatError(where, 'was written on a machine of the other byte order');
  const start = Math.ceil((4 + hlen) / 8) * 8;
  const arrays: Record<string, NumericArray> = {};
  for (const e of header.arrays) {
    const Ctor = CTORS[e.type];
    if (!Ctor) throw new FormatError(where, `unknown array type ${e.type}`);
    const byteLen = e.length * Ctor.BYTES_PER_ELEMENT;
    if (start + e.offset + byteLen > bytes.length) throw new FormatError(where, `array ${e.name} runs past the end of the saved state`);
    // Copy into a fresh, aligned buffer (the inflated one is shared and may be unaligned).
    const copy = new Uint8Array(byteLen);
    copy.set(bytes.subarray(start + e.offset, start + e.offset + byteLen));
    arrays[e.name] = new Ctor(copy.buffer);
  }
  return { meta: header.meta, arrays };
}
