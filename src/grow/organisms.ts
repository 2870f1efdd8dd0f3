// Model organisms: ready recipes that grow a small model in which a known circuit forms, then measure
// its training dynamics. `induction`: a 2-layer attention-only model grows induction heads (a
// previous-token head in layer 0 composing with an induction head in layer 1), with the phase change
// visible in the checkpoints; the same recipe with 1 layer cannot form them (there is no earlier layer
// to supply "the token before"), which is the control. Settings and measured curves: docs/grow.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { runDynamics, type DynamicsResult } from './dynamics.js';
import { dynamicsSvg } from './dynamics-plot.js';
import { grow, type GrowProgress, type GrowResult } from './grow.js';
import type { GrowSpecInput } from './spec.js';

export interface OrganismOptions {
  out: string;
  /** Layers of the organism (induction: 2 grows induction heads, 1 is the control). */
  layers?: number;
  /** Training text (default: ../shared/data/tinystories-sample.txt beside the project, or $LOUPE_SHARED/data/...). */
  data?: string;
  seed?: number;
  /** Override the recipe's step count (e.g. for a quick look). */
  steps?: number;
  onProgress?: (p: GrowProgress) => void;
  onMessage?: (m: string) => void;
  onDynamics?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface OrganismResult {
  name: string;
  grow: GrowResult;
  dynamics: DynamicsResult;
  /** Wall time of growing and measuring, seconds. */
  wallS: number;
  /** Induction score of the best head at the last checkpoint. */
  finalInduction: number;
  finalIcl: number;
}

export interface OrganismRecipe {
  name: string;
  description: string;
  defaultLayers: number;
  spec(layers: number, data: string, seed: number): GrowSpecInput;
}

/**
 * The induction-head organism (tuning notes in docs/grow.md): attention-only, rotary positions, d_model 64,
 * 4 heads, a short context of 32 tokens (the wait before induction heads form grows with the context
 * length), vocabulary 512; half of the sequences are a random token segment of 4-15 tokens repeated to fill
 * the context, half are TinyStories windows; AdamW at 1e-3 (warmup 100, cosine), batch 32, 3000 steps,
 * a checkpoint every 100 steps.
 */
export const inductionRecipe: OrganismRecipe = {
  name: 'induction',
  description: 'attention-only model on text + repeated random segments: induction heads and the ICL phase change',
  defaultLayers: 2,
  spec: (layers, data, seed) => ({
    model: { arch: 'attn-only', layers, dModel: 64, heads: 4, ctx: 32, vocab: 512 },
    train: { steps: 3000, batch: 32, lr: 1e-3, warmupSteps: 100, decay: 'cosine', weightDecay: 0.01, gradClip: 1, seed, initStd: 0.02 },
    data: { path: data, repeatFraction: 0.5, repeatMinLen: 4, repeatMaxLen: 15 },
    checkpoints: { every: 100, at: [0, 25, 50], evalBatches: 4, logEvery: 10 },
  }),
};

export const ORGANISMS: Readonly<Record<string, OrganismRecipe>> = { induction: inductionRecipe };

export async function growOrganism(name: string, o: OrganismOptions): Promise<OrganismResult> {
  const recipe = ORGANISMS[name];
  if (!recipe) throw new InputError(`unknown organism "${name}" (known: ${Object.keys(ORGANISMS).join(', ')})`);
  const layers = o.layers ?? recipe.defaultLayers;
  const data = o.data ?? defaultTextPath();
  const spec = recipe.spec(layers, data, o.seed ?? 0);
  if (o.steps !== undefined) spec.train = { ...spec.train, steps: o.steps };
  const t0 = Date.now();
  const grown = await grow({ out: o.out, spec, onProgress: o.onProgress, onMessage: o.onMessage, signal: o.signal });
  const dynamics = await runDynamics(o.out, { onCheckpoint: (_, i, n) => o.onDynamics?.(i + 1, n) });
  fs.writeFileSync(path.join(o.out, 'dynamics.json'), JSON.stringify(dynamics) + '\n');
  fs.writeFileSync(path.join(o.out, 'dynamics.svg'), dynamicsSvg(dynamics, `${recipe.name} organism, ${layers} layer${layers === 1 ? '' : 's'}`));
  const last = dynamics.checkpoints[dynamics.checkpoints.length - 1]!;
  return { name, grow: grown, dynamics, wallS: (Date.now() - t0) / 1000, finalInduction: last.induction_max, finalIcl: last.icl_score };
}

/** TinyStories from the shared data folder: $LOUPE_SHARED/data, else ../shared/data beside the project. */
export function defaultTextPath(): string {
  const shared = process.env.LOUPE_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));
  const file = path.join(shared, 'data', 'tinystories-sample.txt');
  if (!fs.existsSync(file)) {
    throw new InputError(`no training text given and ${file} is not there: pass --data FILE (any English text works; the recipe was tuned on TinyStories)`);
  }
  return file;
}
