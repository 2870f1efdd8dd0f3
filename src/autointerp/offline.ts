// The offline provider: explanations and judgements computed from the examples themselves, no network.
// Its explanation names the tokens carrying most of the feature's activation, in quotes, with the most
// common preceding token when one dominates: fires on "ball", "balls" (often after "red").
// Its judge reads the quoted tokens back from any explanation (falling back to the explanation's
// content words) and says a token matches when its text, trimmed and lower-cased, is one of them.
// A baseline to compare LLM explanations against, and what lets the whole pipeline run in tests.
import type { Answer, DetectInput, ExplainInput, FuzzInput, InterpProvider, SimulateInput, Usage } from './provider.js';
import { emptyUsage } from './provider.js';

const NONE = { promptTokens: 0, completionTokens: 0 };
const STOP = new Set(['the', 'and', 'for', 'with', 'that', 'this', 'fires', 'fire', 'firing', 'token', 'tokens', 'word', 'words', 'often', 'after', 'before', 'about', 'related', 'feature', 'text', 'when', 'from', 'into', 'mentions', 'mention']);

export class OfflineProvider implements InterpProvider {
  readonly name = 'offline';
  readonly model = 'token-statistics-v1';
  private readonly totals = emptyUsage();

  constructor(private readonly maxTokens = 4) {}

  usage(): Usage {
    return { ...this.totals };
  }

  async explain(input: ExplainInput): Promise<Answer<string>> {
    this.totals.requests++;
    const weight = new Map<string, number>();
    const before = new Map<string, Map<string, number>>();
    for (const ex of input.examples) {
      ex.tokens.forEach((tok, i) => {
        const a = ex.activations[i]!;
        if (!(a > 0)) return;
        const key = norm(tok);
        if (!key) return;
        weight.set(key, (weight.get(key) ?? 0) + a);
        const prev = i > 0 ? norm(ex.tokens[i - 1]!) : '';
        if (prev) {
          let m = before.get(key);
          if (!m) before.set(key, (m = new Map()));
          m.set(prev, (m.get(prev) ?? 0) + 1);
        }
      });
    }
    const ranked = [...weight.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (!ranked.length) return { value: 'no activations observed', usage: NONE };
    const total = ranked.reduce((s, [, w]) => s + w, 0);
    // Keep the tokens that together carry most of the activation (at least one, at most maxTokens).
    const kept: string[] = [];
    let acc = 0;
    for (const [tok, w] of ranked) {
      if (kept.length >= this.maxTokens || (kept.length > 0 && acc >= 0.8 * total)) break;
      kept.push(tok);
      acc += w;
    }
    let text = `fires on ${kept.map((t) => JSON.stringify(t)).join(', ')}`;
    const ctx = before.get(kept[0]!);
    if (ctx) {
      const [prev, n] = [...ctx.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
      const occurrences = [...ctx.values()].reduce((s, x) => s + x, 0);
      if (occurrences >= 2 && n / occurrences >= 0.5) text += ` (often after ${JSON.stringify(prev)})`;
    }
    return { value: text, usage: NONE };
  }

  async detect(input: DetectInput): Promise<Answer<boolean[]>> {
    this.totals.requests++;
    const keys = explanationKeys(input.explanation);
    return { value: input.examples.map((tokens) => tokens.some((t) => keys.has(norm(t)))), usage: NONE };
  }

  async fuzz(input: FuzzInput): Promise<Answer<boolean[]>> {
    this.totals.requests++;
    const keys = explanationKeys(input.explanation);
    return {
      value: input.examples.map((ex) => {
        const marked = ex.tokens.filter((_, i) => ex.marked[i]);
        const hits = marked.filter((t) => keys.has(norm(t))).length;
        return marked.length > 0 && hits * 2 >= marked.length;
      }),
      usage: NONE,
    };
  }

  async simulate(input: SimulateInput): Promise<Answer<number[][]>> {
    this.totals.requests++;
    const keys = explanationKeys(input.explanation);
    return { value: input.examples.map((tokens) => tokens.map((t) => (keys.has(norm(t)) ? 10 : 0))), usage: NONE };
  }
}

function norm(tok: string): string {
  return tok.trim().toLowerCase();
}

/** The tokens an explanation names: its quoted strings outside an "(often after ...)" clause, else its content words. */
export function explanationKeys(explanation: string): Set<string> {
  const main = explanation.replace(/\(often after[^)]*\)/gi, '');
  const quoted = [...main.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => {
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1]!;
    }
  });
  const keys = quoted.map(norm).filter(Boolean);
  if (keys.length) return new Set(keys);
  return new Set(
    main
      .toLowerCase()
      .split(/[^\p{L}\p{N}']+/u)
      .filter((w) => w.length >= 3 && !STOP.has(w)),
  );
}
