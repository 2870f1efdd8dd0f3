// The run's metrics log, OUT/metrics.jsonl: one JSON object per line, training lines
// {"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "elapsed_s"} and evaluation lines
// {"step", "eval_loss"}. Appended as training goes (a crash loses at most the line being written); on
// resume, lines past the resumed step are dropped so the curve never shows a step twice.
import * as fs from 'node:fs';
import { linePlot, smooth, type Point } from '../plot/index.js';

export const METRICS_FILE = 'metrics.jsonl';
export const CURVE_FILE = 'curve.svg';

export interface TrainLine {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  elapsed_s: number;
}

export interface EvalLine {
  step: number;
  eval_loss: number;
}

export type MetricsLine = TrainLine | EvalLine;

export function appendMetrics(file: string, line: MetricsLine): void {
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
}

/** Every well-formed line; a torn last line (a crash mid-write) is ignored. */
export function readMetrics(file: string): MetricsLine[] {
  if (!fs.existsSync(file)) return [];
  const out: MetricsLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as MetricsLine;
      if (typeof v === 'object' && v !== null && typeof v.step === 'number') out.push(v);
    } catch {
      // torn line
    }
  }
  return out;
}

/** Keep only lines up to `step` (resume). */
export function truncateMetrics(file: string, step: number): void {
  const kept = readMetrics(file).filter((l) => l.step <= step);
  fs.writeFileSync(file, kept.map((l) => JSON.stringify(l) + '\n').join(''));
}

/** The training curve: per-step loss (faint), its moving average, and held-out loss at checkpoints. */
export function trainingCurveSvg(lines: readonly MetricsLine[], title = 'training curve'): string {
  const train: Point[] = [];
  const evals: Point[] = [];
  for (const l of lines) {
    if ('loss' in l) train.push([l.step, l.loss]);
    else if ('eval_loss' in l) evals.push([l.step, l.eval_loss]);
  }
  const series = [
    { name: 'train loss', points: train, color: '#a0c4e4', width: 1 },
    // Smooth over about a thirtieth of the run, so short runs are not dragged behind by the average.
    { name: 'train loss (smoothed)', points: smooth(train, Math.min(0.95, Math.max(0, 1 - 30 / Math.max(1, train.length)))), color: '#4e79a7' },
  ];
  if (evals.length) series.push({ name: 'held-out loss', points: evals, color: '#e15759', width: 1.75, markers: true } as (typeof series)[number]);
  return linePlot(series, { title, xLabel: 'step', yLabel: 'cross-entropy (nats/token)', width: 720, height: 380 });
}
