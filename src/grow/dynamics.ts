// Training dynamics over a checkpoint series: for each checkpoint the held-out loss, every head's
// previous-token and induction scores (the head detectors of analysis/lens, on repeated random tokens),
// and the in-context-learning score. The induction-head phase change shows as induction_max and
// icl_score moving together within a few checkpoints. The result is the JSON that `loupe dynamics --json`
// prints, so its keys are snake_case.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { headScores } from '../analysis/lens/index.js';
import { readDocuments } from '../io/index.js';
import { loadHfModel } from '../model/index.js';
import { parseHfTokenizer, type Tokenizer } from '../model/tokenizers/index.js';
import { evalBatches, type RepeatOptions } from './batches.js';
import { listCheckpoints } from './checkpoints.js';
import { chooseSplit, encodeDocuments, firstOrdinaryId, separatorIdOf, type TokenStreamData } from './corpus.js';
import { HELDOUT_FILE, readRunRecord, type RunRecord } from './grow.js';
import { iclScore, type IclOptions } from './icl.js';
import { meanLoss } from './step.js';

export interface DynamicsOptions {
  /** Held-out text (plain text or JSONL); default: the run directory's heldout.jsonl. */
  data?: string;
  /** Split of a plain-text `data` file into documents (default: chosen from its layout, as grow's 'auto'). */
  split?: 'blank-line' | 'line' | 'whole' | 'single-newline';
  /** Windows of the model's context averaged for the loss (default 32). */
  lossWindows?: number;
  icl?: IclOptions;
  /** Head detectors: random block length (default min(50, what fits)), sequences (default 8), seed (default 0). */
  seqLen?: number;
  detectorBatch?: number;
  seed?: number;
  /**
   * Data of the ICL score: 'run' (default) mixes in the run's repeated-segment sequences in the share it was
   * trained on (its training distribution, as Olsson et al. measure on theirs); 'text' uses text only.
   * icl_score_text always reports the text-only score.
   */
  iclData?: 'run' | 'text';
  /** Only checkpoints at these steps (default all). */
  steps?: number[];
  onCheckpoint?: (row: CheckpointDynamics, index: number, total: number) => void;
}

export interface CheckpointDynamics {
  step: number;
  /** Mean held-out next-token loss, nats. */
  loss: number;
  /** Highest induction score over all heads, and the head ("L1H3"). */
  induction_max: number;
  induction_head: string;
  prev_token_max: number;
  prev_token_head: string;
  /**
   * loss(late token) - loss(early token) over held-out windows of the run's training distribution (text,
   * plus repeated-segment sequences when the run mixed them in); more negative = more in-context learning.
   */
  icl_score: number;
  /** The same on held-out text only. */
  icl_score_text: number;
  /** [layer][head] scores. */
  induction: number[][];
  prev_token: number[][];
  /** Training tokens seen at this checkpoint, when the checkpoint records it. */
  tokens: number | null;
}

export interface PhaseChange {
  /** First step at which induction_max has covered half its rise from the first checkpoint to its peak (null: it rose by less than 0.1). */
  induction_step: number | null;
  /** First step at which icl_score has covered half its fall from the first checkpoint to its minimum. */
  icl_step: number | null;
  /** Consecutive checkpoints with the largest rise of induction_max / fall of icl_score. */
  induction_jump: { from_step: number; to_step: number; delta: number } | null;
  icl_jump: { from_step: number; to_step: number; delta: number } | null;
}

export interface DynamicsResult {
  checkpoints: CheckpointDynamics[];
  phase_change: PhaseChange;
  icl_positions: { early: number; late: number; half_width: number };
  detector: { seq_len: number; batch: number; seed: number };
  data: string;
}

