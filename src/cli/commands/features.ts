// `loupe features <build|show|inspect|search|explain|score|export|info>`: the feature database from the
// command line, each subcommand a few lines over src/features and src/autointerp.
import { Option, type Command } from 'commander';
import '../../tensor/backend/native/index.js'; // native kernels for the model runs
import { createProvider, explainFeatures, PROVIDERS, SCORERS, scoreFeatures, type ScorerName } from '../../autointerp/index.js';
import { InputError } from '../../errors.js';
import {
  buildFeatures,
  builtInfo,
  databaseInfo,
  featureRecord,
  inspectPrompt,
  loadSource,
  openFeatureDb,
  parseFeatureList,
  searchFeatures,
  sourceForStore,
  tokenizerForStore,
  type ExampleView,
  type FeatureRecord,
  type SourcePaths,
} from '../../features/index.js';
import { exportParquet, Store } from '../../store/index.js';
import { progress } from '../../util/progress.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';

const DOC_SPLITS = ['blank-line', 'line', 'whole', 'single-newline'] as const;

export function register(program: Command): void {
  const features = program.command('features').description('Feature databases: build, show, inspect prompts, search, explain and score (see docs/features.md)');
  registerBuild(features);
  registerShow(features);
  registerInspect(features);
  registerSearch(features);
  registerRun(features, 'explain');
  registerRun(features, 'score');
  registerExport(features);
  registerInfo(features);
}

interface BuildFlags {
  model: string;
  tokenizer: string;
  sae: string;
  data: string;
  tokens: number;
  db: string;
  context: number;
  bos: boolean;
  batch?: number;
  docSplit?: (typeof DOC_SPLITS)[number];
  field?: string;
  seed: number;
  checkpointSeconds: number;
  overwrite?: boolean;
  json?: boolean;
}

function registerBuild(features: Command): void {
  features
    .command('build')
    .description('Run the model with the dictionary spliced in over a corpus and store every feature\'s statistics (resumable)')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .requiredOption('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--sae <dir>', 'dictionary in SAELens layout (cfg.json + sae_weights.safetensors)')
    .requiredOption('--data <file>', 'corpus: .txt or .jsonl')
    .requiredOption('--tokens <n>', 'model tokens to process (BOS included)', parseIntOption('tokens', 1))
    .requiredOption('--db <file>', 'feature database to create or resume (DuckDB)')
    .option('--context <n>', 'tokens per sequence, BOS first', parseIntOption('context', 2, 65536), 64)
    .option('--no-bos', 'do not start sequences with BOS')
    .option('--batch <n>', 'sequences per model run', parseIntOption('batch', 1, 4096))
    .addOption(new Option('--doc-split <how>', 'plain text: how documents are separated').choices(DOC_SPLITS))
    .option('--field <name>', 'JSONL: the field holding the text (default "text")')
    .option('--seed <n>', 'sampling seed', parseIntOption('seed', 0), 0)
    .option('--checkpoint-seconds <s>', 'seconds between checkpoints', parseFloatOption('checkpoint-seconds', 0), 20)
    .option('--overwrite', 'replace a build with other settings already in --db')
    .option('--json', 'print one JSON line with the summary')
    .action(async (flags: BuildFlags) => {
      const source = await loadSource({ model: flags.model, tokenizer: flags.tokenizer, dictionary: flags.sae });
      const store = await Store.open(flags.db);
      const bar = progress({ label: 'features', total: flags.tokens, unit: 'tok' });
      const stop = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\nloupe: stopping at the next batch and saving a checkpoint (Ctrl-C again to kill; the build resumes from its last checkpoint either way)\n');
        stop.abort();
        process.off('SIGINT', onSigint);
      };
      process.on('SIGINT', onSigint);
      try {
        const summary = await buildFeatures({
          store,
          source,
          data: flags.data,
          tokens: flags.tokens,
          context: flags.context,
          bos: flags.bos,
          batchSize: flags.batch,
          split: flags.docSplit,
          field: flags.field,
          overwrite: flags.overwrite,
          checkpointSeconds: flags.checkpointSeconds,
          stats: { seed: flags.seed },
          signal: stop.signal,
          onProgress: (p) => bar.update(Math.min(p.tokens, flags.tokens), p.stage === 'stream' ? undefined : { stage: p.detail ?? p.stage }),
        });
        bar.stop();
        if (flags.json) printJson(summary);
        else if (summary.status === 'already-built') process.stdout.write(`${flags.db} already holds this build (${summary.tokens} tokens); nothing to do\n`);
        else if (summary.status === 'stopped') process.stdout.write(`stopped at ${summary.tokens} of ${flags.tokens} tokens; rerun the same command to resume\n`);
        else {
          process.stdout.write(
            `built ${summary.features} features over ${summary.tokens} tokens (${summary.sequences} sequences of ${flags.context}) into ${flags.db}\n` +
              `${summary.tokensPerSecond.toFixed(0)} tokens/s end to end (stream ${summary.streamTokensPerSecond.toFixed(0)} tokens/s; ` +
              `${summary.seconds.stream.toFixed(1)} s streaming + ${summary.seconds.finalize.toFixed(1)} s finalising)` +
              (summary.resumedFromTokens ? `, resumed from ${summary.resumedFromTokens} tokens` : '') +
              (summary.corpusExhausted ? `; the corpus ran out before --tokens` : '') +
              '\n',
          );
        }
      } finally {
        process.off('SIGINT', onSigint);
        store.close();
      }
    });
}

