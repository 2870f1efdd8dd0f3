// Checkpoints of a training run: OUT/checkpoint-<step>/ in Hugging Face layout (config.json,
// model.safetensors, tokenizer.json) so every command loads them like any checkpoint, plus what a resume
// needs: optimizer.safetensors (AdamW moments, PyTorch's exp_avg / exp_avg_sq names) and
// trainer_state.json. The model part is written atomically by saveModel; trainer_state.json is written
// last and marks the checkpoint complete. Any failure (a full disk included) removes the partial
// checkpoint, so the previous complete one stays the latest.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError, LoupeError } from '../errors.js';
import { writeAll } from '../io/files.js';
import { readSafetensors, writeFileAtomic, writeSafetensors, type TensorToWrite } from '../io/index.js';
import { saveModel, type Transformer } from '../model/index.js';
import type { Adam } from '../tensor/index.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const PREFIX = 'checkpoint-';

export interface TrainerState {
  /** Optimizer steps completed when this checkpoint was taken. */
  step: number;
  /** Training tokens consumed so far. */
  tokensSeen: number;
  /** Training wall time so far, seconds (summed over resumed sessions). */
  elapsedS: number;
  /** Smoothed training loss at this step (null before the first step). */
  trainLoss: number | null;
  /** Mean loss on the held-out windows (null when no held-out data was evaluated). */
  evalLoss: number | null;
  /** Learning rate used for the last step. */
  lr: number;
}

export interface CheckpointInfo {
  step: number;
  dir: string;
  /** Has trainer state and optimizer moments: a run can continue from here. */
  resumable: boolean;
  state: TrainerState | null;
}

/** The out-of-disk errors a write can raise (ENOSPC: device full, EDQUOT: quota). */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Raised when a checkpoint could not be written; the message names the checkpoint that is still intact. */
export class CheckpointWriteError extends LoupeError {
  constructor(message: string, details: Record<string, unknown>) {
    super('checkpoint_write_failed', message, details);
  }
}

export interface SaveCheckpointInput {
  model: Transformer;
  optimizer: Adam;
  /** Parameter names, in the optimizer's parameter order. */
  paramNames: readonly string[];
  state: TrainerState;
  tokenizerJson: string;
}

/** Replaceable file operations, so tests can simulate a full disk at any point. */
export interface CheckpointIo {
  saveModel(model: Transformer, dir: string, extraFiles: Record<string, string>): void;
  writeOptimizer(file: string, tensors: Map<string, TensorToWrite>): void;
  writeText(file: string, text: string): void;
}

export const defaultCheckpointIo: CheckpointIo = {
  saveModel: (model, dir, extraFiles) => saveModel(model, dir, { extraFiles }),
  writeOptimizer: (file, tensors) => writeSafetensors(file, tensors, { format: 'loupe-adamw' }),
  writeText: (file, text) => writeFileAtomic(file, (fd) => writeAll(fd, new TextEncoder().encode(text))),
};

export class CheckpointStore {
  readonly dir: string;
  private readonly io: CheckpointIo;

  constructor(dir: string, io: CheckpointIo = defaultCheckpointIo) {
    this.dir = dir;
    this.io = io;
  }

  static dirName(step: number): string {
    return `${PREFIX}${step}`;
  }

  /** Every checkpoint directory, by step (incomplete ones, with no config.json, are skipped). */
  list(): CheckpointInfo[] {
    return listCheckpoints(this.dir);
  }

  latestResumable(): CheckpointInfo | null {
    const all = this.list().filter((c) => c.resumable);
    return all.length ? all[all.length - 1]! : null;
  }

