// `features build`: run the model with the dictionary over a corpus sample and keep, per feature, what a
// feature page shows. One streaming pass (bounded memory: see stats/accumulator.ts), checkpointed into
// the database every few seconds in one transaction with the sequences processed since, so a killed
// build resumes where its last checkpoint stopped and loses nothing it committed. Finalising (neighbours,
// logit effects, result tables) happens once, at the end, also in one transaction.
import { InputError } from '../errors.js';
import { Col, type Store } from '../store/index.js';
import { corpusSequences, type CorpusCounters, type CorpusSequence } from './corpus.js';
import { forgetBuiltInfo } from './database.js';
import { sha256Path } from './identity.js';
import { recordSource } from './registry.js';
import { encodeChecked, type ActivationSource } from './source.js';
import { DEFAULT_ACCUMULATOR, FeatureAccumulator, type AccumulatorConfig } from './stats/accumulator.js';
import { writeResults } from './write-results.js';

export interface BuildOptions {
  store: Store;
  source: ActivationSource;
  /** Text or JSONL corpus. */
  data: string;
  /** Model tokens to process (BOS included); the last batch may end up to one sequence past it. */
  tokens: number;
  /** Tokens per sequence, BOS included (default 64). */
  context?: number;
  /** Start every sequence with BOS and leave that position out of the statistics (default true). */
  bos?: boolean;
  split?: 'blank-line' | 'line' | 'whole' | 'single-newline';
  field?: string;
  batchSize?: number;
  /** Seconds between checkpoints (default 20). */
  checkpointSeconds?: number;
  /** Discard an existing build in this database (of the same dictionary) and start again. */
  overwrite?: boolean;
  stats?: Partial<Omit<AccumulatorConfig, 'nFeatures' | 'vocabSize' | 'context'>>;
  onProgress?: (p: BuildProgress) => void;
  /** Stop early (e.g. Ctrl-C): the build checkpoints and returns status "stopped". */
  signal?: AbortSignal;
}

export interface BuildProgress {
  stage: 'resume' | 'stream' | 'checkpoint' | 'finalize';
  tokens: number;
  target: number;
  detail?: string;
}

export interface BuildSummary {
  status: 'done' | 'already-built' | 'stopped';
  db: string;
  features: number;
  /** Model tokens processed in total / in this run. */
  tokens: number;
  tokensThisRun: number;
  sequences: number;
  /** Statistics positions (BOS excluded). */
  statisticTokens: number;
  resumedFromTokens: number;
  corpusExhausted: boolean;
  canonicalised: number;
  dropped: number;
  seconds: { stream: number; finalize: number; total: number };
  /** Model tokens per second of this run, end to end (finalising included) and of the stream alone. */
  tokensPerSecond: number;
  streamTokensPerSecond: number;
}

interface BuildRow {
  id: number;
  data_path: string;
  data_sha256: string;
  params: string;
  status: string;
  tokens_target: number;
  tokens_done: number;
  sequences_done: number;
  seconds: number | null;
}

