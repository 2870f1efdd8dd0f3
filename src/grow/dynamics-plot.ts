// The dynamics figure: three panels over training steps (held-out loss; per-head induction and
// previous-token scores with the best head bold; ICL score), with the phase change marked.
import { plotGrid, type Point, type RefLine, type Series } from '../plot/index.js';
import type { DynamicsResult } from './dynamics.js';

/** Same legend space on every panel, so the step axes line up. */
const LEGEND = 200;

export function dynamicsSvg(r: DynamicsResult, title = 'training dynamics'): string {
  const rows = r.checkpoints;
  const steps = rows.map((c) => c.step);
  const pts = (f: (i: number) => number): Point[] => steps.map((s, i) => [s, f(i)]);
  const marks: RefLine[] = [];
  if (r.phase_change.induction_step !== null) marks.push({ at: r.phase_change.induction_step, label: 'induction ½', color: '#e15759' });
  if (r.phase_change.icl_step !== null && r.phase_change.icl_step !== r.phase_change.induction_step) {
    marks.push({ at: r.phase_change.icl_step, label: 'ICL ½', color: '#59a14f' });
  }

  const heads: Series[] = [];
  const L = rows[0]?.induction.length ?? 0;
  const H = rows[0]?.induction[0]?.length ?? 0;
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++) {
      heads.push({ name: '', points: pts((i) => rows[i]!.induction[l]![h]!), color: '#f4b6b7', width: 1 });
      heads.push({ name: '', points: pts((i) => rows[i]!.prev_token[l]![h]!), color: '#b9cde3', width: 1 });
    }
  heads.push({ name: 'induction (best head)', points: pts((i) => rows[i]!.induction_max), color: '#e15759', markers: true });
  heads.push({ name: 'previous token (best head)', points: pts((i) => rows[i]!.prev_token_max), color: '#4e79a7', markers: true });

  const { early, late } = r.icl_positions;
  return plotGrid(
    [
      { series: [{ name: 'held-out loss', points: pts((i) => rows[i]!.loss), markers: true }], options: { yLabel: 'loss (nats)', vLines: marks, legend: false, legendWidth: LEGEND } },
      { series: heads, options: { yLabel: 'attention score', yDomain: [0, 1], vLines: marks, legend: true, legendWidth: LEGEND } },
      {
        series: [
          { name: `loss[${late}] - loss[${early}]`, points: pts((i) => rows[i]!.icl_score), color: '#59a14f', markers: true },
          ...(rows.some((c) => c.icl_score_text !== c.icl_score)
            ? [{ name: 'same, text only', points: pts((i) => rows[i]!.icl_score_text), color: '#9c755f', dashed: true }]
            : []),
        ],
        options: { yLabel: 'ICL score (nats)', xLabel: 'training step', vLines: marks, hLines: [{ at: 0 }], legend: true, legendWidth: LEGEND },
      },
    ],
    { title, panelWidth: 720, panelHeight: 220 },
  );
}
