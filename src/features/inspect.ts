// Live prompt inspection: each token's strongest features, recomputed through the same activation code
// as the build (encodeChecked), with the build's BOS policy, so an example's stored `text` reproduces its
// stored activations.
import { InputError } from '../errors.js';
import type { Store } from '../store/index.js';
import { builtInfo, checkFeature } from './database.js';
import { checkIdentity } from './registry.js';
import { latentActivations, type ActivationSource } from './source.js';

export interface InspectOptions {
  /** Strongest features listed per token (default 32). */
  top?: number;
  /** Report exactly these features at every token (zeros included) instead of the strongest. */
  features?: number[];
}

export interface InspectResult {
  text: string;
  bos: boolean;
  tokens: { token: string; token_id: number; position: number; features: { feature: number; activation: number }[] }[];
}

const MAX_PROMPT_TOKENS = 4096;

export async function inspectPrompt(store: Store, source: ActivationSource, text: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const info = await builtInfo(store);
  checkIdentity(info.identity, source.identity, store.path);
  return inspectWith(source, text, info.build.bos, opts);
}

/** inspectPrompt without a database (the source and BOS policy given directly). */
export async function inspectWith(source: ActivationSource, text: string, bos: boolean, opts: InspectOptions = {}): Promise<InspectResult> {
  const top = opts.top ?? 32;
  if (!Number.isInteger(top) || top < 1) throw new InputError(`top must be a positive integer, got ${top}`);
  for (const f of opts.features ?? []) checkFeature(f, source.nFeatures);
  const tok = source.tokenizer;
  const ids = tok.encode(text, { bos });
  const skip = bos ? 1 : 0;
  if (ids.length <= skip) throw new InputError('the prompt is empty: nothing to inspect');
  if (ids.length > MAX_PROMPT_TOKENS) throw new InputError(`the prompt is ${ids.length} tokens; inspect takes at most ${MAX_PROMPT_TOKENS}`);
  const [acts] = await latentActivations(source, [ids]);
  const F = source.nFeatures;
  const tokens: InspectResult['tokens'] = [];
  for (let t = skip; t < ids.length; t++) {
    const row = acts!.subarray(t * F, (t + 1) * F);
    let features: { feature: number; activation: number }[];
    if (opts.features) {
      features = opts.features.map((f) => ({ feature: f, activation: row[f]! }));
    } else {
      features = [];
      for (let f = 0; f < F; f++) if (row[f]! > 0) features.push({ feature: f, activation: row[f]! });
      features.sort((a, b) => b.activation - a.activation || a.feature - b.feature);
      features.length = Math.min(features.length, top);
    }
    tokens.push({ token: tok.decodeToken(ids[t]!, t > 0 ? ids[t - 1] : undefined), token_id: ids[t]!, position: t - skip, features });
  }
  return { text, bos, tokens };
}
