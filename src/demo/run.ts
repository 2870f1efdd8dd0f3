// `loupe demo`: one pass over Loupe's main capabilities on the embedded default, as data (the CLI renders
// it): the model, a generated story, the features that fire on a prompt with their top examples, and one
// steering example paired with its unsteered baseline from the same seed.
import { featureRecord, inspectWith, openFeatureDb, sourceForStore } from '../features/index.js';
import { generate, loadModel, parameterCount } from '../model/index.js';
import { loadTokenizer } from '../model/tokenizers/index.js';
import { loadSae } from '../sae/format.js';
import { STEER_DEFAULTS, featureDirection, steer } from '../steering/index.js';
import { loadDemoAssets, type DemoAssets } from './assets.js';

export interface DemoFeatureCard {
  feature: number;
  label: string;
  density: number;
  max_activation: number;
  top_tokens: string[];
  promotes: string[];
  examples: { tokens: string[]; activations: number[] }[];
}

export interface DemoReport {
  model: { path: string; arch: string; layers: number; d_model: number; heads: number; vocab: number; parameters: number };
  dictionary: { hook: string; latents: number; k: number | null };
  story: { prompt: string; text: string };
  inspect: { prompt: string; tokens: { token: string; features: { feature: number; activation: number }[] }[] };
  features: DemoFeatureCard[];
  steering: {
    feature: number;
    label: string;
    concept: string;
    mode: string;
    amount: number;
    prompt: string;
    baseline: string;
    steered: string;
    measured: DemoAssets['settings']['steering']['measured'] | null;
  };
  seconds: number;
}

export async function runDemo(assets: DemoAssets = loadDemoAssets(), log: (line: string) => void = () => {}): Promise<DemoReport> {
  const t0 = Date.now();
  const s = assets.settings;
  log('loading the embedded model ...');
  const model = loadModel(assets.model);
  const tokenizer = await loadTokenizer(assets.tokenizer, { vocabSize: model.config.vocabSize });
  const sae = loadSae(assets.sae);
  const c = model.config;

  log('generating a story ...');
  const promptIds = tokenizer.encode(s.storyPrompt, { bos: true });
  const story = generate(model, tokenizer, promptIds, { maxNewTokens: s.maxNewTokens, temperature: 0.8, topK: 40, seed: s.seed });

  log('inspecting features ...');
  const store = await openFeatureDb(assets.db, { readOnly: true });
  let inspect: DemoReport['inspect'];
  const cards: DemoFeatureCard[] = [];
  let steerLabel = '';
  try {
    const source = await sourceForStore(store, { model: assets.model, tokenizer: assets.tokenizer, dictionary: assets.sae });
    const seen = await inspectWith(source, s.inspectPrompt, true, { top: 3 });
    inspect = { prompt: s.inspectPrompt, tokens: seen.tokens.map((t) => ({ token: t.token, features: t.features.filter((f) => f.activation > 0) })) };
    // Cards for the strongest distinct features on the prompt, then the steered one.
    const strongest = [...new Map(seen.tokens.flatMap((t) => t.features).sort((a, b) => b.activation - a.activation).map((f) => [f.feature, f])).keys()].slice(0, 3);
    for (const f of [...strongest, s.steering.feature]) {
      if (cards.some((card) => card.feature === f)) continue;
      const r = await featureRecord(store, f);
      cards.push({
        feature: f,
        label: r.explanations[0]?.text ?? '',
        density: r.density,
        max_activation: r.max_activation,
        top_tokens: r.top_tokens.slice(0, 5).map((t) => t.token),
        promotes: r.top_logits.slice(0, 5).map((l) => l.token),
        examples: r.top_examples.slice(0, 2).map((e) => ({ tokens: e.tokens, activations: e.activations })),
      });
    }
    steerLabel = cards.find((card) => card.feature === s.steering.feature)?.label ?? '';
  } finally {
    store.close();
  }

  log('steering ...');
  const st = s.steering;
  const result = steer(model, tokenizer, {
    interventions: [{ direction: featureDirection(sae, st.feature), mode: st.mode, amount: st.amount }],
    prompt: st.prompt,
    // The sampling the example was measured with (scripts/build-demo-assets.mjs runs `loupe steer` with
    // its defaults), so the shown sample is exactly sample `seed` of that measurement.
    maxNewTokens: STEER_DEFAULTS.maxNewTokens,
    samples: 1,
    seed: st.seed,
    temperature: STEER_DEFAULTS.temperature,
    concept: st.concept,
  });

  return {
    model: { path: assets.model, arch: c.family, layers: c.nLayers, d_model: c.dModel, heads: c.nHeads, vocab: c.vocabSize, parameters: parameterCount(c) },
    dictionary: { hook: sae.cfg.hookName ?? '', latents: sae.dSae, k: sae.cfg.k ?? null },
    story: { prompt: s.storyPrompt, text: s.storyPrompt + story.text },
    inspect,
    features: cards,
    steering: {
      feature: st.feature,
      label: steerLabel,
      concept: st.concept,
      mode: st.mode,
      amount: st.amount,
      prompt: st.prompt,
      baseline: st.prompt + (result.baseline?.texts[0] ?? ''),
      steered: st.prompt + result.steered.texts[0],
      measured: st.measured ?? null,
    },
    seconds: (Date.now() - t0) / 1000,
  };
}
