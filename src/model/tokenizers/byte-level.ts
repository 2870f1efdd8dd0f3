// GPT-2's byte-level alphabet: every byte is shown as a printable character so a vocabulary of byte strings can
// live in JSON. Printable Latin-1 bytes (! to ~, ¡ to ¬, ® to ÿ) stand for themselves; the other 68 bytes
// (controls, space, soft hyphen ...) take the code points from U+0100 upwards, in byte order. Space becomes "Ġ".

function buildByteToChar(): string[] {
  const out = new Array<string>(256);
  let nextExtra = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : nextExtra++);
  }
  return out;
}

/** byteToChar[b] is the character that stands for byte b. */
export const byteToChar: readonly string[] = buildByteToChar();

const charToByteMap = new Map<string, number>(byteToChar.map((c, b) => [c, b]));

/** The byte a byte-level character stands for, or undefined for a character outside the alphabet. */
export function charToByte(ch: string): number | undefined {
  return charToByteMap.get(ch);
}

/** Bytes -> byte-level string (one character per byte). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += byteToChar[b]!;
  return s;
}

/** Byte-level string -> bytes; a character outside the alphabet is kept as its UTF-8 bytes. */
export function byteLevelToBytes(s: string): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (const ch of s) {
    const b = charToByteMap.get(ch);
    if (b !== undefined) out.push(b);
    else for (const x of enc.encode(ch)) out.push(x);
  }
  return Uint8Array.from(out);
}

/**
 * GPT-2's pre-tokenization split: contractions, letters with an optional leading space, numbers, other symbols,
 * and whitespace (a run of spaces leaves its last space to the next word). Same pattern as the Rust ByteLevel.
 */
export const GPT2_SPLIT_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
