// loadModel(path): a llama2.c .bin file, or a Hugging Face directory (config.json + safetensors).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../errors.js';
import type { Transformer } from '../transformer.js';
import { loadHfModel } from './hf.js';
import { loadLlama2cModel } from './llama2c.js';

export { loadLlama2cModel, llama2cModelConfig, llama2cNamedParams } from './llama2c.js';
export { loadHfModel, hfModelConfig, HF_FAMILIES } from './hf.js';

export function loadModel(modelPath: string): Transformer {
  let st: fs.Stats;
  try {
    st = fs.statSync(modelPath);
  } catch {
    throw new InputError(`${modelPath}: no such file or directory (expected a llama2.c .bin file or a Hugging Face checkpoint directory)`, { path: modelPath });
  }
  if (st.isDirectory()) return loadHfModel(modelPath);
  if (path.basename(modelPath) === 'config.json') return loadHfModel(path.dirname(modelPath));
  return loadLlama2cModel(modelPath);
}