function registerShow(features: Command): void {
  features
    .command('show')
    .description("One feature's full record: examples, activation bins, histogram, logit effects, neighbours, explanations")
    .requiredOption('--db <file>', 'feature database')
    .requiredOption('--feature <n>', 'feature index', parseIntOption('feature', 0))
    .option('--negatives', 'include the never-firing examples used for scoring')
    .option('--json', 'print the record as one JSON line')
    .action(async (flags: { db: string; feature: number; negatives?: boolean; json?: boolean }) => {
      const store = await openFeatureDb(flags.db, { readOnly: true });
      try {
        const rec = await featureRecord(store, flags.feature, { negatives: flags.negatives });
        if (flags.json) printJson(rec);
        else process.stdout.write(renderRecord(rec));
      } finally {
        store.close();
      }
    });
}

interface SourceOverrideFlags {
  model?: string;
  tokenizer?: string;
  sae?: string;
}

function overrides(f: SourceOverrideFlags): Partial<SourcePaths> {
  return { ...(f.model ? { model: f.model } : {}), ...(f.tokenizer ? { tokenizer: f.tokenizer } : {}), ...(f.sae ? { dictionary: f.sae } : {}) };
}

function registerInspect(features: Command): void {
  features
    .command('inspect')
    .description("Each token's strongest features for a prompt, computed live with the build's own activation code")
    .requiredOption('--db <file>', 'feature database (its recorded model, tokenizer and dictionary are loaded and checked)')
    .requiredOption('--prompt <text>', 'text to inspect (BOS is added as the build did)')
    .option('--top <n>', 'features listed per token', parseIntOption('top', 1), 32)
    .option('--features <list>', 'report exactly these features at every token, e.g. 3,17-20')
    .option('--model <path>', 'the model, if it moved since the build (checked by content hash)')
    .option('--tokenizer <path>', 'the tokenizer, if it moved')
    .option('--sae <dir>', 'the dictionary, if it moved')
    .option('--json', 'print {"tokens": [{"token", "features": [{"feature", "activation"}]}]} on one line')
    .action(async (flags: SourceOverrideFlags & { db: string; prompt: string; top: number; features?: string; json?: boolean }) => {
      const store = await openFeatureDb(flags.db, { readOnly: true });
      try {
        const info = await builtInfo(store);
        const source = await sourceForStore(store, overrides(flags));
        const only = flags.features ? parseFeatureList(flags.features, info.nFeatures) : undefined;
        const res = await inspectPrompt(store, source, flags.prompt, { top: flags.top, features: only });
        if (flags.json) return printJson(res);
        const lines = res.tokens.map((t) => `${String(t.position).padStart(4)}  ${JSON.stringify(t.token).padEnd(16)} ${t.features.slice(0, 8).map((f) => `${f.feature}:${f.activation.toFixed(3)}`).join('  ')}`);
        process.stdout.write(`${res.tokens.length} tokens${res.bos ? ' (after BOS)' : ''}; strongest features (feature:activation)\n${lines.join('\n')}\n`);
      } finally {
        store.close();
      }
    });
}

