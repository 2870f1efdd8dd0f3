// Formatting and colour helpers shared by the pages.

/** A token as displayed: whitespace made visible, so " the" and "the" differ and "\n" shows. */
export function showToken(t: string): string {
  return t.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/^ /, '\u00a0').replace(/ $/, '\u00a0') || '∅';
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (x === 0) return '0%';
  if (x < 1e-4) return `${(x * 100).toExponential(1)}%`;
  return `${Number((x * 100).toPrecision(3))}%`;
}

/** Background for an activation: orange with opacity by value/max (0 transparent). */
export function actColor(value: number, max: number): string {
  if (!(value > 0) || !(max > 0)) return 'transparent';
  const a = Math.min(1, value / max);
  return `rgba(255, 140, 0, ${(0.12 + 0.78 * a).toFixed(3)})`;
}

/** Diverging colour for signed values (logit effects, link weights): blue positive, red negative. */
export function signedColor(value: number, max: number): string {
  const a = Math.min(1, Math.abs(value) / (max || 1));
  return value >= 0 ? `rgba(37, 99, 235, ${(0.15 + 0.7 * a).toFixed(3)})` : `rgba(220, 38, 38, ${(0.15 + 0.7 * a).toFixed(3)})`;
}

export function clampInt(s: string | null, lo: number, hi: number, dflt: number): number {
  const n = Number(s);
  return Number.isInteger(n) && n >= lo && n <= hi ? n : dflt;
}
