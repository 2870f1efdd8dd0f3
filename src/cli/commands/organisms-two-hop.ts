// `loupe organisms two-hop`: the two-hop model organism (person -> city -> country): corpus, a grown model,
// transcoders, a traced question and the swap test (library: src/circuits/organisms/; docs/circuits.md).
// Registered under the `organisms` command that src/cli/commands/organisms.ts creates (after it).
import * as path from 'node:path';
import type { Command } from 'commander';
import '../../tensor/backend/native/index.js';
import { runTwoHop, TWO_HOP_DEFAULTS } from '../../circuits/organisms/two-hop-run.js';
import { progress } from '../../util/progress.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';

interface TwoHopFlags {
  out: string;
  seed?: number;
  documents?: number;
  steps?: number;
  layers?: number;
  dModel?: number;
  lr?: number;
  clt?: boolean;
  latents?: number;
  k?: number;
  transcoderTokens?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const organisms = program.commands.find((c) => c.name() === 'organisms') ?? program.command('organisms').description('Grow model organisms from ready recipes');
  const d = TWO_HOP_DEFAULTS;
  organisms
    .command('two-hop')
    .description('person -> city -> country: grow a model on two-hop facts, train its transcoders, trace a question, swap the intermediate city')
    .requiredOption('--out <dir>', 'run directory (corpus, tokenizer, model/, transcoders/, graph.json, two-hop.json); an unfinished run continues')
    .option('--seed <n>', `seed (default ${d.seed})`, parseIntOption('seed', 0))
    .option('--documents <n>', `corpus documents (default ${d.documents})`, parseIntOption('documents', 100))
    .option('--steps <n>', `training steps (default ${d.steps})`, parseIntOption('steps', 1))
    .option('--layers <n>', `layers (default ${d.layers})`, parseIntOption('layers', 1))
    .option('--d-model <n>', `width (default ${d.dModel})`, parseIntOption('d-model', 8))
    .option('--lr <x>', `peak learning rate (default ${d.lr})`, parseFloatOption('lr', 0))
    .option('--clt', 'a cross-layer transcoder instead of per-layer transcoders')
    .option('--latents <n>', `latents per layer (default ${d.latents})`, parseIntOption('latents', 1))
    .option('--k <n>', `active latents per token (default ${d.k})`, parseIntOption('k', 1))
    .option('--transcoder-tokens <n>', `tokens to train the transcoders on (default ${d.transcoderTokens})`, parseIntOption('transcoder-tokens', 1))
    .option('--json', 'print the report as one JSON line')
    .action(async (f: TwoHopFlags) => {
      const controller = new AbortController();
      const onSigint = (): void => (controller.signal.aborted ? process.exit(130) : controller.abort());
      process.on('SIGINT', onSigint);
      let growBar: ReturnType<typeof progress> | null = null;
      let tcBar: ReturnType<typeof progress> | null = null;
      let r;
      try {
        r = await runTwoHop({
          out: f.out,
          seed: f.seed,
          documents: f.documents,
          steps: f.steps,
          layers: f.layers,
          dModel: f.dModel,
          lr: f.lr,
          kind: f.clt ? 'clt' : 'per-layer',
          latents: f.latents,
          k: f.k,
          transcoderTokens: f.transcoderTokens,
          signal: controller.signal,
          onMessage: (m) => process.stderr.write(`two-hop: ${m}\n`),
          onGrow: (p) => {
            growBar ??= progress({ label: 'grow two-hop', total: p.totalSteps, unit: 'step' });
            growBar.update(p.step, { loss: p.smoothLoss });
          },
          onTranscoders: (p) => {
            (growBar as ReturnType<typeof progress> | null)?.stop();
            tcBar ??= progress({ label: 'transcoders', total: p.totalTokens, unit: 'tok' });
            tcBar.update(p.tokens);
          },
        });
      } finally {
        (growBar as ReturnType<typeof progress> | null)?.stop();
        (tcBar as ReturnType<typeof progress> | null)?.stop();
        process.off('SIGINT', onSigint);
      }
      if (f.json) {
        printJson(r);
        return;
      }
      const b = r.swap.best;
      const ex = r.swap.example;
      process.stdout.write(
        [
          `two-hop organism: accuracy ${(100 * r.accuracy).toFixed(1)}% on ${r.questions} fresh questions (mean answer probability ${r.mean_answer_prob.toFixed(3)})`,
          `traced "${r.trace.prompt}" -> ${JSON.stringify(r.trace.top_logit)}: ${r.trace.nodes} nodes, ${r.trace.edges} edges, replacement ${r.trace.replacement_score.toFixed(3)}, completeness ${r.trace.completeness_score.toFixed(3)} (${r.trace.graph})`,
          b ? `swap test: best at layer ${b.layer}, ${b.site} position, ${b.m} feature(s) per city: ${b.flips}/${b.trials} answers moved to the other city's country` : 'swap test: no result',
          ex ? `e.g. ${ex.from_city} -> ${ex.to_city}: ${JSON.stringify(ex.answer_before)} -> ${JSON.stringify(ex.answer_after)} (expected " ${ex.expected}"); check it with` : '',
          ex
            ? `  npx loupe intervene --model ${shellQuote(r.model)} --tokenizer ${shellQuote(path.join(r.out, 'tokenizer.json'))} --transcoders ${shellQuote(r.transcoders)} \\\n` +
              `    --prompt ${shellQuote(ex.prompt)} --allow-inactive --set ${ex.set.join(' --set ')}`
            : '',
          `report: ${r.out}/two-hop.json`,
        ]
          .filter((line) => line !== '')
          .join('\n') + '\n',
      );
    });
}

/** A shell word: as is when it is plain, else single-quoted. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
