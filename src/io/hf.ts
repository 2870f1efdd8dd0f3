// Hugging Face checkpoint directories: config.json + model.safetensors, or shards
// model-0000i-of-0000n.safetensors listed by model.safetensors.index.json ({metadata, weight_map}).
// Files only: which architecture the tensors form is the model layer's business.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, InputError, closestNames } from '../errors.js';
import { asInputError, fsyncDirectory, tempSibling, writeFileAtomic, writeAll } from './files.js';
import {
  type SafetensorsFile,
  type TensorInfo,
  type TensorSource,
  type TensorToWrite,
  openSafetensors,
  storedByteLength,
  writeSafetensors,
} from './safetensors.js';

export const CONFIG_FILE = 'config.json';
export const SINGLE_WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILE = 'tokenizer.json';
/** Where an interrupted save leaves the previous checkpoint (see saveHfCheckpoint). */
export const PREVIOUS_SUFFIX = '.loupe-previous';

export interface HfConfig {
  /** The whole parsed config.json. */
  raw: Record<string, unknown>;
  modelType: string | undefined;
  architectures: string[];
}

/** A checkpoint directory opened lazily: one tensor namespace across all shards. */
export interface HfCheckpoint extends TensorSource {
  readonly dir: string;
  readonly config: HfConfig;
  /** The weight files in use (absolute paths): one, or every shard. */
  readonly weightFiles: string[];
  /** tokenizer.json beside the weights, if there is one. */
  readonly tokenizerPath: string | undefined;
  /** The weight file a tensor lives in. */
  fileOf(name: string): string;
}

/** Read and validate config.json: a JSON object naming model_type and/or architectures. */
export function readHfConfig(dir: string): HfConfig {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw missingCheckpointError(dir, err, file);
  }
  const raw = parseJsonObject(text, file);
  const modelType = raw.model_type;
  const architectures = raw.architectures;
  if (modelType !== undefined && typeof modelType !== 'string') {
    throw new FormatError(file, `"model_type" must be a string, found ${JSON.stringify(modelType)}`);
  }
  if (architectures !== undefined && !(Array.isArray(architectures) && architectures.every((a) => typeof a === 'string'))) {
    throw new FormatError(file, `"architectures" must be an array of strings, found ${JSON.stringify(architectures)}`);
  }
  if (modelType === undefined && (architectures === undefined || architectures.length === 0)) {
    throw new FormatError(file, 'expected "model_type" (a string) or "architectures" (an array of strings), found neither');
  }
  return { raw, modelType, architectures: (architectures as string[] | undefined) ?? [] };
}

/**
 * Open a checkpoint directory. Every weight file's header is validated now; with an index, every shard
 * must exist and hold every tensor the index assigns to it. Tensors are read on demand.
 */
export function openHfCheckpoint(dir: string): HfCheckpoint {
  const config = readHfConfig(dir);
  const single = path.join(dir, SINGLE_WEIGHTS_FILE);
  const index = path.join(dir, INDEX_FILE);
  const tokenizer = path.join(dir, TOKENIZER_FILE);
  const tokenizerPath = fs.existsSync(tokenizer) ? tokenizer : undefined;
  // Like transformers: a single model.safetensors wins over an index.
  if (fs.existsSync(single)) {
    const st = openSafetensors(single);
    const location = new Map(st.names().map((n) => [n, st]));
    return new HfCheckpointReader(dir, config, [st], location, tokenizerPath);
  }
  if (!fs.existsSync(index)) {
    const present = fs.readdirSync(dir).filter((f) => /\.(bin|pt|pth|ckpt|h5|msgpack|gguf)$/.test(f));
    const hint = present.length ? `; found ${present.join(', ')}, which Loupe does not read (convert to safetensors)` : '';
    throw new FormatError(dir, `no ${SINGLE_WEIGHTS_FILE} or ${INDEX_FILE}${hint}`);
  }
  const weightMap = readWeightMap(index);
  const shardNames = [...new Set(weightMap.values())];
  const missing = shardNames.filter((s) => !fs.existsSync(path.join(dir, s)));
  if (missing.length) {
    throw new FormatError(index, `shard file(s) missing from ${dir}: ${missing.join(', ')}`);
  }
  const shards = new Map<string, SafetensorsFile>();
  try {
    for (const s of shardNames) shards.set(s, openSafetensors(path.join(dir, s)));
    const location = new Map<string, SafetensorsFile>();
    for (const [name, shard] of weightMap) {
      const st = shards.get(shard)!;
      if (!st.has(name)) throw new FormatError(index, `tensor "${name}" is mapped to ${shard}, which does not contain it`);
      location.set(name, st);
    }
    return new HfCheckpointReader(dir, config, [...shards.values()], location, tokenizerPath);
  } catch (err) {
    for (const st of shards.values()) st.close();
    throw err;
  }
}

