// `loupe bench <what>`: benchmarks (not timed tests). Each prints one JSON line with --json.
// One register function per subcommand (matmul here; forward, sae, train to follow), each a few lines
// over a library call in src/bench/.
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { benchAttribute } from '../../bench/attribute.js';
import { benchForward } from '../../bench/forward.js';
import { benchMatmul, MATMUL_BACKENDS, type MatmulBackendName } from '../../bench/matmul.js';
import { benchTrain } from '../../bench/train.js';
import { benchSaeTraining } from '../../bench/sae.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

export function register(program: Command): void {
  const bench = program.command('bench').description('Measure kernel, model and training throughput (see docs/benchmarks.md)');
  registerMatmul(bench);
  registerTrain(bench);
  registerSae(bench);
  registerForward(bench);
  registerAttribute(bench);
}

function registerMatmul(bench: Command): void {
  bench
    .command('matmul')
    .description('float32 matmul GFLOP/s: [batch, m, k] @ [batch, k, n], median of timed calls on random inputs')
    .option('--m <rows>', 'rows of A and of the output', parseIntOption('m', 1), 512)
    .option('--k <inner>', 'inner (contracted) dimension', parseIntOption('k', 1), 768)
    .option('--n <cols>', 'columns of B and of the output', parseIntOption('n', 1), 3072)
    .option('--batch <count>', 'independent products in one call', parseIntOption('batch', 1), 1)
    .option('--trans-b', 'B stored transposed, [n, k] (as in q @ k^T)', false)
    .option('--iters <count>', 'timed calls (default: about one second of calls, at least 10)', parseIntOption('iters', 1))
    .option('--warmup <count>', 'untimed calls first (default 3)', parseIntOption('warmup', 0))
    .addOption(new Option('--backend <name>', 'kernel backend').choices(MATMUL_BACKENDS).default('native'))
    .option('--threads <count>', 'native intra-op threads (default: available cores)', parseIntOption('threads', 1))
    .option('--small-flops <flops>', 'native: products below this many FLOPs run in TypeScript (0: always native)', parseIntOption('small-flops', 0))
    .option('--json', 'print one JSON line')
    .action((opts: MatmulCliOptions) => {
      const r = benchMatmul({
        m: opts.m,
        k: opts.k,
        n: opts.n,
        batch: opts.batch,
        transB: opts.transB,
        iters: opts.iters,
        warmup: opts.warmup,
        backend: opts.backend,
        threads: opts.threads,
        smallFlops: opts.smallFlops,
      });
      if (opts.json) {
        printJson(r);
        return;
      }
      const shape = `${r.batch > 1 ? `${r.batch} x ` : ''}${r.m}x${r.k}x${r.n}${r.trans_b ? ' (B^T)' : ''}`;
      const ms = r.ms_median < 1 ? `${(r.ms_median * 1000).toFixed(1)} us` : `${r.ms_median.toFixed(2)} ms`;
      process.stdout.write(`matmul ${shape} on ${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'}): ${r.gflops.toFixed(1)} GFLOP/s, ${ms} median of ${r.iters}\n`);
    });
}

interface MatmulCliOptions {
  m: number;
  k: number;
  n: number;
  batch: number;
  transB: boolean;
  iters?: number;
  warmup?: number;
  backend: MatmulBackendName;
  threads?: number;
  smallFlops?: number;
  json?: boolean;
}

function registerTrain(bench: Command): void {
  bench
    .command('train')
    .description('Training throughput (tokens/s): full AdamW steps of a random model on random tokens, as loupe grow runs them')
    .addOption(new Option('--arch <name>', 'architecture').choices(['llama', 'gpt2', 'attn-only']).default('llama'))
    .option('--d-model <n>', 'residual width', parseIntOption('d-model', 1), 128)
    .option('--layers <n>', 'transformer blocks', parseIntOption('layers', 1), 2)
    .option('--heads <n>', 'attention heads (default d-model / 32)', parseIntOption('heads', 1))
    .option('--ctx <n>', 'sequence length', parseIntOption('ctx', 2), 128)
    .option('--batch <n>', 'sequences per step', parseIntOption('batch', 1), 16)
    .option('--vocab <n>', 'vocabulary size', parseIntOption('vocab', 2), 2048)
    .option('--d-mlp <n>', 'MLP width (default 4 x d-model)', parseIntOption('d-mlp', 1))
    .option('--steps <n>', 'timed steps (the median is reported)', parseIntOption('steps', 1), 10)
    .option('--warmup <n>', 'untimed steps first', parseIntOption('warmup', 0), 3)
    .option('--json', 'print one JSON line')
    .action((o: { arch: 'llama' | 'gpt2' | 'attn-only'; dModel: number; layers: number; heads?: number; ctx: number; batch: number; vocab: number; dMlp?: number; steps: number; warmup: number; json?: boolean }) => {
      const r = benchTrain(o);
      if (o.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        `train ${r.arch} ${r.layers}L d${r.d_model} ${r.heads}h ctx ${r.ctx} batch ${r.batch} vocab ${r.vocab} (${r.parameters} parameters) on ${r.backend}: ` +
          `${Math.round(r.tokens_per_s)} tokens/s, ${r.ms_per_step_median.toFixed(1)} ms/step (median of ${r.steps})\n`,
      );
    });
}

