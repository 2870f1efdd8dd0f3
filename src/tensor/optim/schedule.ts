// Learning-rate schedules: linear warmup, then cosine or linear decay to a floor.

export interface ScheduleOptions {
  /** Peak learning rate reached at the end of warmup. */
  lr: number;
  totalSteps: number;
  warmupSteps?: number;
  decay?: 'cosine' | 'linear' | 'constant';
  /** Final learning rate as a fraction of the peak (default 0.1 for cosine/linear). */
  minLrRatio?: number;
}

/** Learning rate for a 0-based step. */
export function learningRate(step: number, o: ScheduleOptions): number {
  const warm = o.warmupSteps ?? 0;
  if (warm > 0 && step < warm) return (o.lr * (step + 1)) / warm;
  const decay = o.decay ?? 'cosine';
  if (decay === 'constant') return o.lr;
  const floor = o.lr * (o.minLrRatio ?? 0.1);
  const span = Math.max(1, o.totalSteps - warm);
  const progress = Math.min(1, Math.max(0, (step - warm) / span));
  const f = decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return floor + (o.lr - floor) * f;
}