function readWeightMap(index: string): Map<string, string> {
  const parsed = parseJsonObject(fs.readFileSync(index, 'utf8'), index);
  const map = parsed.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new FormatError(index, `expected "weight_map": {tensor name: shard file}, found ${JSON.stringify(map)}`);
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      throw new FormatError(index, `weight_map["${name}"] must be a file name in the checkpoint directory, found ${JSON.stringify(shard)}`);
    }
    out.set(name, shard);
  }
  if (out.size === 0) throw new FormatError(index, 'weight_map lists no tensors');
  return out;
}

class HfCheckpointReader implements HfCheckpoint {
  readonly weightFiles: string[];
  constructor(
    readonly dir: string,
    readonly config: HfConfig,
    private readonly files: SafetensorsFile[],
    private readonly location: Map<string, SafetensorsFile>,
    readonly tokenizerPath: string | undefined,
  ) {
    this.weightFiles = files.map((f) => f.path);
  }

  names(): string[] {
    return [...this.location.keys()];
  }
  has(name: string): boolean {
    return this.location.has(name);
  }
  info(name: string): TensorInfo {
    return this.source(name).info(name);
  }
  readFloat32(name: string): Float32Array {
    return this.source(name).readFloat32(name);
  }
  readBytes(name: string): Uint8Array {
    return this.source(name).readBytes(name);
  }
  fileOf(name: string): string {
    return this.source(name).path;
  }
  close(): void {
    for (const f of this.files) f.close();
  }

  private source(name: string): SafetensorsFile {
    const st = this.location.get(name);
    if (!st) {
      const near = closestNames(name, this.location.keys());
      throw new InputError(`${this.dir}: no tensor named "${name}"${near.length ? ` (closest: ${near.join(', ')})` : ''}`, {
        path: this.dir,
        name,
      });
    }
    return st;
  }
}

// ---------------------------------------------------------------------------------------------- writer

export interface HfCheckpointToSave {
  /** Written as config.json; must name model_type and/or architectures. */
  config: Record<string, unknown>;
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>;
  /** Split into shards of at most this many bytes of tensor data (a larger tensor gets a shard alone). */
  maxShardBytes?: number;
  /** Extra safetensors metadata; `format: "pt"` is always included, as transformers expects. */
  metadata?: Record<string, string>;
  /** Other files to include, e.g. {"tokenizer.json": text}. */
  extraFiles?: Record<string, string | Uint8Array>;
}

/**
 * Save a checkpoint directory. Everything is written into a temp directory beside `dir`, flushed, then
 * swapped in by rename: `dir` moves to `dir.loupe-previous`, the new one takes its name, and the previous
 * one is deleted. A crash at any point leaves a complete checkpoint, at `dir` or (for the instant between
 * the two renames) at `dir.loupe-previous`, which openHfCheckpoint points to. The whole directory is
 * replaced: files not written by this call (old shards, a tokenizer) do not carry over; pass them in
 * extraFiles. An existing `dir` must be a checkpoint (have config.json) or empty.
 */