function registerSearch(features: Command): void {
  features
    .command('search')
    .description('Features for a word or text: fires on it (input), promotes it (output), or explanation mentions it')
    .requiredOption('--db <file>', 'feature database')
    .requiredOption('--query <text>', 'word(s) or text to look for')
    .option('--limit <n>', 'results', parseIntOption('limit', 1, 10000), 20)
    .option('--json', 'print the results as one JSON line')
    .action(async (flags: { db: string; query: string; limit: number; json?: boolean }) => {
      const store = await openFeatureDb(flags.db, { readOnly: true });
      try {
        const tokenizer = (await tokenizerForStore(store)) ?? undefined;
        const res = await searchFeatures(store, flags.query, { limit: flags.limit, tokenizer });
        if (flags.json) return printJson(res);
        const lines = res.results.map((h) => {
          const why = [
            h.input ? `input: fires on ${JSON.stringify(h.input.token)} (mean ${h.input.mean_activation.toFixed(3)}, ${(100 * h.input.fire_rate).toFixed(0)}% of occurrences)` : null,
            h.output ? `output: promotes ${JSON.stringify(h.output.token)} (logit ${h.output.logit.toFixed(3)}, rank ${h.output.rank + 1})` : null,
            h.explanation ? `explanation: ${JSON.stringify(h.explanation.text)}` : null,
          ].filter(Boolean);
          return `${String(h.feature).padStart(6)}  ${h.score.toFixed(3)}  ${why.join('; ')}`;
        });
        process.stdout.write(`query tokens: ${res.tokens.map((t) => JSON.stringify(t.token)).join(', ') || '(none in the vocabulary)'}\nfeature  score  evidence\n${lines.join('\n')}\n`);
      } finally {
        store.close();
      }
    });
}

interface RunFlags {
  db: string;
  provider: string;
  features: string;
  llm?: string;
  baseUrl?: string;
  concurrency: number;
  timeout: number;
  retries: number;
  scorers?: string;
  json?: boolean;
}

