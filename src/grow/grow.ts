// grow(): train a decoder-only transformer from text, end to end. A run directory holds
//   run.json          the resolved spec (architecture, training, data, checkpoints) and data summary
//   tokenizer.json    the byte-level BPE tokenizer trained on the training documents (or the one given)
//   heldout.jsonl     the held-out documents ({"text": ...} per line), for evaluation and `loupe dynamics`
//   metrics.jsonl     per-step training metrics and per-checkpoint held-out loss
//   curve.svg         the training curve
//   checkpoint-<step>/ Hugging Face layout + trainer state (see checkpoints.ts)
// Training is a pure function of the spec: batches depend only on (seed, step), so a resumed run
// continues exactly where the interrupted one stopped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, LoupeError, NonFiniteError } from '../errors.js';
import { writeFileAtomic } from '../io/index.js';
import { writeAll } from '../io/files.js';
import { loadHfModel, Transformer, type ModelConfig } from '../model/index.js';
import { loadTokenizer, parseHfTokenizer, trainByteLevelBpe, type Tokenizer } from '../model/tokenizers/index.js';
import { learningRate } from '../tensor/index.js';
import { evalBatches, trainingBatch, type Batch, type RepeatOptions } from './batches.js';
import { CheckpointStore, type CheckpointInfo, type TrainerState } from './checkpoints.js';
import { encodeDocuments, firstOrdinaryId, readDocumentSets, separatorIdOf } from './corpus.js';
import { CURVE_FILE, METRICS_FILE, appendMetrics, readMetrics, trainingCurveSvg, truncateMetrics } from './metrics.js';
import { archDifferences, modelConfigFor, resolveSpec, validateSpec, type GrowSpec, type GrowSpecInput } from './spec.js';
import { makeOptimizer, meanLoss, trainStep } from './step.js';

export const RUN_FILE = 'run.json';
export const HELDOUT_FILE = 'heldout.jsonl';
export const TOKENIZER_FILE = 'tokenizer.json';
const RUN_FORMAT = 'loupe-grow/1';

export interface GrowProgress {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  loss: number;
  /** Exponential moving average of the loss (what the progress bar shows). */
  smoothLoss: number;
  lr: number;
  gradNorm: number;
  /** Recent throughput (moving average over the last steps). */
  tokensPerS: number;
  elapsedS: number;
}

export interface GrowOptions {
  /** The run directory. */
  out: string;
  spec: GrowSpecInput;
  /** Continue the run in `out` from its latest complete checkpoint (the saved spec is used; `steps` may be raised). */
  resume?: boolean;
  onProgress?: (p: GrowProgress) => void;
  /** One-line status messages (tokenizer trained, resumed from ..., checkpoint written). */
  onMessage?: (message: string) => void;
  /** Stop after the current step, write a checkpoint, and return with interrupted: true. */
  signal?: AbortSignal;
  /** How many of the newest checkpoints keep optimizer moments (default 1: enough to resume). */
  keepOptimizerOf?: number;
}

export interface GrowResult {
  out: string;
  spec: GrowSpec;
  config: ModelConfig;
  /** Steps completed. */
  steps: number;
  /** Smoothed training loss at the end. */
  trainLoss: number | null;
  /** Held-out loss at the last checkpoint. */
  evalLoss: number | null;
  /** Mean training throughput of this session (training steps only). */
  tokensPerS: number;
  /** Training time, seconds, over all sessions of the run. */
  elapsedS: number;
  checkpoints: string[];
  interrupted: boolean;
  resumedFrom: number | null;
}

/** The run.json of a run directory. */
export interface RunRecord {
  format: string;
  spec: GrowSpec;
  config: ModelConfig;
  data: { split: string; trainDocuments: number; heldoutDocuments: number; trainTokens: number; heldoutTokens: number };
}

