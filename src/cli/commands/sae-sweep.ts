// `loupe sae sweep`: train a grid over dictionary size and k (or L1) and fit power laws to the held-out
// loss, a few lines over src/sae/sweep.ts.
import * as path from 'node:path';
import type { Command } from 'commander';
import '../../tensor/backend/native/index.js'; // native kernels for harvesting and training
import { readManifest } from '../../activations/disk-cache.js';
import { InputError } from '../../errors.js';
import { getArchitecture } from '../../sae/architectures/index.js';
import { runSweep } from '../../sae/sweep.js';
import { runHooks } from '../../sae/text-training.js';
import { checkArchitectureSettings } from '../../sae/trainer-options.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';
import { dataOptions, givenOn, modelName, textData, trainCommandOptions, withRecordedData, type TrainFlags } from './sae-common.js';

interface SweepFlags extends Omit<TrainFlags, 'latents' | 'resume'> {
  latentsList: string;
  kList?: string;
  l1List?: string;
  evalTokens: number;
}

export function registerSweep(sae: Command): void {
  const cmd = sae
    .command('sweep')
    .description('Train a grid over dictionary size and k (or L1); report held-out loss against size and tokens with fitted power laws (table + SVG)');
  trainCommandOptions(cmd, true);
  dataOptions(cmd, 'train')
    .requiredOption('--out <dir>', 'sweep directory: one run per grid point, sweep.json, sweep.svg, sweep.md')
    .requiredOption('--latents-list <n,n,...>', 'dictionary sizes, e.g. 256,512,1024,2048')
    .option('--k-list <k,k,...>', 'TopK family: k values, e.g. 8,16,32')
    .option('--l1-list <x,x,...>', 'ReLU, Gated: L1 coefficients')
    .option('--eval-tokens <n>', 'held-out activations for the loss curves', parseIntOption('eval-tokens', 1), 20_000)
    .option('--json', 'print the sweep summary on one line')
    .action(async (f: SweepFlags, command: Command) => {
      const list = (s: string | undefined, flag: string): number[] | undefined =>
        s === undefined
          ? undefined
          : s.split(',').map((v) => {
              const n = Number(v.trim());
              if (!Number.isFinite(n) || n <= 0) throw new InputError(`${flag}: "${v}" is not a positive number`);
              return n;
            });
      // The same refusals as `sae train` for single-value flags; the lists are checked by runSweep.
      checkArchitectureSettings(getArchitecture(f.arch), { k: f.k, l1Coefficient: f.l1, l0Coefficient: f.l0, bandwidth: f.bandwidth });
      if (f.k !== undefined && f.kList !== undefined) throw new InputError('give --k (one k for every run) or --k-list, not both');
      if (f.l1 !== undefined && f.l1List !== undefined) throw new InputError('give --l1 (one coefficient for every run) or --l1-list, not both');
      if (f.cache && command.getOptionValueSource('split') === 'cli') throw new InputError('--split picks the documents to harvest; with --cache the training rows are the cache\'s: drop --split');
      const hooks = runHooks(f.arch, f.hookIn ?? f.hook, f.hookOut);
      if (!f.model || !f.data) {
        throw new InputError(
          f.cache
            ? 'give --model, --tokenizer and --data with --cache: the cache replaces the training harvest, but the held-out loss runs the model on the test split of --data'
            : 'give --model, --tokenizer and --data for the sweep (add --cache DIR to train from stored activations)',
        );
      }
      // Training from a cache: held-out windows and documents follow what the cache recorded, unless flags say otherwise.
      const { data, context } = f.cache ? withRecordedData(f, givenOn(command), readManifest(f.cache)) : { data: textData(f), context: f.context };
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const r = await runSweep({
        model,
        tokenizer: tokenizer!,
        modelName: modelName(f.model),
        data,
        contextSize: context,
        hooks,
        out: f.out,
        cache: f.cache,
        architecture: f.arch,
        latents: list(f.latentsList, '--latents-list')!,
        ks: f.k !== undefined ? [f.k] : list(f.kList, '--k-list'),
        l1s: f.l1 !== undefined ? [f.l1] : list(f.l1List, '--l1-list'),
        l0Coefficient: f.l0,
        bandwidth: f.bandwidth,
        skip: f.skip,
        normalizeActivations: f.normalize,
        bDecInit: f.bDecInit,
        deadTokens: f.deadTokens,
        tokens: f.tokens,
        batchSize: f.batch,
        lr: f.lr,
        seed: f.seed,
        checkpointEvery: f.checkpointEvery,
        evalTokens: f.evalTokens,
        bufferRows: f.buffer,
        log: (line) => process.stderr.write(line + '\n'),
      });
      if (f.json) printJson(r.summary);
      else process.stdout.write(r.table + `\nwrote ${path.join(f.out, 'sweep.json')}, ${path.join(f.out, 'sweep.svg')}, ${path.join(f.out, 'sweep.md')}\n`);
    });
}
