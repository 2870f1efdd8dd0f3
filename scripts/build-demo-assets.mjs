#!/usr/bin/env node
// Rebuilds assets/default (the embedded default behind `loupe demo`) from a grown checkpoint:
//   node scripts/build-demo-assets.mjs CHECKPOINT_DIR DATA_FILE [OUT_DIR]
// 1. copies the model (config.json, model.safetensors, tokenizer.json) into OUT/model
// 2. trains a TopK SAE on blocks.1.hook_resid_post (`loupe sae train`)
// 3. builds the feature database (`loupe features build`) and labels it offline (`loupe features explain`)
// 4. picks the steering example by measurement: for each concept, the features whose logit effects
//    promote it (output evidence) are steered with `add` at a few strengths over paired samples; the
//    best rate gain whose fluency cost stays under 1.5x wins, and its numbers go into demo.json.
// See docs/grow.md for the exact grow command that made the checkpoint.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [ckpt, data, outArg] = process.argv.slice(2);
if (!ckpt || !data) {
  console.error('usage: node scripts/build-demo-assets.mjs CHECKPOINT_DIR DATA_FILE [OUT_DIR]');
  process.exit(2);
}
const out = path.resolve(outArg ?? path.join(root, 'assets', 'default'));
const loupe = (...args) => execFileSync(process.execPath, [path.join(root, 'bin', 'loupe.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'model'), { recursive: true });
for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) fs.copyFileSync(path.join(ckpt, f), path.join(out, 'model', f));
const model = path.join(out, 'model');
const tokenizer = path.join(model, 'tokenizer.json');
const sae = path.join(out, 'sae');
const db = path.join(out, 'features.duckdb');

loupe('sae', 'train', '--model', model, '--tokenizer', tokenizer, '--hook', 'blocks.1.hook_resid_post', '--data', data, '--arch', 'topk', '--latents', '512', '--k', '16', '--tokens', '300000', '--seed', '0', '--checkpoint-every', '0', '--out', sae);
fs.rmSync(path.join(sae, 'checkpoints'), { recursive: true, force: true });
loupe('features', 'build', '--model', model, '--tokenizer', tokenizer, '--sae', sae, '--data', data, '--tokens', '100000', '--db', db);
loupe('features', 'explain', '--db', db, '--provider', 'offline', '--features', '0-511');

const prompt = 'Once upon a time, there was a little';
const samples = 8;
let best = null;
for (const concept of ['dog', 'cat', 'bird', 'ball', 'tree']) {
  const hits = JSON.parse(loupe('features', 'search', '--db', db, '--query', concept, '--json')).results.filter((h) => h.output).slice(0, 2);
  for (const h of hits) {
    for (const strength of [4, 8]) {
      const r = JSON.parse(loupe('steer', '--model', model, '--tokenizer', tokenizer, '--sae', sae, '--feature', String(h.feature), '--mode', 'add', '--strength', String(strength), '--prompt', prompt, '--max-new-tokens', '40', '--samples', String(samples), '--seed', '0', '--concept', concept, '--json'));
      const gain = r.steered_rate - r.baseline_rate;
      const ok = r.steered_loss < 1.5 * r.baseline_loss;
      console.error(`concept ${concept} feature ${h.feature} add ${strength}: rate ${r.baseline_rate} -> ${r.steered_rate}, loss ${r.baseline_loss.toFixed(2)} -> ${r.steered_loss.toFixed(2)}`);
      if (ok && (!best || gain > best.gain)) best = { gain, concept, feature: h.feature, strength, r };
    }
  }
}
if (!best) throw new Error('no steering candidate kept fluency under 1.5x');
const settings = {
  storyPrompt: 'Once upon a time',
  inspectPrompt: 'The little dog ran to the big tree with a red ball.',
  steering: {
    feature: best.feature,
    concept: best.concept,
    mode: 'add',
    amount: best.strength,
    prompt,
    // sample i of a paired run uses sampler seed i: show one whose steered text names the concept
    seed: Math.max(0, best.r.steered.findIndex((t) => new RegExp(`\\b${best.concept}`, 'i').test(t))),
    measured: { samples, baseline_rate: best.r.baseline_rate, steered_rate: best.r.steered_rate, baseline_loss: best.r.baseline_loss, steered_loss: best.r.steered_loss },
  },
  maxNewTokens: 60,
  seed: 0,
};
fs.writeFileSync(path.join(out, 'demo.json'), JSON.stringify(settings, null, 2) + '\n');
console.error(`wrote ${out}: steering ${best.concept} with feature ${best.feature} (add ${best.strength})`);