  /**
   * Write checkpoint-<step>. With keepOptimizerOf, optimizer moments of older checkpoints are deleted once
   * this one is complete (they are only needed to resume from the latest): `keepOptimizerOf` = how many of
   * the newest checkpoints keep theirs.
   */
  save(input: SaveCheckpointInput, keepOptimizerOf = 1): string {
    const { model, optimizer, paramNames, state } = input;
    const dir = path.join(this.dir, CheckpointStore.dirName(state.step));
    const previous = this.list().filter((c) => c.step !== state.step && c.state !== null);
    try {
      this.io.saveModel(model, dir, { 'tokenizer.json': input.tokenizerJson });
      this.io.writeOptimizer(path.join(dir, OPTIMIZER_FILE), optimizerTensors(optimizer, paramNames));
      this.io.writeText(path.join(dir, TRAINER_STATE_FILE), JSON.stringify({ ...state, adamStep: optimizer.state.step }, null, 2) + '\n');
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      for (const leftover of fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : []) {
        // saveHfCheckpoint's temp directories, should a failure have left one behind.
        if (leftover.startsWith(`${CheckpointStore.dirName(state.step)}.`) && leftover.includes('saving')) {
          fs.rmSync(path.join(this.dir, leftover), { recursive: true, force: true });
        }
      }
      const last = previous.length ? previous[previous.length - 1]!.dir : null;
      const intact = last ? `the last complete checkpoint, ${last}, is intact` : 'no earlier checkpoint exists';
      const why = isOutOfSpace(err) ? 'out of disk space' : err instanceof Error ? err.message : String(err);
      throw new CheckpointWriteError(`could not write the checkpoint for step ${state.step} to ${dir}: ${why}; ${intact}`, {
        step: state.step,
        dir,
        lastComplete: last,
        outOfSpace: isOutOfSpace(err),
      });
    }
    if (keepOptimizerOf > 0) {
      const older = this.list().filter((c) => c.step < state.step);
      for (const c of older.slice(0, Math.max(0, older.length - (keepOptimizerOf - 1)))) {
        fs.rmSync(path.join(c.dir, OPTIMIZER_FILE), { force: true });
      }
    }
    return dir;
  }

  /** Restore AdamW moments and step count from a checkpoint into `optimizer`. */
  loadOptimizer(info: CheckpointInfo, optimizer: Adam, paramNames: readonly string[]): void {
    const file = path.join(info.dir, OPTIMIZER_FILE);
    if (!fs.existsSync(file)) throw new InputError(`${info.dir}: no ${OPTIMIZER_FILE}; this checkpoint cannot be resumed from`);
    const { tensors } = readSafetensors(file);
    paramNames.forEach((name, i) => {
      const m = tensors.get(`exp_avg.${name}`);
      const v = tensors.get(`exp_avg_sq.${name}`);
      const size = optimizer.params[i]!.size;
      if (!m || !v) throw new FormatError(file, `has no moments for parameter "${name}": it belongs to a different model`);
      if (m.data.length !== size || v.data.length !== size) {
        throw new FormatError(file, `moments of "${name}" hold ${m.data.length} values, the model's parameter has ${size}: it belongs to a different model`);
      }
      optimizer.state.m[i]!.set(m.data);
      optimizer.state.v[i]!.set(v.data);
    });
    const extra = tensors.size - 2 * paramNames.length;
    if (extra !== 0) throw new FormatError(file, `holds moments for ${tensors.size / 2} parameters, the model has ${paramNames.length}: it belongs to a different model`);
    const raw = readTrainerStateRaw(info.dir);
    optimizer.state.step = typeof raw?.adamStep === 'number' ? raw.adamStep : info.step;
  }
}

/** Checkpoints under `dir` (checkpoint-<step> directories holding config.json), sorted by step. */
export function listCheckpoints(dir: string): CheckpointInfo[] {
  if (!fs.existsSync(dir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    if (!m) continue;
    const full = path.join(dir, name);
    if (!fs.statSync(full).isDirectory() || !fs.existsSync(path.join(full, 'config.json'))) continue;
    const state = readTrainerState(full);
    out.push({ step: Number(m[1]), dir: full, state, resumable: state !== null && fs.existsSync(path.join(full, OPTIMIZER_FILE)) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** trainer_state.json of a checkpoint, or null when it has none (or an unreadable one). */
export function readTrainerState(dir: string): TrainerState | null {
  const raw = readTrainerStateRaw(dir);
  if (!raw || typeof raw.step !== 'number') return null;
  return {
    step: raw.step,
    tokensSeen: num(raw.tokensSeen) ?? 0,
    elapsedS: num(raw.elapsedS) ?? 0,
    trainLoss: num(raw.trainLoss),
    evalLoss: num(raw.evalLoss),
    lr: num(raw.lr) ?? 0,
  };
}

function readTrainerStateRaw(dir: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, TRAINER_STATE_FILE), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function optimizerTensors(optimizer: Adam, names: readonly string[]): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  optimizer.params.forEach((p, i) => {
    out.set(`exp_avg.${names[i]}`, { dtype: 'F32', shape: p.shape, data: optimizer.state.m[i]! });
    out.set(`exp_avg_sq.${names[i]}`, { dtype: 'F32', shape: p.shape, data: optimizer.state.v[i]! });
  });
  return out;
}
