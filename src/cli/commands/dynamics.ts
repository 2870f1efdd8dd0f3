// `loupe dynamics`: loss, per-head previous-token and induction scores, and the ICL score over a
// checkpoint series (library: src/grow/dynamics.ts), as a table or one JSON line, plus an SVG plot.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { dynamicsSvg, runDynamics, type DynamicsResult } from '../../grow/index.js';
import { progress } from '../../util/progress.js';
import { parseIntOption, printJson } from '../output.js';
import { parseStepList } from './grow.js';

interface DynamicsFlags {
  checkpoints: string;
  data?: string;
  split?: 'blank-line' | 'line' | 'whole' | 'single-newline';
  steps?: number[];
  lossWindows?: number;
  iclWindows?: number;
  iclLate?: number;
  iclEarly?: number;
  seqLen?: number;
  plot?: string | false;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('dynamics')
    .description('Training dynamics over a checkpoint series: held-out loss, per-head previous-token and induction scores, in-context-learning score (see docs/grow.md)')
    .requiredOption('--checkpoints <dir>', 'run directory of loupe grow (checkpoint-<step>/ directories)')
    .option('--data <file>', 'held-out text (default: the run\'s heldout.jsonl)')
    .addOption(new Option('--split <mode>', 'documents of a plain-text --data file').choices(['blank-line', 'line', 'whole', 'single-newline']))
    .option('--steps <list>', 'only these checkpoint steps, e.g. 0,100,500', parseStepList)
    .option('--loss-windows <n>', 'held-out windows averaged for the loss (default 32)', parseIntOption('loss-windows', 1))
    .option('--icl-windows <n>', 'held-out windows averaged for the ICL score (default 2048)', parseIntOption('icl-windows', 1))
    .option('--icl-late <pos>', 'late token position of the ICL score (default min(500, ctx - 1))', parseIntOption('icl-late', 1))
    .option('--icl-early <pos>', 'early token position of the ICL score (default min(50, late / 10))', parseIntOption('icl-early', 0))
    .option('--seq-len <n>', 'random block length of the head detectors (default min(50, what fits))', parseIntOption('seq-len', 2))
    .option('--plot <file>', 'SVG plot (default <dir>/dynamics.svg)')
    .option('--no-plot', 'do not write the plot')
    .option('--json', 'print {"checkpoints": [{"step", "loss", "induction_max", "prev_token_max", "icl_score", ...}], "phase_change", ...} on one line')
    .action(async (f: DynamicsFlags) => {
      let bar: ReturnType<typeof progress> | null = null;
      const r = await runDynamics(f.checkpoints, {
        data: f.data,
        split: f.split,
        steps: f.steps,
        lossWindows: f.lossWindows,
        icl: { maxWindows: f.iclWindows, late: f.iclLate, early: f.iclEarly },
        seqLen: f.seqLen,
        onCheckpoint: (row, i, n) => {
          bar ??= progress({ label: 'dynamics', total: n, unit: 'ckpt' });
          bar.update(i + 1, { step: String(row.step), induction: row.induction_max, icl: row.icl_score });
        },
      });
      (bar as ReturnType<typeof progress> | null)?.stop();
      let plotFile: string | null = null;
      if (f.plot !== false) {
        plotFile = f.plot ?? path.join(f.checkpoints, 'dynamics.svg');
        fs.writeFileSync(plotFile, dynamicsSvg(r, `training dynamics: ${path.basename(path.resolve(f.checkpoints))}`));
      }
      if (f.json) printJson({ ...r, plot: plotFile });
      else printTable(r, plotFile);
    });
}

function printTable(r: DynamicsResult, plotFile: string | null): void {
  const { early, late } = r.icl_positions;
  const lines = [`${'step'.padStart(7)}  ${'loss'.padStart(7)}  ${'induction'.padStart(14)}  ${'prev-token'.padStart(14)}  ${'icl'.padStart(8)}  ${'icl text'.padStart(8)}   (icl = loss[${late}] - loss[${early}])`];
  for (const c of r.checkpoints) {
    lines.push(
      `${String(c.step).padStart(7)}  ${c.loss.toFixed(4).padStart(7)}  ${`${c.induction_max.toFixed(3)} ${c.induction_head}`.padStart(14)}  ${`${c.prev_token_max.toFixed(3)} ${c.prev_token_head}`.padStart(14)}  ${c.icl_score.toFixed(4).padStart(8)}  ${c.icl_score_text.toFixed(4).padStart(8)}`,
    );
  }
  const p = r.phase_change;
  if (p.induction_jump && p.icl_jump) {
    lines.push(
      `largest induction rise: steps ${p.induction_jump.from_step}->${p.induction_jump.to_step} (+${p.induction_jump.delta.toFixed(3)}); ` +
        `largest ICL drop: steps ${p.icl_jump.from_step}->${p.icl_jump.to_step} (${p.icl_jump.delta.toFixed(3)})`,
    );
  }
  if (p.induction_step !== null || p.icl_step !== null) lines.push(`half-way: induction at step ${p.induction_step ?? 'n/a'}, ICL at step ${p.icl_step ?? 'n/a'}`);
  if (plotFile) lines.push(`plot: ${plotFile}`);
  process.stdout.write(lines.join('\n') + '\n');
}
