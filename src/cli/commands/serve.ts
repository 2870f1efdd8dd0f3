// `loupe serve`: the HTTP API (and later the workbench) over one feature database. Binds 127.0.0.1 unless
// told otherwise: the API runs the model and, with --providers, spends LLM API keys.
import type { Command } from 'commander';
import '../../tensor/backend/native/index.js'; // native kernels for live inspection
import { PROVIDERS } from '../../autointerp/index.js';
import { InputError } from '../../errors.js';
import { startServer } from '../../server/index.js';
import { parseIntOption, printJson } from '../output.js';

interface ServeFlags {
  db: string;
  host: string;
  port: number;
  readOnly?: boolean;
  providers: string;
  model?: string;
  tokenizer?: string;
  sae?: string;
  log?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve a feature database over HTTP as JSON (OpenAPI description at /api/openapi.json)')
    .requiredOption('--db <file>', 'feature database')
    .option('--host <addr>', 'address to bind (anything but loopback exposes the API to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', parseIntOption('port', 0, 65535), 7777)
    .option('--read-only', 'open the database read-only (explain/score endpoints refuse)')
    .option('--providers <list>', `explanation providers the API may call (${PROVIDERS.join(', ')}); HTTP ones use this process's API keys`, 'offline')
    .option('--model <path>', 'the model, if it moved since the build (checked by content hash)')
    .option('--tokenizer <path>', 'the tokenizer, if it moved')
    .option('--sae <dir>', 'the dictionary, if it moved')
    .option('--log', 'log requests to stderr')
    .option('--json', 'print {"url": ...} on one line once listening')
    .action(async (flags: ServeFlags) => {
      const providers = flags.providers.split(',').map((s) => s.trim()).filter(Boolean);
      for (const p of providers) if (!(PROVIDERS as readonly string[]).includes(p)) throw new InputError(`unknown provider "${p}" (providers: ${PROVIDERS.join(', ')})`);
      if (!/^(127\.|localhost$|::1$)/.test(flags.host)) process.stderr.write(`loupe: warning: binding ${flags.host} exposes the API beyond this machine\n`);
      const server = await startServer({
        db: flags.db,
        host: flags.host,
        port: flags.port,
        readOnly: flags.readOnly,
        providers,
        logger: flags.log,
        sourcePaths: { ...(flags.model ? { model: flags.model } : {}), ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}), ...(flags.sae ? { dictionary: flags.sae } : {}) },
      });
      if (flags.json) printJson({ url: server.url });
      else process.stderr.write(`Loupe API on ${server.url} (OpenAPI: ${server.url}/api/openapi.json); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