function registerRun(features: Command, what: 'explain' | 'score'): void {
  const cmd = features
    .command(what)
    .description(
      what === 'explain'
        ? 'Explain features with an LLM (openai, anthropic; keys from the environment) or offline; failures are recorded per feature'
        : "Score features' latest explanations: detection and fuzzing (balanced accuracy), simulation (correlation) where the provider can",
    )
    .requiredOption('--db <file>', 'feature database')
    .addOption(new Option('--provider <name>', 'who explains / judges').choices(PROVIDERS).makeOptionMandatory())
    .requiredOption('--features <list>', 'features, e.g. 0-49 or 3,17,40-45')
    .option('--llm <model>', 'model name for the provider (default: a small current model of the provider)')
    .option('--base-url <url>', 'API base URL (default: $OPENAI_BASE_URL / $ANTHROPIC_BASE_URL, else the public API)')
    .option('--concurrency <n>', 'requests in flight at once', parseIntOption('concurrency', 1, 256), 4)
    .option('--timeout <s>', 'seconds per request attempt', parseFloatOption('timeout', 0.1), 60)
    .option('--retries <n>', 'retries per request after the first attempt', parseIntOption('retries', 0, 20), 4)
    .option('--json', 'print the per-feature results as one JSON line');
  if (what === 'score') cmd.option('--scorers <list>', `comma-separated: ${SCORERS.join(', ')} (default: all)`);
  cmd.action(async (flags: RunFlags) => {
    const store = await openFeatureDb(flags.db);
    try {
      const info = await builtInfo(store);
      const list = parseFeatureList(flags.features, info.nFeatures);
      const provider = createProvider(flags.provider, { model: flags.llm, baseUrl: flags.baseUrl, concurrency: flags.concurrency, timeoutMs: flags.timeout * 1000, retries: flags.retries });
      const bar = progress({ label: what, total: list.length, unit: 'features' });
      const common = { features: list, provider, concurrency: Math.max(flags.concurrency, 1), onProgress: (done: number) => bar.update(done) };
      if (what === 'explain') {
        const run = await explainFeatures(store, common);
        bar.stop();
        if (flags.json) return printJson(run);
        for (const r of run.results) process.stdout.write(`${String(r.feature).padStart(6)}  ${r.status === 'ok' ? r.explanation : `${r.status}: ${r.error}`}\n`);
        process.stdout.write(`${run.ok} explained, ${run.failed} failed, ${run.skipped} skipped (${usageLine(run.usage)})\n`);
      } else {
        const scorers = flags.scorers ? parseScorers(flags.scorers) : undefined;
        const run = await scoreFeatures(store, { ...common, scorers });
        bar.stop();
        if (flags.json) return printJson(run);
        const names = scorers ?? [...SCORERS];
        process.stdout.write(`feature  ${names.map((n) => n.padEnd(10)).join(' ')}  explanation\n`);
        for (const f of run.features) {
          process.stdout.write(`${String(f.feature).padStart(7)}  ${names.map((n) => fmtScore(f.scores[n]).padEnd(10)).join(' ')}  ${f.explanation ?? `(${f.errors[names[0]!] ?? 'none'})`}\n`);
        }
        process.stdout.write(`mean     ${names.map((n) => fmtScore(run.mean[n]).padEnd(10)).join(' ')}  (${usageLine(run.usage)})\n`);
      }
    } finally {
      store.close();
    }
  });
}

function registerExport(features: Command): void {
  features
    .command('export')
    .description('Write every table of a feature database as Parquet files')
    .requiredOption('--db <file>', 'feature database')
    .requiredOption('--out <dir>', 'directory for <table>.parquet')
    .option('--tables <list>', 'comma-separated table names (default: all)')
    .option('--json', 'print the written files as one JSON line')
    .action(async (flags: { db: string; out: string; tables?: string; json?: boolean }) => {
      const store = await openFeatureDb(flags.db, { readOnly: true });
      try {
        const res = await exportParquet(store, flags.out, flags.tables ? flags.tables.split(',').map((s) => s.trim()) : undefined);
        if (flags.json) return printJson(res);
        for (const f of res.files) process.stdout.write(`${f.path}  ${f.rows} rows\n`);
      } finally {
        store.close();
      }
    });
}

