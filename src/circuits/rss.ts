// Peak resident memory of this process during a job. A timer alone misses peaks inside long synchronous
// loops (timers cannot fire there), so the job also samples at its own checkpoints (after each batch).
export class RssMeter {
  private peak = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(intervalMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }

  /** Peak so far, MiB (keeps no timer running). */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak / (1024 * 1024);
  }
}
