// The io layer: checkpoint and data files in, float32 arrays out. No dependency on the tensor engine;
// every reader validates a file against its own header before trusting it, and every writer replaces
// its target atomically.
export {
  type SafetensorsDType,
  type WritableDType,
  type TensorInfo,
  type TensorEntry,
  type TensorSource,
  type SafetensorsFile,
  type TensorToWrite,
  FLOAT32_READABLE,
  MAX_HEADER_BYTES,
  openSafetensors,
  readSafetensors,
  parseSafetensorsHeader,
  writeSafetensors,
  storedByteLength,
} from './safetensors.js';
export {
  type Llama2cConfig,
  type Llama2cWeights,
  type Llama2cCheckpoint,
  readLlama2c,
  readLlama2cConfig,
  writeLlama2c,
  llama2cWeightShapes,
  llama2cByteSize,
  ropeTables,
} from './llama2c.js';
export {
  type HfConfig,
  type HfCheckpoint,
  type HfCheckpointToSave,
  CONFIG_FILE,
  SINGLE_WEIGHTS_FILE,
  INDEX_FILE,
  TOKENIZER_FILE,
  PREVIOUS_SUFFIX,
  readHfConfig,
  openHfCheckpoint,
  saveHfCheckpoint,
} from './hf.js';
export { type ReadDocumentsOptions, readDocuments, streamText } from './text.js';
export { writeFileAtomic } from './files.js';
