// The steering playground's endpoint (src/server/routes/steer-stream.ts):
//   POST /api/steer/stream  {prompt, interventions: [{feature, mode, amount}], max_new_tokens, seed, temperature}
// Reply, streamed (application/x-ndjson), one event per line:
//   {"type": "start", "prompt_tokens": n}
//   {"type": "token", "side": "baseline" | "steered", "text": " the"}      appended to that side
//   {"type": "done", "baseline": {"text", "loss", "stop"}, "steered": {...}}
//   {"type": "error", "message": "..."}
// Refusals (bad parameters, no model, prompt over the context) are the API's {error: {code, message}}.
import { readReply } from '../api';

export const MODES = ['add', 'clamp', 'ablate'] as const;

export interface SteerFeature {
  feature: number;
  mode: (typeof MODES)[number];
  amount: number;
}

export interface SteerState {
  baseline: string;
  steered: string;
  done: boolean;
  info: string | null;
}

/** "12:4,7:clamp:2" -> features (URL form: feature[:mode]:amount). */
export function parseSteerSpec(spec: string): SteerFeature[] {
  const out: SteerFeature[] = [];
  for (const part of spec.split(',').filter(Boolean)) {
    const bits = part.split(':');
    const feature = Number(bits[0]);
    if (!Number.isInteger(feature) || feature < 0) continue;
    const mode = (MODES as readonly string[]).includes(bits[1] ?? '') ? (bits[1] as SteerFeature['mode']) : 'add';
    const amount = Number(mode === 'add' && bits.length === 2 ? bits[1] : bits[2] ?? 4);
    out.push({ feature, mode, amount: Number.isFinite(amount) ? amount : 4 });
  }
  return out;
}

export function formatSteerSpec(list: SteerFeature[]): string {
  return list.map((f) => (f.mode === 'add' ? `${f.feature}:${f.amount}` : `${f.feature}:${f.mode}:${f.amount}`)).join(',');
}

export async function runSteering(
  req: { prompt: string; features: SteerFeature[]; maxNewTokens: number; seed: number; temperature: number },
  signal: AbortSignal,
  onUpdate: (s: SteerState) => void,
): Promise<void> {
  const body = {
    prompt: req.prompt,
    interventions: req.features.map((f) => ({ feature: f.feature, mode: f.mode, amount: f.amount })),
    max_new_tokens: req.maxNewTokens,
    seed: req.seed,
    temperature: req.temperature,
  };
  let res: Response;
  try {
    res = await fetch('/api/steer/stream', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new Error('the Loupe server does not answer (is `loupe serve` still running?)');
  }
  const state: SteerState = { baseline: '', steered: '', done: false, info: null };
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !type.includes('ndjson') || !res.body) {
    await readReply(res); // throws the server's message
    throw new Error('the server did not stream the generations');
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const ev = JSON.parse(line) as { type: string; side?: 'baseline' | 'steered'; text?: string; message?: string; baseline?: { text?: string; loss?: number }; steered?: { text?: string; loss?: number } };
      if (ev.type === 'token' && ev.side) state[ev.side] += ev.text ?? '';
      else if (ev.type === 'error') throw new Error(ev.message ?? 'steering failed');
      else if (ev.type === 'done') {
        if (ev.baseline?.text !== undefined) state.baseline = ev.baseline.text;
        if (ev.steered?.text !== undefined) state.steered = ev.steered.text;
        const loss = [ev.baseline?.loss, ev.steered?.loss];
        if (loss.every((l) => typeof l === 'number')) state.info = `per-token loss under the unsteered model: baseline ${loss[0]!.toFixed(3)}, steered ${loss[1]!.toFixed(3)}`;
        state.done = true;
      }
      onUpdate(state);
    }
  }
  state.done = true;
  onUpdate(state);
}
