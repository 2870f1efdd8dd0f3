// One line per command module. Each module exports `register(program)`.
import type { Command } from 'commander';
import { register as bench } from './bench.js';

export function registerAll(program: Command): void {
  bench(program);
}