export function saveHfCheckpoint(dir: string, ckpt: HfCheckpointToSave): void {
  const target = path.resolve(dir);
  const configFile = path.join(target, CONFIG_FILE);
  // Validate the config the way the reader will, before touching the disk.
  const configText = JSON.stringify(ckpt.config, null, 2) + '\n';
  const mt = ckpt.config?.model_type;
  const arch = ckpt.config?.architectures;
  if (typeof mt !== 'string' && !(Array.isArray(arch) && arch.length > 0 && arch.every((a) => typeof a === 'string'))) {
    throw new InputError(`${configFile}: config needs "model_type" (a string) or "architectures" (an array of strings)`);
  }
  const maxShard = ckpt.maxShardBytes ?? Infinity;
  if (!(maxShard > 0)) throw new InputError(`${target}: maxShardBytes must be positive, got ${ckpt.maxShardBytes}`);
  const extra = Object.entries(ckpt.extraFiles ?? {});
  for (const [name] of extra) {
    if (!isPlainFileName(name) || name === CONFIG_FILE || name === INDEX_FILE || name.endsWith('.safetensors')) {
      throw new InputError(`${target}: extra file name ${JSON.stringify(name)} must be a plain file name not used by the checkpoint itself`);
    }
  }
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new InputError(`${target}: exists and is not a directory`);
    if (!fs.existsSync(configFile) && fs.readdirSync(target).length > 0) {
      throw new InputError(`${target}: refusing to replace a non-empty directory that is not a checkpoint (no ${CONFIG_FILE})`);
    }
  }

  const entries = ckpt.tensors instanceof Map ? [...ckpt.tensors.entries()] : Object.entries(ckpt.tensors);
  const shards: [string, TensorToWrite][][] = [[]];
  let shardBytes = 0;
  for (const [name, t] of entries) {
    const bytes = storedByteLength(t);
    if (shards[shards.length - 1].length > 0 && shardBytes + bytes > maxShard) {
      shards.push([]);
      shardBytes = 0;
    }
    shards[shards.length - 1].push([name, t]);
    shardBytes += bytes;
  }
  const metadata = { format: 'pt', ...ckpt.metadata };

  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target, 'saving');
  fs.mkdirSync(tmp);
  try {
    const writeText = (name: string, content: string | Uint8Array): void =>
      writeFileAtomic(path.join(tmp, name), (fd) => writeAll(fd, typeof content === 'string' ? new TextEncoder().encode(content) : content));
    writeText(CONFIG_FILE, configText);
    if (shards.length === 1) {
      writeSafetensors(path.join(tmp, SINGLE_WEIGHTS_FILE), new Map(shards[0]), metadata);
    } else {
      const n = shards.length;
      const weightMap: Record<string, string> = {};
      let totalSize = 0;
      shards.forEach((shard, i) => {
        const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
        writeSafetensors(path.join(tmp, name), new Map(shard), metadata);
        for (const [tensor, t] of shard) {
          weightMap[tensor] = name;
          totalSize += storedByteLength(t);
        }
      });
      const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
      writeText(INDEX_FILE, JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2) + '\n');
    }
    for (const [name, content] of extra) writeText(name, content);
    fsyncDirectory(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw asInputError(err, target);
  }
  swapIn(tmp, target);
}

/** Replace `target` by the finished directory `tmp` with renames only. */
function swapIn(tmp: string, target: string): void {
  const previous = target + PREVIOUS_SUFFIX;
  const hadTarget = fs.existsSync(target);
  try {
    if (hadTarget) {
      fs.rmSync(previous, { recursive: true, force: true }); // stale: `target` is newer
      fs.renameSync(target, previous);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    if (hadTarget && !fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw asInputError(err, target);
  }
  fsyncDirectory(path.dirname(target));
  fs.rmSync(previous, { recursive: true, force: true });
}

function missingCheckpointError(dir: string, err: unknown, file: string): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    if (!fs.existsSync(dir) && fs.existsSync(dir + PREVIOUS_SUFFIX)) {
      return new InputError(
        `${dir}: not found, but ${dir + PREVIOUS_SUFFIX} exists: a save was interrupted and left the previous checkpoint there; rename it back to use it`,
        { path: dir },
      );
    }
    if (!fs.existsSync(dir)) return new InputError(`${dir}: no such checkpoint directory`, { path: dir });
    return new FormatError(dir, `not a Hugging Face checkpoint: no ${CONFIG_FILE}`);
  }
  return asInputError(err, file);
}

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FormatError(file, `expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}
