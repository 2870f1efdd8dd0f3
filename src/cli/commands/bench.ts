// `loupe bench <what>`: benchmarks (not timed tests). Each prints one JSON line with --json.
import type { Command } from 'commander';

export function register(program: Command): void {
  const bench = program.command('bench').description('Measure kernel, model and training throughput (see docs/benchmarks.md)');
  void bench;
}