export async function buildFeatures(opts: BuildOptions): Promise<BuildSummary> {
  const { store, source } = opts;
  const t0 = performance.now();
  const context = opts.context ?? 64;
  const bos = opts.bos ?? true;
  if (!Number.isInteger(opts.tokens) || opts.tokens < 1) throw new InputError(`--tokens must be a positive integer, got ${opts.tokens}`);
  if (!Number.isInteger(context) || context < 2) throw new InputError(`--context must be an integer >= 2, got ${context}`);
  if (bos && source.tokenizer.bosId === null) throw new InputError(`the tokenizer has no BOS token; build with --no-bos`);
  const statsCfg: AccumulatorConfig = {
    ...DEFAULT_ACCUMULATOR,
    ...opts.stats,
    nFeatures: source.nFeatures,
    vocabSize: source.tokenizer.vocabSize,
    context,
  };
  // Everything that changes the result; a resume must match it exactly.
  const params = JSON.stringify({ context, bos, split: opts.split ?? null, field: opts.field ?? null, stats: statsCfg });
  const dataSha = await sha256Path(opts.data);

  forgetBuiltInfo(store);
  await recordSource(store, source);
  let row: BuildRow | undefined = (await store.all<BuildRow>(`SELECT * FROM builds WHERE id = 1`))[0];
  if (row && (row.params !== params || row.data_sha256 !== dataSha)) {
    if (!opts.overwrite) {
      const what = row.data_sha256 !== dataSha ? `the corpus ${row.data_path}` : 'other settings';
      throw new InputError(`${store.path} already holds a build of this dictionary over ${what} (${describeParams(row.params)}); pass --overwrite to replace it, or use another --db`, {
        stored: row.params,
        requested: params,
      });
    }
  }
  if (row && opts.overwrite) {
    await clearBuild(store);
    row = undefined;
  }
  if (row && row.status === 'done' && row.tokens_done >= opts.tokens) {
    const sec = row.seconds ?? 0;
    return {
      status: 'already-built',
      db: store.path,
      features: source.nFeatures,
      tokens: row.tokens_done,
      tokensThisRun: 0,
      sequences: row.sequences_done,
      statisticTokens: row.tokens_done - (bos ? row.sequences_done : 0),
      resumedFromTokens: row.tokens_done,
      corpusExhausted: false,
      canonicalised: 0,
      dropped: 0,
      seconds: { stream: 0, finalize: 0, total: 0 },
      tokensPerSecond: sec > 0 ? row.tokens_done / sec : 0,
      streamTokensPerSecond: 0,
    };
  }

  // Fresh build, or resume from the last checkpoint (also to extend a finished build to more tokens).
  let acc: FeatureAccumulator;
  let tokensDone = 0;
  let previousSeconds = 0;
  const [ckpt] = row ? await store.all<{ state: Uint8Array; tokens_done: number; sequences_done: number }>(`SELECT state, tokens_done, sequences_done FROM build_checkpoints WHERE build_id = 1`) : [];
  if (row && ckpt) {
    acc = FeatureAccumulator.restore(ckpt.state, `${store.path} build checkpoint`);
    tokensDone = ckpt.tokens_done;
    previousSeconds = row.seconds ?? 0;
    await store.run(`UPDATE builds SET status = 'running', tokens_target = ? WHERE id = 1`, [opts.tokens]);
    // Sequences are written with the checkpoint, so anything past it is from a killed run: drop it.
    await store.run(`DELETE FROM sequences WHERE seq_id >= ?`, [ckpt.sequences_done]);
  } else {
    if (row) await clearBuild(store);
    acc = new FeatureAccumulator(statsCfg);
    await store.run(`INSERT INTO builds VALUES (1, 1, ?, ?, ?, 'running', ?, 0, 0, 0, NULL, current_timestamp, NULL)`, [opts.data, dataSha, params, opts.tokens]);
  }
  const resumedFrom = tokensDone;

  const counters: CorpusCounters = { canonicalised: 0, dropped: 0 };
  const gen = corpusSequences(source.tokenizer, { file: opts.data, context, bos, split: opts.split, field: opts.field }, counters);
  // Skip what the checkpoint covers, checking that the corpus still produces the same sequences.
  if (acc.sequences > 0) {
    opts.onProgress?.({ stage: 'resume', tokens: tokensDone, target: opts.tokens });
    let last: CorpusSequence | undefined;
    for (let i = 0; i < acc.sequences; i++) {
      const r = await gen.next();
      if (r.done) throw new InputError(`${opts.data} now yields fewer sequences than the checkpoint in ${store.path} covers; the corpus changed since the build started`);
      last = r.value;
    }
    const [stored] = await store.all<{ token_ids: number[] }>(`SELECT token_ids FROM sequences WHERE seq_id = ?`, [acc.sequences - 1]);
    if (!stored || stored.token_ids.join(',') !== last!.ids.join(',')) {
      throw new InputError(`the corpus ${opts.data} no longer tokenises to the sequences stored in ${store.path}; rebuild with --overwrite`);
    }
  }

  const batchSize = opts.batchSize ?? source.preferredBatch ?? 8;
  const checkpointMs = (opts.checkpointSeconds ?? 20) * 1000;
  let pending: CorpusSequence[] = [];
  let lastCheckpoint = performance.now();
  let exhausted = false;
  let stopped = false;
  const tStream = performance.now();
  const checkpoint = async (): Promise<void> => {
    opts.onProgress?.({ stage: 'checkpoint', tokens: tokensDone, target: opts.tokens });
    const firstId = acc.sequences - pending.length;
    const state = acc.serialize();
    const elapsed = previousSeconds + (performance.now() - t0) / 1000;
    await store.transaction(async () => {
      await store.append('sequences', [Col.int(pending.map((_, i) => firstId + i)), Col.intList(pending.map((s) => s.ids)), Col.varchar(pending.map((s) => s.text))]);
      await store.run(`DELETE FROM build_checkpoints WHERE build_id = 1`);
      await store.run(`INSERT INTO build_checkpoints VALUES (1, ?, ?, ?, current_timestamp)`, [acc.sequences, tokensDone, state]);
      await store.run(`UPDATE builds SET tokens_done = ?, sequences_done = ?, seconds = ? WHERE id = 1`, [tokensDone, acc.sequences, elapsed]);
    });
    pending = [];
    lastCheckpoint = performance.now();
  };

  while (tokensDone < opts.tokens) {
    if (opts.signal?.aborted) {
      stopped = true;
      break;
    }
    const batch: CorpusSequence[] = [];
    let batchTokens = 0;
    while (batch.length < batchSize && tokensDone + batchTokens < opts.tokens) {
      const r = await gen.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      batch.push(r.value);
      batchTokens += r.value.ids.length;
    }
    if (batch.length === 0) break;
    const ids = batch.map((s) => s.ids);
    const lb = await encodeChecked(source, ids);
    const firstId = acc.sequences;
    acc.addBatch(lb, ids, ids.map((_, i) => firstId + i), bos ? 1 : 0);
    pending.push(...batch);
    tokensDone += batchTokens;
    opts.onProgress?.({ stage: 'stream', tokens: tokensDone, target: opts.tokens });
    if (performance.now() - lastCheckpoint >= checkpointMs) await checkpoint();
    if (exhausted) break;
  }
  await gen.return(undefined);
  await checkpoint();
  const streamSeconds = (performance.now() - tStream) / 1000;
  if (acc.sequences === 0) throw new InputError(`${opts.data} holds no complete sequence of ${context} tokens`);

  let finalizeSeconds = 0;
  if (!stopped) {
    const tFin = performance.now();
    await writeResults(store, acc, source, bos ? 1 : 0, (stage) => opts.onProgress?.({ stage: 'finalize', tokens: tokensDone, target: opts.tokens, detail: stage }));
    finalizeSeconds = (performance.now() - tFin) / 1000;
  }
  const total = (performance.now() - t0) / 1000;
  const thisRun = tokensDone - resumedFrom;
  const tps = total > 0 ? thisRun / total : 0;
  await store.run(`UPDATE builds SET status = ?, seconds = ?, tokens_per_second = ?, finished_at = ${stopped ? 'NULL' : 'current_timestamp'} WHERE id = 1`, [
    stopped ? 'running' : 'done',
    previousSeconds + total,
    tps,
  ]);
  await store.checkpoint();
  forgetBuiltInfo(store);
  return {
    status: stopped ? 'stopped' : 'done',
    db: store.path,
    features: source.nFeatures,
    tokens: tokensDone,
    tokensThisRun: thisRun,
    sequences: acc.sequences,
    statisticTokens: acc.tokens,
    resumedFromTokens: resumedFrom,
    corpusExhausted: exhausted,
    canonicalised: counters.canonicalised,
    dropped: counters.dropped,
    seconds: { stream: streamSeconds, finalize: finalizeSeconds, total },
    tokensPerSecond: tps,
    streamTokensPerSecond: streamSeconds > 0 ? thisRun / streamSeconds : 0,
  };
}

async function clearBuild(store: Store): Promise<void> {
  await store.transaction(async () => {
    for (const t of ['builds', 'build_checkpoints', 'sequences', 'features', 'bins', 'examples', 'logits', 'neighbors', 'feature_tokens', 'token_counts']) {
      await store.run(`DELETE FROM ${t}`);
    }
  });
}

function describeParams(json: string): string {
  try {
    const p = JSON.parse(json) as { context: number; bos: boolean };
    return `context ${p.context}, ${p.bos ? 'BOS' : 'no BOS'}`;
  } catch {
    return 'unknown settings';
  }
}