export async function grow(opts: GrowOptions): Promise<GrowResult> {
  const out = opts.out;
  const say = opts.onMessage ?? (() => {});
  const existing = readRunRecord(out);
  const store = new CheckpointStore(out);

  let spec: GrowSpec;
  let tokenizerJson: string;
  let resumeFrom: CheckpointInfo | null = null;
  if (opts.resume) {
    if (!existing) throw new InputError(`${out}: no run to resume (no ${RUN_FILE}); start one without --resume`);
    spec = resumedSpec(existing.spec, opts.spec, out);
    resumeFrom = store.latestResumable();
    tokenizerJson = fs.readFileSync(path.join(out, TOKENIZER_FILE), 'utf8');
    if (!resumeFrom) say(`no complete checkpoint in ${out} yet: starting the run from step 0`);
  } else {
    if (existing || store.list().length > 0) {
      throw new InputError(`${out} already holds a training run; pass --resume to continue it, or choose another --out`);
    }
    spec = resolveSpec(await withTokenizerVocab(opts.spec));
    tokenizerJson = '';
  }

  // Documents, tokenizer, token streams.
  const docs = await readDocumentSets(spec.data.path, spec.data.split, spec.data.valFraction);
  let tokenizer: Tokenizer;
  if (opts.resume) {
    tokenizer = parseHfTokenizer(tokenizerJson, path.join(out, TOKENIZER_FILE));
  } else if (spec.data.tokenizer) {
    tokenizerJson = fs.readFileSync(spec.data.tokenizer, 'utf8');
    tokenizer = parseHfTokenizer(tokenizerJson, spec.data.tokenizer);
    if (tokenizer.vocabSize !== spec.model.vocab) {
      throw new InputError(`--vocab ${spec.model.vocab} differs from the ${tokenizer.vocabSize} tokens of ${spec.data.tokenizer}`);
    }
  } else {
    const t0 = Date.now();
    const json = await trainByteLevelBpe(docs.train, { vocabSize: spec.model.vocab, specialTokens: ['<|endoftext|>'] });
    tokenizerJson = JSON.stringify(json);
    tokenizer = parseHfTokenizer(json, 'trained tokenizer');
    say(`trained a byte-level BPE tokenizer of ${tokenizer.vocabSize} tokens on ${docs.train.length} documents in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const separatorId = separatorIdOf(tokenizer);
  const train = encodeDocuments(tokenizer, docs.train, separatorId);
  const heldout = encodeDocuments(tokenizer, docs.heldout, separatorId);
  const { ctx, vocab } = spec.model;
  if (train.ids.length < ctx + 1) {
    throw new InputError(`${spec.data.path}: the training text is only ${train.ids.length} tokens; a context of ${ctx} needs at least ${ctx + 1} (use more text or a smaller --ctx)`);
  }
  const config = modelConfigFor(spec.model, separatorId);

  if (!opts.resume) {
    fs.mkdirSync(out, { recursive: true });
    const record: RunRecord = {
      format: RUN_FORMAT,
      spec,
      config,
      data: {
        split: docs.split,
        trainDocuments: docs.train.length,
        heldoutDocuments: docs.heldout.length,
        trainTokens: train.ids.length,
        heldoutTokens: heldout.ids.length,
      },
    };
    writeText(path.join(out, TOKENIZER_FILE), tokenizerJson);
    writeText(path.join(out, HELDOUT_FILE), docs.heldout.map((text) => JSON.stringify({ text }) + '\n').join(''));
    writeText(path.join(out, RUN_FILE), JSON.stringify(record, null, 2) + '\n');
    fs.writeFileSync(path.join(out, METRICS_FILE), '');
    say(`${train.ids.length} training tokens (${docs.train.length} documents, split "${docs.split}"), ${heldout.ids.length} held-out tokens`);
  } else {
    // Keep run.json in step with a raised step count or new checkpoint settings.
    writeText(path.join(out, RUN_FILE), JSON.stringify({ ...existing!, spec }, null, 2) + '\n');
  }

  // Model and optimizer: fresh, or restored from the latest complete checkpoint.
  let model: Transformer;
  if (resumeFrom) {
    model = loadHfModel(resumeFrom.dir);
    const diffs = configDifferences(model.config, config);
    if (diffs.length) {
      throw new InputError(`${resumeFrom.dir} holds a different architecture than the run's spec (${diffs.join('; ')}): it cannot be resumed`);
    }
  } else {
    model = Transformer.random(config, { seed: spec.train.seed, std: spec.train.initStd });
  }
  const { optimizer, names } = makeOptimizer(model, spec.train);
  let state: TrainerState = { step: 0, tokensSeen: 0, elapsedS: 0, trainLoss: null, evalLoss: null, lr: 0 };
  if (resumeFrom) {
    store.loadOptimizer(resumeFrom, optimizer, names);
    state = { ...resumeFrom.state! };
    truncateMetrics(path.join(out, METRICS_FILE), state.step);
    say(`resuming from ${resumeFrom.dir} (step ${state.step} of ${spec.train.steps})`);
  } else if (opts.resume) {
    truncateMetrics(path.join(out, METRICS_FILE), 0);
  }

  const repeat: RepeatOptions | undefined =
    spec.data.repeatFraction > 0
      ? { fraction: spec.data.repeatFraction, minLen: spec.data.repeatMinLen, maxLen: spec.data.repeatMaxLen, firstId: firstOrdinaryId(tokenizer), vocab, separatorId }
      : undefined;
  const evalSet = evalBatches(heldout.ids, ctx, spec.train.batch, spec.checkpoints.evalBatches * spec.train.batch);
  const checkpointSteps = checkpointStepSet(spec);
  const written: string[] = [];
  const metricsFile = path.join(out, METRICS_FILE);

  const checkpoint = (): void => {
    state.evalLoss = evalSet.length ? meanLoss(model, evalSet) : null;
    if (state.evalLoss !== null) appendMetrics(metricsFile, { step: state.step, eval_loss: state.evalLoss });
    const dir = store.save({ model, optimizer, paramNames: names, state, tokenizerJson }, opts.keepOptimizerOf ?? 1);
    written.push(dir);
    writeText(path.join(out, CURVE_FILE), trainingCurveSvg(readMetrics(metricsFile), `${config.name} on ${path.basename(spec.data.path)}`));
    say(`checkpoint ${dir}${state.evalLoss !== null ? ` (held-out loss ${state.evalLoss.toFixed(4)})` : ''}`);
  };

  if (state.step === 0 && checkpointSteps.has(0) && !resumeFrom) checkpoint();

  const tokensPerStep = spec.train.batch * ctx;
  let sessionTrainS = 0;
  let sessionSteps = 0;
  let recentRate = 0;
  let smooth = state.trainLoss ?? NaN;
  let interrupted = false;
  const startStep = state.step;
  for (let s = state.step; s < spec.train.steps; s++) {
    const lr = learningRate(s, { lr: spec.train.lr, totalSteps: spec.train.steps, warmupSteps: spec.train.warmupSteps, decay: spec.train.decay, minLrRatio: spec.train.minLrRatio });
    const batch: Batch = trainingBatch(train.ids, s, { batch: spec.train.batch, ctx, seed: spec.train.seed, repeat });
    const t0 = performance.now();
    let r;
    try {
      r = trainStep(model, optimizer, batch, lr, spec.train.gradClip);
    } catch (err) {
      if (err instanceof NonFiniteError) {
        const last = store.list().filter((c) => c.state).pop();
        throw new LoupeError('diverged', `training diverged at step ${s + 1}: ${err.message}; lower --lr or raise --warmup${last ? ` (last checkpoint: ${last.dir})` : ''}`, { step: s + 1 });
      }
      throw err;
    }
    const dt = (performance.now() - t0) / 1000;
    sessionTrainS += dt;
    sessionSteps++;
    const rate = tokensPerStep / dt;
    recentRate = sessionSteps === 1 ? rate : 0.9 * recentRate + 0.1 * rate;
    smooth = Number.isNaN(smooth) ? r.loss : 0.95 * smooth + 0.05 * r.loss;
    state = { ...state, step: s + 1, tokensSeen: state.tokensSeen + tokensPerStep, elapsedS: state.elapsedS + dt, trainLoss: smooth, lr };
    if (state.step % spec.checkpoints.logEvery === 0 || state.step === spec.train.steps) {
      appendMetrics(metricsFile, {
        step: state.step, loss: r.loss, lr, grad_norm: r.gradNorm, tokens: state.tokensSeen, tokens_per_s: recentRate, elapsed_s: state.elapsedS,
      });
    }
    opts.onProgress?.({ step: state.step, totalSteps: spec.train.steps, loss: r.loss, smoothLoss: smooth, lr, gradNorm: r.gradNorm, tokensPerS: recentRate, elapsedS: state.elapsedS });
    const aborted = opts.signal?.aborted === true && state.step < spec.train.steps;
    if (checkpointSteps.has(state.step) || state.step === spec.train.steps || aborted) checkpoint();
    if (aborted) {
      interrupted = true;
      say(`interrupted at step ${state.step}; continue with --resume`);
      break;
    }
  }
  if (state.step === startStep && state.step === spec.train.steps) say(`the run in ${out} already finished its ${spec.train.steps} steps`);

  return {
    out,
    spec,
    config,
    steps: state.step,
    trainLoss: state.trainLoss,
    evalLoss: state.evalLoss ?? store.list().filter((c) => c.state).pop()?.state?.evalLoss ?? null,
    tokensPerS: sessionTrainS > 0 ? (sessionSteps * tokensPerStep) / sessionTrainS : 0,
    elapsedS: state.elapsedS,
    checkpoints: written,
    interrupted,
    resumedFrom: resumeFrom ? resumeFrom.step : null,
  };
}

