// `loupe attribute`: an attribution graph for a prompt, written as circuit-tracer graph JSON
// (library: src/circuits/attribute.ts, graph-json.ts; guide: docs/circuits.md).
import * as path from 'node:path';
import type { Command } from 'commander';
import { attribute } from '../../circuits/attribute.js';
import { checkGraphExactness } from '../../circuits/check.js';
import { readGraphJson, writeGraphJson } from '../../circuits/graph-json.js';
import { loadLabels, parseLabelSpec } from '../../circuits/labels.js';
import { promptTokens } from '../../circuits/prompt.js';
import { TranscoderSet } from '../../circuits/transcoder-set.js';
import { progress } from '../../util/progress.js';
import { InputError } from '../../errors.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface AttributeFlags {
  model: string;
  tokenizer?: string;
  transcoders: string;
  prompt: string;
  out: string;
  bos: boolean;
  prune: boolean;
  nodeThreshold: number;
  edgeThreshold: number;
  maxLogits: number;
  logitProbability: number;
  batch: number;
  maxFeatureNodes: number;
  labels: string[];
  slug?: string;
  check?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('attribute')
    .description('Attribution graph of a prompt through transcoders (circuit-tracer graph JSON; see docs/circuits.md)')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: beside an HF checkpoint)')
    .requiredOption('--transcoders <dir>', 'transcoder set from `loupe transcoders train` (per-layer or CLT)')
    .requiredOption('--prompt <text>', 'the prompt (BOS is prepended unless --no-bos)')
    .requiredOption('--out <file>', 'graph JSON to write')
    .option('--no-bos', 'do not prepend BOS')
    .option('--no-prune', 'keep every node and edge (needed for the exactness check; large for long prompts)')
    .option('--node-threshold <x>', 'keep nodes up to this share of cumulative influence, in (0, 1]', unitInterval('node-threshold'), 0.8)
    .option('--edge-threshold <x>', 'keep edges up to this share of cumulative edge score, in (0, 1]', unitInterval('edge-threshold'), 0.98)
    .option('--max-logits <n>', 'at most this many logit nodes', parseIntOption('max-logits', 1), 10)
    .option('--logit-probability <p>', 'logit nodes: the most probable tokens until they hold this probability', unitInterval('logit-probability'), 0.95)
    .option('--batch <n>', 'targets per batched backward pass', parseIntOption('batch', 1), 128)
    .option('--max-feature-nodes <n>', 'after node pruning keep at most this many features (the most influential)', parseIntOption('max-feature-nodes', 1), 8192)
    .option('--labels <layer=db>', 'feature labels from a feature database for one layer (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--slug <name>', 'graph slug (default: from the prompt)')
    .option('--check', 'read the written graph back and check exactness against a direct run (needs --no-prune)')
    .option('--json', 'print the summary as one JSON line')
    .action(async (f: AttributeFlags) => {
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const set = TranscoderSet.load(f.transcoders);
      set.checkFits(model);
      const labelDbs = new Map<number, string>();
      for (const spec of f.labels) {
        const [layer, db] = parseLabelSpec(spec, model.config.nLayers);
        if (labelDbs.has(layer)) throw new InputError(`--labels names layer ${layer} twice (${labelDbs.get(layer)} and ${db}); give one database per layer`);
        labelDbs.set(layer, db);
      }
      const ids = tokenizer!.encode(f.prompt, { bos: f.bos });
      let bar: ReturnType<typeof progress> | null = null;
      let phase = '';
      const g = attribute(model, set, ids, {
        prune: f.prune,
        nodeThreshold: f.nodeThreshold,
        edgeThreshold: f.edgeThreshold,
        maxLogits: f.maxLogits,
        logitProbability: f.logitProbability,
        batchSize: f.batch,
        maxFeatureNodes: f.maxFeatureNodes,
        onProgress: (p, done, total) => {
          if (p !== phase) {
            bar?.stop();
            bar = progress({ label: p === 'attribute' ? 'attribute (all rows)' : 'attribute (kept rows)', total, unit: 'row' });
            phase = p;
          }
          bar!.update(done);
        },
      });
      (bar as ReturnType<typeof progress> | null)?.stop();
      const wanted = new Map<number, Set<number>>();
      for (let i = 0; i < g.index.nFeatures; i++) {
        if (!g.keep[i]) continue;
        const L = g.index.featLayer[i]!;
        if (!wanted.has(L)) wanted.set(L, new Set());
        wanted.get(L)!.add(g.index.featLatent[i]!);
      }
      const labels = labelDbs.size ? await loadLabels(labelDbs, wanted, set.layers.map((l) => l.F)) : undefined;
      const written = writeGraphJson(g, f.out, {
        prompt: f.prompt,
        promptTokens: promptTokens(tokenizer!, ids),
        tokenString: (id) => tokenizer!.decodeToken(id, ids[ids.length - 1]),
        slug: f.slug,
        scan: path.basename(path.resolve(f.transcoders)),
        labels,
        info: { model: path.resolve(f.model), transcoders_path: path.resolve(f.transcoders) },
      });
      const summary: Record<string, unknown> = {
        nodes: written.nodes,
        edges: written.links,
        replacement_score: g.replacementScore,
        completeness_score: g.completenessScore,
        seconds: g.seconds,
        peak_rss_mb: g.peakRssMb,
        tokens: ids.length,
        active_features: g.index.nFeatures,
        logits: g.logitTokens.length,
        exactness_max_rel_error: g.exactness.maxRelError,
        pruned: f.prune,
        out: path.resolve(f.out),
      };
      if (f.check) summary.check = checkGraphExactness(readGraphJson(f.out), model, set);
      if (f.json) {
        printJson(summary);
        return;
      }
      process.stdout.write(
        `${ids.length} tokens, ${g.index.nFeatures} active features: wrote ${written.nodes} nodes and ${written.links} edges to ${f.out} ` +
          `in ${g.seconds.toFixed(1)} s (peak RSS ${g.peakRssMb.toFixed(0)} MB)\n` +
          `replacement score ${g.replacementScore.toFixed(4)}, completeness ${g.completenessScore.toFixed(4)}; ` +
          `rows exact to ${g.exactness.maxRelError.toExponential(2)} (relative)\n` +
          (summary.check ? `check from the file: ${JSON.stringify(summary.check)}\n` : ''),
      );
    });
}

/** A number in (0, 1], or a one-line error naming the flag. */
function unitInterval(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new InputError(`--${flag} must be in (0, 1], got "${v}"`);
    return n;
  };
}
