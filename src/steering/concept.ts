// Whether a generated text is "about" a concept: a regular expression over the decoded text. A plain
// word (letters, digits, spaces) matches as whole words, case-insensitively ("dog" does not match
// "dogma"; write "dogs?" for plurals); anything else is used as a regular expression, case-insensitive.
import { InputError } from '../errors.js';

export function conceptRegex(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const p = pattern.trim();
  if (!p) throw new InputError('the concept pattern is empty; give a word (e.g. dog) or a regular expression (e.g. "\\bdogs?\\b")');
  if (/^[\p{L}\p{N} ]+$/u.test(p)) return new RegExp(`(?<![\\p{L}\\p{N}])(?:${p.split(/\s+/).join('\\s+')})(?![\\p{L}\\p{N}])`, 'iu');
  try {
    return new RegExp(p, 'iu');
  } catch (err) {
    throw new InputError(`--concept ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** Share of texts that match (NaN for no texts). */
export function matchRate(texts: readonly string[], re: RegExp): number {
  if (texts.length === 0) return NaN;
  const g = new RegExp(re.source, re.flags.replace('g', ''));
  return texts.filter((t) => g.test(t)).length / texts.length;
}