function registerSae(bench: Command): void {
  bench
    .command('sae')
    .description('TopK SAE training steps on random data (encoder GEMM, top-k, sparse decode and backward, Adam): tokens/s')
    .option('--d-in <n>', 'input width', parseIntOption('d-in', 1), 768)
    .option('--latents <n>', 'dictionary size', parseIntOption('latents', 1), 24576)
    .option('--k <n>', 'active latents per token', parseIntOption('k', 1), 32)
    .option('--batch <n>', 'tokens per step', parseIntOption('batch', 1), 4096)
    .option('--steps <n>', 'timed steps (after one warm-up step)', parseIntOption('steps', 1), 5)
    .option('--json', 'print one JSON line')
    .action((o: { dIn: number; latents: number; k: number; batch: number; steps: number; json?: boolean }) => {
      const r = benchSaeTraining({ dIn: o.dIn, latents: o.latents, k: o.k, batch: o.batch, steps: o.steps });
      if (o.json) printJson(r);
      else process.stdout.write(`sae topk step d_in ${r.d_in}, ${r.latents} latents, k ${r.k}, batch ${r.batch} on ${r.backend}: ${r.tokens_per_s.toFixed(0)} tokens/s (${r.ms_per_step.toFixed(0)} ms/step, mean of ${r.steps})\n`);
    });
}

function registerForward(bench: Command): void {
  bench
    .command('forward')
    .description('Forward-pass tokens/s of a random-weight GPT-2-shaped model (full logits), median of timed passes')
    .option('--d-model <n>', 'residual width', parseIntOption('d-model', 1), 768)
    .option('--layers <n>', 'transformer blocks', parseIntOption('layers', 1), 12)
    .option('--heads <n>', 'attention heads', parseIntOption('heads', 1), 12)
    .option('--ctx <n>', 'sequence length', parseIntOption('ctx', 1), 128)
    .option('--batch <n>', 'sequences per forward', parseIntOption('batch', 1), 4)
    .option('--vocab <n>', 'vocabulary size', parseIntOption('vocab', 2), 50257)
    .option('--iters <n>', 'timed passes (the median is reported)', parseIntOption('iters', 1), 5)
    .option('--warmup <n>', 'untimed passes first', parseIntOption('warmup', 0), 1)
    .option('--json', 'print one JSON line')
    .action((o: { dModel: number; layers: number; heads: number; ctx: number; batch: number; vocab: number; iters: number; warmup: number; json?: boolean }) => {
      const r = benchForward(o);
      if (o.json) printJson(r);
      else process.stdout.write(`forward ${r.layers}L d${r.d_model} ${r.heads}h ctx ${r.ctx} batch ${r.batch} vocab ${r.vocab} on ${r.backend}: ${r.tokens_per_s.toFixed(1)} tokens/s (${r.ms_per_forward_median.toFixed(0)} ms/forward, median of ${r.iters})\n`);
    });
}

function registerAttribute(bench: Command): void {
  bench
    .command('attribute')
    .description('Attribution-graph time and peak memory for prompts of several lengths (one `loupe attribute` process each)')
    .requiredOption('--model <path>', 'checkpoint')
    .option('--tokenizer <path>', 'tokenizer (default: beside an HF checkpoint)')
    .requiredOption('--transcoders <dir>', 'transcoder set (`loupe transcoders train`)')
    .requiredOption('--data <file>', 'text whose beginning makes the prompts')
    .option('--lengths <list>', 'prompt lengths in tokens (BOS included), comma-separated', '16,64,256,512')
    .option('--json', 'print {"rows": [...]} as one JSON line')
    .action(async (o: { model: string; tokenizer?: string; transcoders: string; data: string; lengths: string; json?: boolean }) => {
      const lengths = o.lengths.split(',').map((s) => Number(s.trim()));
      if (!lengths.length || lengths.some((n) => !Number.isInteger(n) || n < 2)) throw new InputError(`--lengths must be integers >= 2, got "${o.lengths}"`);
      const { model, tokenizer } = await loadModelAndTokenizer(o.model, o.tokenizer, true);
      for (const n of lengths) if (n > model.config.nCtx) throw new InputError(`--lengths: ${n} tokens is over the model's context of ${model.config.nCtx}`);
      const rows = benchAttribute(tokenizer!, {
        ...o,
        lengths,
        onRow: (r) => {
          if (!o.json) process.stdout.write(`${r.tokens} tokens: ${r.nodes} nodes, ${r.edges} edges, ${r.seconds.toFixed(1)} s, peak RSS ${r.peak_rss_mb.toFixed(0)} MB\n`);
        },
      });
      if (o.json) printJson({ rows });
    });
}
