// Prompts for LLM explainers and scorers (after OpenAI's 2023 automated interpretability and delphi),
// and strict parsers for the replies: a reply that does not have the requested form is rejected with a
// ProviderError quoting it, so garbage never becomes an explanation or a score.
import type { TokenLogprob } from './chat.js';
import { ProviderError, type ExplainInput, type ShownExample } from './provider.js';

export const EXPLAIN_SYSTEM =
  'You are a meticulous interpretability researcher studying features of a neural network language model. ' +
  'Each feature responds to a particular pattern in text. You will see excerpts where the feature is active: ' +
  'the tokens it fires on are marked <<like this>>, and each excerpt is followed by the marked tokens with their ' +
  'activation on a 0-10 scale. Write one short sentence saying what the feature responds to: the common pattern, ' +
  'not a list of the examples. Reply with the explanation only.';

export const DETECT_SYSTEM =
  'You evaluate explanations of neural network features. Given an explanation and numbered text excerpts, decide ' +
  'for each excerpt whether the described feature would fire on some token of it. Reply with only a JSON array of ' +
  'integers, one per excerpt in order: 1 if it fires, 0 if not.';

export const FUZZ_SYSTEM =
  'You evaluate explanations of neural network features. In each numbered excerpt some tokens are marked <<like ' +
  'this>>. Decide for each excerpt whether the marked tokens are the ones the described feature would fire on. ' +
  'Reply with only a JSON array of integers, one per excerpt in order: 1 if correctly marked, 0 if not.';

export const SIMULATE_SYSTEM =
  "You predict a neural network feature's activation on each token from an explanation of the feature. For each " +
  'numbered token, output one line: the index, a tab, and an integer activation from 0 (none) to 10 (maximal). ' +
  'Cover every token in order and output nothing else.';

/** Text with marked tokens wrapped in << >> (runs merged; a token's leading space stays outside). */
export function markedText(tokens: readonly string[], marked: readonly boolean[]): string {
  let out = '';
  let open = false;
  tokens.forEach((tok, i) => {
    if (marked[i] && !open) {
      const lead = /^\s*/.exec(tok)![0];
      out += lead + '<<' + tok.slice(lead.length);
      open = true;
    } else out += tok;
    if (open && !marked[i + 1]) {
      out += '>>';
      open = false;
    }
  });
  return out.replace(/\n/g, '\\n');
}

function exampleBlock(ex: ShownExample, i: number): string {
  const marked = ex.activations.map((a) => a > 0);
  const acts = ex.tokens
    .map((t, j) => (ex.activations[j]! > 0 ? `${JSON.stringify(t.trim() || t)} (${ex.activations[j]})` : null))
    .filter(Boolean)
    .join(', ');
  return `Excerpt ${i + 1}: ${markedText(ex.tokens, marked)}\nActivations: ${acts}`;
}

export function explainPrompt(input: ExplainInput): string {
  const parts = input.examples.map(exampleBlock);
  if (input.promotes?.length) parts.push(`When active, the feature makes the model more likely to output: ${input.promotes.map((t) => JSON.stringify(t)).join(', ')}.`);
  parts.push('Explanation:');
  return parts.join('\n\n');
}

export function listPrompt(explanation: string, excerpts: string[], what: string): string {
  return `Explanation: ${explanation}\n\n${excerpts.map((e, i) => `Excerpt ${i + 1}: ${e}`).join('\n')}\n\n${what} (a JSON array of ${excerpts.length} integers):`;
}

export function simulatePrompt(explanation: string, tokens: readonly string[]): string {
  return `Explanation: ${explanation}\n\nTokens:\n${tokens.map((t, i) => `${i}\t${JSON.stringify(t)}`).join('\n')}\n\nPredictions:`;
}

export function parseExplanation(reply: string, provider: string): string {
  const line = reply
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  let text = (line ?? '').replace(/^(explanation|answer)\s*:\s*/i, '').trim();
  if (/^["'“].*["'”]$/.test(text)) text = text.slice(1, -1).trim();
  if (!text) throw new ProviderError('garbage', `${provider}: the reply holds no explanation`, { reply: snippet(reply) });
  if (/^[{[<]/.test(text) || text.length > 400) throw new ProviderError('garbage', `${provider}: the reply is not a one-sentence explanation: ${snippet(reply)}`, { reply: snippet(reply) });
  return text;
}

/** The first JSON array in the reply, of n entries each 0/1 (or booleans). */
export function parseBinaryList(reply: string, n: number, provider: string): boolean[] {
  const m = /\[[^\]]*\]/.exec(reply);
  let arr: unknown;
  try {
    arr = m ? JSON.parse(m[0]) : null;
  } catch {
    arr = null;
  }
  if (!Array.isArray(arr) || arr.length !== n || !arr.every((x) => x === 0 || x === 1 || x === true || x === false)) {
    throw new ProviderError('garbage', `${provider}: expected a JSON array of ${n} zeros and ones, got: ${snippet(reply)}`, { reply: snippet(reply) });
  }
  return arr.map((x) => x === 1 || x === true);
}

/**
 * Per-token predictions from "index<TAB>activation" lines. With log-probabilities, each activation is the
 * expected value over the numeric alternatives the model weighed at that point (as OpenAI's simulator
 * does); without, the integer it wrote.
 */
export function parseSimulation(reply: string, n: number, logprobs: TokenLogprob[] | null, provider: string): number[] {
  const out = new Array<number | null>(n).fill(null);
  const offsets = logprobs ? tokenOffsets(logprobs, reply) : null;
  const re = /^[ \t]*(\d+)[ \t]+(\d+)[ \t]*$/gm;
  for (let m = re.exec(reply); m; m = re.exec(reply)) {
    const i = Number(m[1]);
    let v = Number(m[2]);
    if (i >= n || v > 10 || out[i] !== null) throw new ProviderError('garbage', `${provider}: bad prediction line "${m[0].trim()}"`, { reply: snippet(reply) });
    if (offsets) {
      const at = m.index + m[0].lastIndexOf(m[2]!);
      const k = offsets.findIndex((o, j) => o <= at && (j + 1 === offsets.length || offsets[j + 1]! > at));
      const ev = k >= 0 ? expectedDigit(logprobs![k]!) : null;
      if (ev !== null) v = ev;
    }
    out[i] = v;
  }
  const missing = out.filter((x) => x === null).length;
  if (missing > 0) throw new ProviderError('garbage', `${provider}: predictions missing for ${missing} of ${n} tokens: ${snippet(reply)}`, { reply: snippet(reply) });
  return out as number[];
}

/** Character offset of each logprob token in the reply (null when they do not spell the reply). */
function tokenOffsets(lp: TokenLogprob[], reply: string): number[] | null {
  const offs: number[] = [];
  let at = 0;
  for (const t of lp) {
    offs.push(at);
    at += t.token.length;
  }
  return lp.map((t) => t.token).join('') === reply ? offs : null;
}

function expectedDigit(t: TokenLogprob): number | null {
  let num = 0;
  let den = 0;
  for (const a of t.top.length ? t.top : [{ token: t.token, logprob: t.logprob }]) {
    const s = a.token.trim();
    if (!/^\d+$/.test(s) || Number(s) > 10) continue;
    const p = Math.exp(a.logprob);
    num += p * Number(s);
    den += p;
  }
  return den > 0 ? num / den : null;
}

function snippet(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 160 ? t.slice(0, 160) + '...' : t;
}
