// The embedded default shipped in assets/default/: a small model grown with `loupe grow` on TinyStories,
// a TopK SAE on one of its hooks, a feature database for that SAE, and the demo's settings
// (demo.json: prompts and the steering example chosen when the assets were built; see docs/grow.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';

export interface DemoSettings {
  /** Prompt the story is generated from. */
  storyPrompt: string;
  /** Prompt whose tokens are inspected for features. */
  inspectPrompt: string;
  steering: {
    feature: number;
    concept: string;
    mode: 'add' | 'clamp';
    amount: number;
    prompt: string;
    seed: number;
    /** Measured when the assets were built: share of samples naming the concept, unsteered and steered. */
    measured?: { samples: number; baseline_rate: number; steered_rate: number; baseline_loss: number; steered_loss: number };
  };
  maxNewTokens: number;
  seed: number;
}

export interface DemoAssets {
  dir: string;
  model: string;
  tokenizer: string;
  sae: string;
  db: string;
  settings: DemoSettings;
}

/** assets/default relative to the installed package (dist/demo -> ../../assets/default). */
export function defaultAssetsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'default');
}

export function loadDemoAssets(dir = defaultAssetsDir()): DemoAssets {
  const model = path.join(dir, 'model');
  const files = [path.join(model, 'config.json'), path.join(model, 'model.safetensors'), path.join(model, 'tokenizer.json'), path.join(dir, 'sae', 'cfg.json'), path.join(dir, 'features.duckdb'), path.join(dir, 'demo.json')];
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length) throw new InputError(`the embedded demo assets are incomplete in ${dir}: missing ${missing.map((m) => path.relative(dir, m)).join(', ')} (rebuild them as docs/grow.md describes)`);
  const settings = JSON.parse(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8')) as DemoSettings;
  return { dir, model, tokenizer: path.join(model, 'tokenizer.json'), sae: path.join(dir, 'sae'), db: path.join(dir, 'features.duckdb'), settings };
}