/** run.json of a run directory, or null when there is none. */
export function readRunRecord(dir: string): RunRecord | null {
  const file = path.join(dir, RUN_FILE);
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = raw as RunRecord;
  if (typeof r !== 'object' || r === null || r.format !== RUN_FORMAT || !r.spec) {
    throw new InputError(`${file}: not a loupe grow run record (expected format "${RUN_FORMAT}")`);
  }
  return r;
}

/** Steps at which a checkpoint is written (the last step always is). */
export function checkpointStepSet(spec: GrowSpec): Set<number> {
  const out = new Set<number>(spec.checkpoints.at.filter((s) => s <= spec.train.steps));
  const every = spec.checkpoints.every;
  if (every > 0) for (let s = every; s <= spec.train.steps; s += every) out.add(s);
  out.add(spec.train.steps);
  return out;
}

/**
 * On resume the saved spec rules. Architecture flags that disagree with it are an error (the checkpoint
 * belongs to another model); `steps` may be raised and checkpoint settings changed; other training
 * settings that differ are an error too (the run would no longer be the one that was started).
 */
function resumedSpec(saved: GrowSpec, asked: GrowSpecInput, out: string): GrowSpec {
  const archDiffs = archDifferences(saved.model, asked.model ?? {});
  if (archDiffs.length) {
    throw new InputError(`${out} holds a checkpoint series of another architecture (${archDiffs.join('; ')}); resume it without architecture flags, or choose another --out`);
  }
  const trainDiffs: string[] = [];
  for (const [k, v] of Object.entries(asked.train ?? {})) {
    if (v === undefined || k === 'steps') continue;
    if ((saved.train as unknown as Record<string, unknown>)[k] !== v) trainDiffs.push(`${k}: run has ${String((saved.train as unknown as Record<string, unknown>)[k])}, asked for ${String(v)}`);
  }
  for (const [k, v] of Object.entries(asked.data ?? {})) {
    if (v === undefined) continue;
    const was = (saved.data as unknown as Record<string, unknown>)[k];
    if (k === 'path' ? path.resolve(String(v)) !== path.resolve(String(was)) : was !== v) trainDiffs.push(`${k}: run has ${String(was)}, asked for ${String(v)}`);
  }
  if (trainDiffs.length) throw new InputError(`--resume continues the run as it was started; these settings differ (${trainDiffs.join('; ')})`);
  const spec: GrowSpec = {
    model: saved.model,
    data: saved.data,
    train: { ...saved.train, ...(asked.train?.steps !== undefined ? { steps: asked.train.steps } : {}) },
    checkpoints: { ...saved.checkpoints, ...definedOnly(asked.checkpoints ?? {}) },
  };
  validateSpec(spec);
  return spec;
}

/** With an existing tokenizer and no --vocab, the vocabulary is the tokenizer's. */
async function withTokenizerVocab(input: GrowSpecInput): Promise<GrowSpecInput> {
  const tok = input.data?.tokenizer;
  if (!tok || input.model?.vocab !== undefined) return input;
  const t = await loadTokenizer(tok);
  return { ...input, model: { ...input.model, vocab: t.vocabSize } };
}

function configDifferences(a: ModelConfig, b: ModelConfig): string[] {
  const out: string[] = [];
  for (const k of ['family', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dHead', 'dMlp', 'vocabSize', 'nCtx', 'norm', 'positional', 'act', 'gatedMlp', 'attnOnly', 'tiedEmbeddings'] as const) {
    if (a[k] !== b[k]) out.push(`${k}: checkpoint has ${String(a[k])}, run has ${String(b[k])}`);
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function writeText(file: string, text: string): void {
  writeFileAtomic(file, (fd) => writeAll(fd, new TextEncoder().encode(text)));
}
