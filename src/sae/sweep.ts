// Scaling sweeps: train a grid over dictionary size and k (or L1) on the same activations, measure
// held-out loss (FVU) along each run, and fit power laws of loss against dictionary size (per k) and
// against training tokens (per run). Activations are harvested once into a disk cache so every grid point
// trains on the same stream without running the model again (or an existing cache, `loupe sae cache`,
// stands in for the harvest; the held-out rows still come from the model on the test split).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskActivationSource, readManifest, writeActivationCache, type CacheManifest } from '../activations/disk-cache.js';
import { ModelActivationSource } from '../activations/harvest.js';
import { collectRows } from '../activations/source.js';
import type { TextDataOptions } from '../activations/token-windows.js';
import { InputError } from '../errors.js';
import type { Transformer } from '../model/index.js';
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';
import { architectureNames, getArchitecture, type Architecture } from './architectures/index.js';
import { MetricsAccumulator } from './metrics.js';
import { fitPowerLaw, formatPowerLaw, type PowerLaw } from './power-law.js';
import type { Sae } from './sae.js';
import { reconstructRows } from './splice.js';
import { sweepSvg, type Series } from './sweep-plot.js';
import { cacheMetadata, textMetadata } from './text-training.js';
import { resolveTrainOptions, type TrainOptions } from './trainer-options.js';
import { trainSae } from './trainer.js';

/** Training settings every grid point shares (as `sae train` takes them). */
export type SweepRunSettings = Pick<TrainOptions, 'l0Coefficient' | 'bandwidth' | 'skip' | 'normalizeActivations' | 'bDecInit' | 'deadTokens'>;

export interface SweepOptions extends SweepRunSettings {
  model: Transformer;
  tokenizer: Tokenizer;
  modelName: string;
  data: TextDataOptions;
  contextSize: number;
  hooks: string[];
  out: string;
  architecture: string;
  latents: number[];
  /** TopK family: values of k. */
  ks?: number[];
  /** ReLU family: L1 coefficients. */
  l1s?: number[];
  tokens: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Train every grid point from this activation cache instead of harvesting into OUT/activations. */
  cache?: string;
  /** Checkpoint each run every this many steps (default 0: only its end). */
  checkpointEvery?: number;
  /** Held-out rows for the loss curves (default 20000). */
  evalTokens?: number;
  bufferRows?: number;
  log?: (line: string) => void;
}

export interface SweepRun {
  latents: number;
  k: number | null;
  l1: number | null;
  dir: string;
  /** Held-out FVU (and MSE, L0) at increasing token counts; the last is the final model. */
  curve: { tokens: number; fvu: number; mse: number; l0: number }[];
  fvu: number;
  mse: number;
  l0: number;
  dead_fraction: number;
  seconds: number;
  /** Held-out FVU against training tokens for this run. */
  tokens_law: PowerLaw | null;
}

export interface SweepResult {
  summary: { runs: SweepRun[]; size_laws: { group: string; law: PowerLaw | null }[]; tokens: number; eval_tokens: number };
  table: string;
  svg: string;
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const arch = getArchitecture(o.architecture);
  const log = o.log ?? (() => {});
  if (o.latents.length === 0) throw new InputError('a sweep needs at least one dictionary size');
  if ((o.data.split ?? 'train') !== 'train') {
    throw new InputError(`a sweep trains on the train split and measures held-out loss on the test split; split "${o.data.split}" would train on held-out documents (use --split train)`);
  }
  if (!arch.usesK && o.ks) refuseList(arch, '--k-list', 'k', (a) => a.usesK);
  if (arch.penalty !== 'l1' && o.l1s) refuseList(arch, '--l1-list', 'L1 coefficient', (a) => a.penalty === 'l1');
  const groups: { k: number | null; l1: number | null; label: string }[] = arch.usesK
    ? (o.ks ?? fail(`architecture "${arch.name}" needs k: give --k-list (or --k)`)).map((k) => ({ k, l1: null, label: `k=${k}` }))
    : o.l1s
      ? o.l1s.map((l1) => ({ k: null, l1, label: `l1=${l1}` }))
      : [{ k: null, l1: null, label: o.architecture }];
  // Every grid point's settings are checked before anything is harvested or trained.
  for (const g of groups) for (const latents of o.latents) resolveTrainOptions(runOptions(o, g, latents), 1);
  fs.mkdirSync(o.out, { recursive: true });

