// A tiny protobuf writer: just enough wire format (varints and length-delimited fields) to emit the
// handful of ONNX messages the native backend needs, so no protobuf dependency is pulled in.

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

const utf8 = new TextEncoder();

/** Appends fields in call order; `finish()` returns the encoded message. */
export class ProtoWriter {
  private bytes: number[] = [];

  /** An int32/int64/enum/bool field. Negative values use the 10-byte two's-complement form. */
  varint(field: number, value: number | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const buf = new Uint8Array(4);
    new DataView(buf.buffer).setFloat32(0, value, true);
    for (const b of buf) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.lengthDelimited(field, utf8.encode(value));
  }

  /** A nested message, written by `build` into its own writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.lengthDelimited(field, inner.finish());
  }

  lengthDelimited(field: number, payload: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(payload.length);
    for (const b of payload) this.bytes.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
    // BigInt keeps negatives (two's complement over 64 bits) and values above 2^31 exact.
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.bytes.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
  }
}