function registerInfo(features: Command): void {
  features
    .command('info')
    .description('What a feature database was built from (paths, content hashes) and its build status')
    .requiredOption('--db <file>', 'feature database')
    .option('--json', 'print as one JSON line')
    .action(async (flags: { db: string; json?: boolean }) => {
      const store = await openFeatureDb(flags.db, { readOnly: true });
      try {
        const info = await databaseInfo(store);
        if (flags.json) return printJson(info);
        const { model, tokenizer, dictionary: d } = info.identity;
        const b = info.build;
        process.stdout.write(
          `model       ${model.path} (${model.architecture}, d_model ${model.dModel}, ${model.nLayers} layers, sha256 ${model.sha256.slice(0, 12)})\n` +
            `tokenizer   ${tokenizer.path} (sha256 ${tokenizer.sha256.slice(0, 12)})\n` +
            `dictionary  ${d.path} (${d.architecture}, ${d.nFeatures} features at ${d.hookName}${d.hookNameOut ? ` -> ${d.hookNameOut}` : ''}, sha256 ${d.sha256.slice(0, 12)})\n` +
            (b
              ? `build       ${b.status}: ${b.tokens}/${b.target} tokens of ${b.dataPath}, ${b.sequences} sequences of ${b.context}${b.bos ? ' (BOS first)' : ''}` +
                (b.tokensPerSecond ? `, ${b.tokensPerSecond.toFixed(0)} tokens/s` : '') +
                '\n'
              : 'build       none\n'),
        );
      } finally {
        store.close();
      }
    });
}

function parseScorers(list: string): ScorerName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(SCORERS as readonly string[]).includes(n)) throw new InputError(`unknown scorer "${n}" (scorers: ${SCORERS.join(', ')})`);
  return names as ScorerName[];
}

function fmtScore(v: number | null | undefined): string {
  return typeof v === 'number' ? v.toFixed(3) : '-';
}

function usageLine(u: { requests: number; retries: number; promptTokens: number; completionTokens: number }): string {
  return `${u.requests} requests, ${u.retries} retries, ${u.promptTokens} prompt + ${u.completionTokens} completion tokens`;
}

/** A feature page as text: the strongest tokens of each example in [brackets] with their activation. */
function renderRecord(r: FeatureRecord): string {
  const out: string[] = [];
  out.push(`feature ${r.feature}: density ${(100 * r.density).toFixed(4)}% (${r.fire_count} tokens), max ${r.max_activation.toFixed(4)}, mean ${r.mean_activation.toFixed(4)}`);
  for (const e of r.explanations.slice(0, 3)) {
    out.push(`explanation (${e.provider}${e.model ? `/${e.model}` : ''}): ${e.text}${e.scores.length ? `  [${e.scores.map((s) => `${s.scorer} ${fmtScore(s.value)}`).join(', ')}]` : ''}`);
  }
  out.push('', 'top examples:');
  r.top_examples.forEach((e, i) => out.push(`${String(i + 1).padStart(3)}. ${e.activation.toFixed(3).padStart(8)}  ${highlight(e)}`));
  out.push('', 'activation bins (count; a sample):');
  for (const b of r.bins) out.push(`  [${b.lo.toFixed(3)}, ${b.hi.toFixed(3)})  ${String(b.count).padStart(7)}  ${b.examples[0] ? highlight(b.examples[0]) : ''}`);
  const logits = (l: FeatureRecord['top_logits']): string => l.map((x) => `${JSON.stringify(x.token)} ${x.value.toFixed(3)}`).join(', ');
  out.push('', `promotes:    ${logits(r.top_logits)}`, `suppresses:  ${logits(r.bottom_logits)}`);
  out.push(`co-active:   ${r.coactivating.map((c) => `${c.feature} (${c.jaccard.toFixed(3)})`).join(', ')}`);
  out.push(`similar:     ${r.similar.map((c) => `${c.feature} (${c.cosine.toFixed(3)})`).join(', ')}`);
  return out.join('\n') + '\n';
}

/** Tokens at >= 30% of the row's max in [token:act]; the example's own position in [[token:act]]. */
function highlight(e: ExampleView): string {
  const max = Math.max(...e.activations, 0);
  return e.tokens
    .map((t, i) =>
      i === e.position ? `[[${t}:${e.activations[i]!.toFixed(2)}]]` : max > 0 && e.activations[i]! >= 0.3 * max ? `[${t}:${e.activations[i]!.toFixed(2)}]` : t,
    )
    .join('')
    .replace(/\n/g, '\\n');
}