  // 1. Training activations: the given cache, or harvested once into OUT/activations.
  let cacheDir: string;
  let trainMetadata: Record<string, unknown>;
  let given: CacheManifest | null = null;
  if (o.cache) {
    cacheDir = o.cache;
    const m = (given = new DiskActivationSource(cacheDir, { hooks: o.hooks }).manifest); // checks the hooks are there
    checkCacheFits(m, o);
    trainMetadata = cacheMetadata(cacheDir, m);
    log(`sweep: training from the activation cache ${cacheDir} (${m.rows} rows${m.rows < o.tokens ? `, looped to ${o.tokens} tokens` : ''})`);
  } else {
    cacheDir = path.join(o.out, 'activations');
    trainMetadata = textMetadata(o.data, o.contextSize);
    if (!cacheMatches(cacheDir, o)) {
      log(`sweep: harvesting ${o.tokens} training activations into ${cacheDir}`);
      const source = new ModelActivationSource({ ...o.data, split: o.data.split ?? 'train', model: o.model, tokenizer: o.tokenizer, hooks: o.hooks, contextSize: o.contextSize, loop: true });
      await writeActivationCache(source, cacheDir, { rows: o.tokens, info: { model_name: o.modelName, ...textMetadata(o.data, o.contextSize) } });
    }
  }
  // 2. Held-out activations, in memory.
  const evalRows = o.evalTokens ?? 20_000;
  const heldSource = new ModelActivationSource({ ...o.data, split: 'test', model: o.model, tokenizer: o.tokenizer, hooks: o.hooks, contextSize: o.contextSize });
  if (given) {
    const m = given;
    o.hooks.forEach((h, i) => {
      const w = m.widths[m.hooks.indexOf(h)];
      if (w !== heldSource.widths[i]) throw new InputError(`${cacheDir}: the cache's ${h} rows are ${w} wide, but ${h} in this model is ${heldSource.widths[i]} wide: the cache comes from another model`);
    });
  }
  const held = await collectRows(heldSource, evalRows);
  if (held.rows === 0) throw new InputError(`no held-out text: the test split of ${o.data.path} is empty (raise --test-fraction)`);
  const heldOut = (sae: Sae) => {
    const m = new MetricsAccumulator(sae.dSae, sae.dOut);
    const x = held.acts[0]!;
    const y = sae.isTranscoder ? held.acts[1]! : x;
    const r = reconstructRows(sae, x, held.rows);
    m.add(y, r.recon, r.sparse);
    return m.result();
  };

  // 3. The grid.
  const runs: SweepRun[] = [];
  const B = o.batchSize ?? 4096;
  const steps = Math.max(1, Math.ceil(o.tokens / B));
  const evalSteps = new Set<number>();
  for (let f = steps; f >= 1 && evalSteps.size < 6; f = Math.floor(f / 2)) evalSteps.add(f);
  for (const g of groups) {
    for (const latents of o.latents) {
      const name = `latents-${latents}${g.k !== null ? `-k${g.k}` : ''}${g.l1 !== null ? `-l1_${g.l1}` : ''}`;
      const dir = path.join(o.out, name);
      const curve: SweepRun['curve'] = [];
      log(`sweep: training ${name}`);
      const r = await trainSae({
        ...runOptions(o, g, latents),
        source: new DiskActivationSource(cacheDir, { loop: true, hooks: o.hooks }),
        batchSize: B,
        modelName: o.modelName,
        out: dir,
        checkpointEvery: o.checkpointEvery ?? 0,
        keepCheckpoints: o.checkpointEvery ? undefined : 1,
        bufferRows: o.bufferRows,
        metadata: trainMetadata,
        onStep: (p, sae) => {
          if (!evalSteps.has(p.step)) return;
          const m = heldOut(sae);
          curve.push({ tokens: p.tokens, fvu: m.fvu, mse: m.mse, l0: m.l0 });
        },
      });
      const final = heldOut(r.sae);
      if (curve.length === 0 || curve[curve.length - 1]!.tokens !== r.tokens) curve.push({ tokens: r.tokens, fvu: final.fvu, mse: final.mse, l0: final.l0 });
      let tokensLaw: PowerLaw | null = null;
      try {
        tokensLaw = curve.length >= 2 ? fitPowerLaw(curve.map((c) => c.tokens), curve.map((c) => c.fvu)) : null;
      } catch {
        tokensLaw = null;
      }
      runs.push({ latents, k: g.k, l1: g.l1, dir, curve, fvu: final.fvu, mse: final.mse, l0: final.l0, dead_fraction: final.dead_fraction, seconds: r.seconds, tokens_law: tokensLaw });
      log(`sweep: ${name}: held-out FVU ${final.fvu.toFixed(4)}, L0 ${final.l0.toFixed(1)}, dead ${(100 * final.dead_fraction).toFixed(1)}%`);
    }
  }

