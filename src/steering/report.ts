// The JSON form of a steering result, shared by `loupe steer --json` and POST /api/steer (snake_case,
// as the rest of the CLI's JSON). Feature values appear only when a feature is steered: one feature gives
// [sample][position], several give [sample][position][feature] (null where a feature's hook is not the row's).
import type { SteeringDirection } from './direction.js';
import type { SteerResult, SweepResult } from './steer.js';

const round = (v: number | null): number | null => (v === null || Number.isNaN(v) ? null : Number(v.toFixed(6)));

export function steerReport(r: SteerResult, directions: readonly SteeringDirection[]): Record<string, unknown> {
  const features = directions.some((d) => d.feature !== null);
  const one = directions.length === 1;
  const shape = (rows: (number | null)[][][]): unknown => rows.map((s) => s.map((row) => (one ? round(row[0] ?? null) : row.map(round))));
  return {
    baseline: r.baseline?.texts ?? null,
    steered: r.steered.texts,
    baseline_loss: r.baseline?.loss ?? null,
    steered_loss: r.steered.loss,
    loss_ratio: r.baseline ? r.steered.loss / r.baseline.loss : null,
    baseline_rate: r.baseline?.rate ?? null,
    steered_rate: r.steered.rate,
    ...(features ? { feature_values: shape(r.values), feature_latents: shape(r.latents) } : {}),
    max_deviation: r.maxDeviation,
    hooks: [...new Set(directions.map((d) => d.hook))],
    prompt_ids: r.promptIds,
  };
}

export function sweepReport(r: SweepResult, unit: 'strength' | 'value'): Record<string, unknown> {
  return {
    baseline: r.baseline.texts,
    baseline_loss: r.baseline.loss,
    baseline_rate: r.baseline.rate,
    sweep: r.rows.map((row) => ({
      [unit]: row.amount,
      steered: row.steered.texts,
      steered_loss: row.steered.loss,
      loss_ratio: row.steered.loss / r.baseline.loss,
      steered_rate: row.steered.rate,
    })),
    prompt_ids: r.promptIds,
  };
}