export async function runDynamics(dir: string, opts: DynamicsOptions = {}): Promise<DynamicsResult> {
  let series = listCheckpoints(dir);
  if (series.length === 0 && fs.existsSync(path.join(dir, 'config.json'))) {
    series = [{ step: 0, dir, resumable: false, state: null }];
  }
  if (series.length === 0) throw new InputError(`${dir}: no checkpoints found (expected checkpoint-<step>/ directories with config.json, as loupe grow writes)`);
  if (opts.steps) {
    const want = new Set(opts.steps);
    series = series.filter((c) => want.has(c.step));
    if (series.length === 0) throw new InputError(`${dir}: none of the steps ${opts.steps.join(', ')} has a checkpoint`);
  }

  const dataPath = opts.data ?? path.join(dir, HELDOUT_FILE);
  if (!fs.existsSync(dataPath)) {
    throw new InputError(`${dir} has no ${HELDOUT_FILE} (it was not written by loupe grow): pass held-out text with --data FILE`);
  }
  const docs: string[] = [];
  for await (const d of readDocuments(dataPath, { split: opts.split ?? chooseSplit(dataPath, 'auto') })) docs.push(d);

  const record = safeRunRecord(dir);
  const rows: CheckpointDynamics[] = [];
  const encoded = new Map<string, TokenStreamData>(); // by tokenizer.json text
  let positions: DynamicsResult['icl_positions'] | null = null;
  let detector: DynamicsResult['detector'] | null = null;
  for (const [i, ck] of series.entries()) {
    const model = loadHfModel(ck.dir);
    const tokPath = path.join(ck.dir, 'tokenizer.json');
    if (!fs.existsSync(tokPath)) throw new InputError(`${ck.dir}: no tokenizer.json beside the weights`);
    const tokText = fs.readFileSync(tokPath, 'utf8');
    const tokenizer: Tokenizer = parseHfTokenizer(tokText, tokPath);
    let stream = encoded.get(tokText);
    if (!stream) {
      stream = encodeDocuments(tokenizer, docs, separatorIdOf(tokenizer));
      encoded.set(tokText, stream);
    }
    const ctx = model.config.nCtx;
    const lossSet = evalBatches(stream.ids, ctx, 16, opts.lossWindows ?? 32);
    const loss = meanLoss(model, lossSet);
    const textIcl = iclScore(model, stream.ids, opts.icl);
    const repeat = (opts.iclData ?? 'run') === 'run' ? runRepeat(record, tokenizer, model.config.vocabSize) : undefined;
    const icl = repeat ? iclScore(model, stream.ids, { ...opts.icl, repeat, seed: opts.seed }) : textIcl;
    const heads = headScores(model, { seqLen: opts.seqLen, batch: opts.detectorBatch, seed: opts.seed, tokenizer });
    const [indMax, indHead] = argMax(heads.induction);
    const [prevMax, prevHead] = argMax(heads.previousToken);
    const row: CheckpointDynamics = {
      step: ck.step,
      loss,
      induction_max: indMax,
      induction_head: indHead,
      prev_token_max: prevMax,
      prev_token_head: prevHead,
      icl_score: icl.score,
      icl_score_text: textIcl.score,
      induction: heads.induction,
      prev_token: heads.previousToken,
      tokens: ck.state?.tokensSeen ?? null,
    };
    positions ??= { early: icl.early, late: icl.late, half_width: opts.icl?.halfWidth ?? 2 };
    detector ??= { seq_len: heads.seqLen, batch: heads.batch, seed: heads.seed };
    rows.push(row);
    opts.onCheckpoint?.(row, i, series.length);
  }
  return { checkpoints: rows, phase_change: phaseChange(rows), icl_positions: positions!, detector: detector!, data: dataPath };
}

const MIN_INDUCTION_RISE = 0.1;

/** Where induction heads appeared and where in-context learning improved (see PhaseChange). */
export function phaseChange(rows: readonly Pick<CheckpointDynamics, 'step' | 'induction_max' | 'icl_score'>[]): PhaseChange {
  const out: PhaseChange = { induction_step: null, icl_step: null, induction_jump: null, icl_jump: null };
  if (rows.length < 2) return out;
  const ind = rows.map((r) => r.induction_max);
  const icl = rows.map((r) => r.icl_score);
  const peak = Math.max(...ind);
  // A rise of less than 0.1 in attention score is drift, not induction heads forming.
  if (peak - ind[0]! >= MIN_INDUCTION_RISE) {
    const half = ind[0]! + (peak - ind[0]!) / 2;
    out.induction_step = rows.find((r) => r.induction_max >= half)!.step;
  }
  const low = Math.min(...icl);
  if (low < icl[0]!) {
    const half = icl[0]! - (icl[0]! - low) / 2;
    out.icl_step = rows.find((r) => r.icl_score <= half)!.step;
  }
  for (let i = 1; i < rows.length; i++) {
    const di = ind[i]! - ind[i - 1]!;
    if (di > 0 && (!out.induction_jump || di > out.induction_jump.delta)) out.induction_jump = { from_step: rows[i - 1]!.step, to_step: rows[i]!.step, delta: di };
    const dl = icl[i]! - icl[i - 1]!;
    if (dl < 0 && (!out.icl_jump || dl < out.icl_jump.delta)) out.icl_jump = { from_step: rows[i - 1]!.step, to_step: rows[i]!.step, delta: dl };
  }
  return out;
}

function argMax(m: number[][]): [number, string] {
  let best = -Infinity;
  let name = '';
  m.forEach((row, l) =>
    row.forEach((v, h) => {
      if (v > best) {
        best = v;
        name = `L${l}H${h}`;
      }
    }),
  );
  return [best, name];
}

function safeRunRecord(dir: string): RunRecord | null {
  try {
    return readRunRecord(dir);
  } catch {
    return null; // not a run directory of loupe grow: plain checkpoints
  }
}

/** The repeated-segment mix the run trained on, if any. */
function runRepeat(record: RunRecord | null, tokenizer: Tokenizer, vocab: number): RepeatOptions | undefined {
  const d = record?.spec.data;
  if (!d || !(d.repeatFraction > 0)) return undefined;
  return { fraction: d.repeatFraction, minLen: d.repeatMinLen, maxLen: d.repeatMaxLen, firstId: firstOrdinaryId(tokenizer), vocab, separatorId: separatorIdOf(tokenizer) };
}