  // 4. Fits, table, plot.
  const sizeLaws = groups.map((g) => {
    const rs = runs.filter((r) => r.k === g.k && r.l1 === g.l1);
    let law: PowerLaw | null = null;
    try {
      law = rs.length >= 2 ? fitPowerLaw(rs.map((r) => r.latents), rs.map((r) => r.fvu)) : null;
    } catch {
      law = null;
    }
    return { group: g.label, law };
  });
  const table = sweepTable(runs, sizeLaws, o);
  const sizeSeries: Series[] = groups.map((g, i) => ({
    label: g.label,
    points: runs.filter((r) => r.k === g.k && r.l1 === g.l1).map((r) => ({ x: r.latents, y: r.fvu })),
    fit: sizeLaws[i]!.law,
  }));
  const tokenSeries: Series[] = runs.map((r) => ({
    label: `${r.latents}${r.k !== null ? ` k${r.k}` : ''}${r.l1 !== null ? ` l1 ${r.l1}` : ''}`,
    points: r.curve.map((c) => ({ x: c.tokens, y: c.fvu })),
    fit: r.tokens_law,
  }));
  const svg = sweepSvg([
    { title: `${o.architecture}: held-out FVU vs dictionary size`, xLabel: 'latents', yLabel: 'FVU', series: sizeSeries },
    { title: 'held-out FVU vs training tokens', xLabel: 'tokens', yLabel: 'FVU', series: tokenSeries },
  ]);
  const summary = { runs, size_laws: sizeLaws, tokens: o.tokens, eval_tokens: held.rows };
  fs.writeFileSync(path.join(o.out, 'sweep.json'), JSON.stringify(summary, null, 2) + '\n');
  fs.writeFileSync(path.join(o.out, 'sweep.svg'), svg);
  fs.writeFileSync(path.join(o.out, 'sweep.md'), table);
  return { summary, table, svg };
}

function sweepTable(runs: SweepRun[], laws: { group: string; law: PowerLaw | null }[], o: SweepOptions): string {
  const lines = [
    `Scaling sweep: ${o.architecture} at ${o.hooks.join(' -> ')}, ${o.tokens} training tokens, held-out FVU`,
    '',
    '| latents | k | L1 | held-out FVU | MSE | L0 | dead | FVU vs tokens | seconds |',
    '|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...runs.map(
      (r) =>
        `| ${r.latents} | ${r.k ?? ''} | ${r.l1 ?? ''} | ${r.fvu.toFixed(4)} | ${r.mse.toExponential(3)} | ${r.l0.toFixed(1)} | ${(100 * r.dead_fraction).toFixed(1)}% | ${r.tokens_law ? formatPowerLaw(r.tokens_law, 'tokens') : ''} | ${r.seconds.toFixed(1)} |`,
    ),
    '',
    'FVU against dictionary size:',
    ...laws.map((l) => `- ${l.group}: ${l.law ? formatPowerLaw(l.law, 'latents') : 'needs two or more sizes'}`),
    '',
  ];
  return lines.join('\n');
}

function cacheMatches(dir: string, o: SweepOptions): boolean {
  try {
    const m = readManifest(dir);
    return m.rows >= o.tokens && m.hooks.join('|') === o.hooks.join('|') && m.dataset_path === o.data.path && m.context_size === o.contextSize && m.model_name === o.modelName;
  } catch {
    return false;
  }
}

/** One grid point's training options (everything but the source and where it goes). */
function runOptions(o: SweepOptions, g: { k: number | null; l1: number | null }, latents: number): TrainOptions {
  return {
    architecture: o.architecture,
    latents,
    k: g.k,
    l1Coefficient: g.l1 ?? undefined,
    l0Coefficient: o.l0Coefficient,
    bandwidth: o.bandwidth,
    skip: o.skip,
    normalizeActivations: o.normalizeActivations,
    bDecInit: o.bDecInit,
    deadTokens: o.deadTokens,
    tokens: o.tokens,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed ?? 0,
    hookName: o.hooks[0],
    hookNameOut: o.hooks[1] ?? null,
  };
}

/** A given cache must come from this model, and not from the documents the held-out rows are drawn from. */
function checkCacheFits(m: CacheManifest, o: SweepOptions): void {
  const dir = o.cache!;
  if (typeof m.model_name === 'string' && m.model_name && m.model_name !== o.modelName) {
    throw new InputError(`${dir} was harvested from model "${m.model_name}", not "${o.modelName}": held-out loss needs the model the cache came from`);
  }
  if (m.dataset_path !== o.data.path) return;
  const differs = (recorded: unknown, used: unknown): boolean => recorded !== undefined && recorded !== used;
  if (differs(m.split, 'train') || differs(m.test_fraction, o.data.testFraction ?? 0.1) || differs(m.document_split, o.data.documentSplit ?? 'blank-line')) {
    throw new InputError(
      `${dir} holds the ${String(m.split)} split of ${o.data.path} (test fraction ${String(m.test_fraction)}, doc split ${String(m.document_split)}), ` +
        `which overlaps the held-out test split (test fraction ${o.data.testFraction ?? 0.1}, doc split ${o.data.documentSplit ?? 'blank-line'}): cache the train split with the same settings`,
    );
  }
}

function refuseList(arch: Architecture, flag: string, what: string, uses: (a: Architecture) => boolean): never {
  const takers = architectureNames().filter((n) => uses(getArchitecture(n))).join(', ');
  throw new InputError(`architecture "${arch.name}" takes no ${what} (${flag} is for ${takers}); drop ${flag}`, { architecture: arch.name });
}

function fail(message: string): never {
  throw new InputError(message);
}
