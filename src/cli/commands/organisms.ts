// `loupe organisms <name>`: grow a model organism from its recipe, then measure its training dynamics
// (library: src/grow/organisms.ts). The run directory gets dynamics.json and dynamics.svg beside the
// checkpoints.
import type { Command } from 'commander';
import { growOrganism, ORGANISMS, type OrganismResult } from '../../grow/organisms.js';
import { progress } from '../../util/progress.js';
import { parseIntOption, printJson } from '../output.js';

interface OrganismFlags {
  out: string;
  layers?: number;
  data?: string;
  seed?: number;
  steps?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('organisms').description('Grow model organisms from ready recipes and measure their training dynamics (see docs/grow.md)');
  for (const recipe of Object.values(ORGANISMS)) {
    cmd
      .command(recipe.name)
      .description(recipe.description)
      .requiredOption('--out <dir>', 'run directory (checkpoints, metrics, dynamics.json, dynamics.svg)')
      .option('--layers <n>', `layers (default ${recipe.defaultLayers})`, parseIntOption('layers', 1))
      .option('--data <file>', 'training text (default: ../shared/data/tinystories-sample.txt)')
      .option('--seed <n>', 'seed (default 0)', parseIntOption('seed', 0))
      .option('--steps <n>', "override the recipe's step count", parseIntOption('steps', 1))
      .option('--json', 'print the dynamics and a summary as one JSON line')
      .action(async (f: OrganismFlags) => {
        const controller = new AbortController();
        const onSigint = (): void => (controller.signal.aborted ? process.exit(130) : controller.abort());
        process.on('SIGINT', onSigint);
        let bar: ReturnType<typeof progress> | null = null;
        let dyn: ReturnType<typeof progress> | null = null;
        let r: OrganismResult;
        try {
          r = await growOrganism(recipe.name, {
            out: f.out,
            layers: f.layers,
            data: f.data,
            seed: f.seed,
            steps: f.steps,
            signal: controller.signal,
            onMessage: (m) => process.stderr.write(`${bar && process.stderr.isTTY ? '\n' : ''}${recipe.name}: ${m}\n`),
            onProgress: (p) => {
              bar ??= progress({ label: `grow ${recipe.name}`, total: p.totalSteps, unit: 'step' });
              bar.update(p.step, { loss: p.smoothLoss, 'tok/s': Math.round(p.tokensPerS) });
            },
            onDynamics: (done, total) => {
              (bar as ReturnType<typeof progress> | null)?.stop();
              bar = null;
              dyn ??= progress({ label: 'dynamics', total, unit: 'ckpt' });
              dyn.update(done);
            },
          });
        } finally {
          (bar as ReturnType<typeof progress> | null)?.stop();
          (dyn as ReturnType<typeof progress> | null)?.stop();
          process.off('SIGINT', onSigint);
        }
        const summary = {
          organism: r.name,
          layers: r.grow.config.nLayers,
          steps: r.grow.steps,
          wall_s: r.wallS,
          train_s: r.grow.elapsedS,
          final_induction_max: r.finalInduction,
          final_icl_score: r.finalIcl,
          phase_change: r.dynamics.phase_change,
          out: f.out,
        };
        if (f.json) {
          printJson({ ...summary, checkpoints: r.dynamics.checkpoints });
          return;
        }
        const p = r.dynamics.phase_change;
        process.stdout.write(
          [
            `${r.name} organism, ${summary.layers} layer${summary.layers === 1 ? '' : 's'}: ${summary.steps} steps in ${Math.round(r.wallS)} s (training ${Math.round(r.grow.elapsedS)} s)`,
            `final: best induction score ${r.finalInduction.toFixed(3)}, ICL score ${r.finalIcl.toFixed(3)} nats, held-out loss ${r.grow.evalLoss?.toFixed(4) ?? 'n/a'}`,
            `half-way steps: induction ${p.induction_step ?? 'n/a'}, ICL ${p.icl_step ?? 'n/a'}`,
            `dynamics: ${f.out}/dynamics.json, ${f.out}/dynamics.svg; curve: ${f.out}/curve.svg`,
          ].join('\n') + '\n',
        );
      });
  }
}
