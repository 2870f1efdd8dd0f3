// The `loupe` command: a thin layer over the library. Each command lives in commands/<name>.ts and
// registers itself through commands/index.ts.
import { Command, CommanderError } from 'commander';
import { LoupeError } from '../errors.js';
import { registerAll } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('loupe')
    .description('Loupe: a workbench for mechanistic interpretability (record, intervene, dictionaries, features, steering, circuits).')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerAll(program);
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (help, version, unknown option ...).
    return err.exitCode;
  }
  const debug = process.env.LOUPE_DEBUG === '1';
  if (err instanceof LoupeError) {
    process.stderr.write(`loupe: ${oneLine(err.message)}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`loupe: ${oneLine(err.message)}${debug ? '' : ' (set LOUPE_DEBUG=1 for a stack trace)'}\n`);
  } else {
    process.stderr.write(`loupe: ${String(err)}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  return 1;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

let pipeGuarded = false;

/** A reader that stops early (`loupe generate ... | head`) closes the pipe: end quietly, as Unix tools do. */
function quietOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
