// Progress for long jobs (harvesting, training, building): a cli-progress bar on stderr when it is a
// terminal, and a plain line every few seconds otherwise (CI logs), so stdout stays clean for --json.
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit of the counted quantity, shown in the rate ("tok" -> "tok/s"). */
  unit?: string;
  /** Silence everything (library use, tests). Defaults to LOUPE_QUIET=1. */
  quiet?: boolean;
}

export interface Progress {
  /** Set the absolute count, with optional named values to show (e.g. { loss: 2.31 }). */
  update(done: number, values?: Record<string, number | string>): void;
  stop(): void;
}

const fmt = (v: number | string): string => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : v);

export function progress(opts: ProgressOptions): Progress {
  const quiet = opts.quiet ?? process.env.LOUPE_QUIET === '1';
  const unit = opts.unit ?? 'it';
  const start = Date.now();
  if (quiet) return { update() {}, stop() {} };
  const rate = (done: number): string => {
    const s = (Date.now() - start) / 1000;
    return s > 0 ? `${fmt(done / s)} ${unit}/s` : '';
  };
  const extra = (values?: Record<string, number | string>): string =>
    values ? Object.entries(values).map(([k, v]) => `${k} ${fmt(v)}`).join(' | ') : '';

  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} | ETA {eta_formatted}{extra}`,
        hideCursor: true,
        stream: process.stderr,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { rate: '', extra: '' });
    return {
      update(done, values) {
        const e = extra(values);
        bar.update(done, { rate: rate(done), extra: e ? ` | ${e}` : '' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  let lastDone = 0;
  return {
    update(done, values) {
      lastDone = done;
      const now = Date.now();
      if (now - last < 5000 && done < opts.total) return;
      last = now;
      const pct = opts.total > 0 ? ((100 * done) / opts.total).toFixed(1) : '?';
      const e = extra(values);
      process.stderr.write(`${opts.label}: ${done}/${opts.total} ${unit} (${pct}%) ${rate(done)}${e ? ` | ${e}` : ''}\n`);
    },
    stop() {
      if (lastDone < opts.total) return;
    },
  };
}
