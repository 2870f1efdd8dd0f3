// `loupe demo`: the main job on the embedded default (no network, no ../shared): a terminal report, and
// with --serve the workbench on the same files.
import type { Command } from 'commander';
import { loadDemoAssets } from '../../demo/assets.js';
import { renderDemo } from '../../demo/report.js';
import { runDemo } from '../../demo/run.js';
import { parseIntOption, printJson } from '../output.js';
import { serveWorkbench } from './serve.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Tour Loupe on the embedded default model: a story, the features that fire on a prompt, and a steering example')
    .option('--assets <dir>', 'the demo assets (default: the embedded assets/default)')
    .option('--serve', 'then open the workbench on the same model, dictionary and feature database')
    .option('--port <n>', 'workbench port with --serve', parseIntOption('port', 0, 65535), 7777)
    .option('--no-open', 'with --serve: do not open a browser')
    .option('--json', 'print the report as one JSON line')
    .action(async (flags: { assets?: string; serve?: boolean; port: number; open: boolean; json?: boolean }) => {
      const assets = loadDemoAssets(flags.assets);
      const report = await runDemo(assets, flags.json ? undefined : (line) => process.stderr.write(`loupe demo: ${line}\n`));
      if (flags.json) printJson(report);
      else process.stdout.write(renderDemo(report, process.stdout.isTTY === true));
      if (!flags.serve) return;
      await serveWorkbench({
        db: assets.db,
        host: '127.0.0.1',
        port: flags.port,
        readOnly: true,
        providers: ['offline'],
        open: flags.open,
        artifacts: { graphs: [], dynamics: [], dictionary: assets.sae, transcoders: [] },
        sourcePaths: { model: assets.model, tokenizer: assets.tokenizer, dictionary: assets.sae },
      });
    });
}
