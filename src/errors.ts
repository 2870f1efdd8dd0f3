// Errors a user can act on: what was expected, what was found, and where.
// Every layer throws a LoupeError (or subclass); the CLI prints `error.message` on one line and exits non-zero.

export class LoupeError extends Error {
  /** Stable machine-readable code, e.g. "shape_mismatch". */
  readonly code: string;
  /** Structured details for --json output and for programs. */
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A tensor op received shapes it cannot combine. */
export class ShapeError extends LoupeError {
  constructor(op: string, message: string, shapes: readonly (readonly number[])[] = []) {
    const shown = shapes.length ? ` (got ${shapes.map((s) => `[${s.join(',')}]`).join(' and ')})` : '';
    super('shape_mismatch', `${op}: ${message}${shown}`, { op, shapes });
  }
}

/** A file or tensor in a dtype Loupe does not read. */
export class DTypeError extends LoupeError {
  constructor(where: string, dtype: string, supported: readonly string[]) {
    super('unsupported_dtype', `${where}: unsupported dtype ${dtype} (supported: ${supported.join(', ')})`, { where, dtype, supported });
  }
}

/** A gradient or loss that became NaN or infinite. */
export class NonFiniteError extends LoupeError {
  constructor(where: string, message: string) {
    super('non_finite', `${where}: ${message}`, { where });
  }
}

/** A malformed or truncated file, or one whose header promises more than it holds. */
export class FormatError extends LoupeError {
  constructor(path: string, message: string) {
    super('bad_format', `${path}: ${message}`, { path });
  }
}

/** Bad user input: a flag, a value, an index out of range, a name that does not exist. */
export class InputError extends LoupeError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('bad_input', message, details);
  }
}

/** Suggest the closest candidates to a misspelt name (hook names, architectures, commands). */
export function closestNames(name: string, candidates: Iterable<string>, count = 3): string[] {
  const scored: [number, string][] = [];
  for (const c of candidates) scored.push([editDistance(name, c), c]);
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, count).map((s) => s[1]);
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
