// Attribution-graph scale: time and peak memory of `loupe attribute` on prompts of chosen lengths (the
// beginning of a text file, cut to the longest prefix that is at most N tokens with BOS). Each length runs
// in its own process, so the peak RSS of one does not hide inside another's.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import type { Tokenizer } from '../model/tokenizers/index.js';

export interface AttributeBenchOptions {
  model: string;
  tokenizer?: string;
  transcoders: string;
  /** Text whose beginning makes the prompts. */
  data: string;
  lengths: readonly number[];
  /** Extra flags for `loupe attribute` (e.g. --batch 64). */
  extraArgs?: readonly string[];
  onRow?: (row: AttributeBenchRow) => void;
}

export interface AttributeBenchRow {
  tokens: number;
  nodes: number;
  edges: number;
  active_features: number;
  replacement_score: number;
  completeness_score: number;
  exactness_max_rel_error: number;
  seconds: number;
  peak_rss_mb: number;
}

/** The longest prefix of `text` (cut at a character) that encodes to at most n tokens with BOS. */
export function promptOfLength(tokenizer: Tokenizer, text: string, n: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trimStart());
  const fits = (m: number): boolean => tokenizer.encode(chars.slice(0, m).join(''), { bos: true }).length <= n;
  let lo = 0;
  let hi = Math.min(chars.length, 16 * n);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0) throw new InputError(`no prefix of the text fits in ${n} tokens`);
  return chars.slice(0, lo).join('').trimEnd();
}

export function benchAttribute(tokenizer: Tokenizer, o: AttributeBenchOptions): AttributeBenchRow[] {
  const text = fs.readFileSync(o.data, 'utf8').slice(0, 1 << 20);
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/loupe.js');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-attribute-'));
  const rows: AttributeBenchRow[] = [];
  try {
    for (const n of o.lengths) {
      const prompt = promptOfLength(tokenizer, text, n);
      const args = [cli, 'attribute', '--model', o.model, '--transcoders', o.transcoders, '--prompt', prompt, '--out', path.join(tmp, `graph-${n}.json`), '--json'];
      if (o.tokenizer) args.push('--tokenizer', o.tokenizer);
      args.push(...(o.extraArgs ?? []));
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new InputError(`loupe attribute on a ${n}-token prompt failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
      const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as AttributeBenchRow;
      const row: AttributeBenchRow = {
        tokens: s.tokens,
        nodes: s.nodes,
        edges: s.edges,
        active_features: s.active_features,
        replacement_score: s.replacement_score,
        completeness_score: s.completeness_score,
        exactness_max_rel_error: s.exactness_max_rel_error,
        seconds: s.seconds,
        peak_rss_mb: s.peak_rss_mb,
      };
      rows.push(row);
      o.onRow?.(row);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
