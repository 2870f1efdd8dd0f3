// Loupe's own HF-style layout, for models no HF family expresses (attention-only organisms, learned
// positions on a Llama, ...): config.json {model_type: "loupe", loupe_config: ModelConfig} and tensors
// under the common parameter names (params.ts). Same directory structure, same safetensors.
import { FormatError } from '../../errors.js';
import { configFromJson } from '../config.js';
import { parameterShapes } from '../params.js';
import type { ExportedTensor, HfFamily } from './hf-family.js';

export const loupeFamily: HfFamily = {
  modelTypes: ['loupe'],
  architectures: ['LoupeTransformer'],
  ignore: null,

  config(raw, where) {
    const c = raw.loupe_config;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new FormatError(where, 'model_type "loupe" needs a "loupe_config" object');
    return configFromJson(c as Record<string, unknown>);
  },

  load(reader, c) {
    const named = new Map<string, Float32Array>();
    for (const [name, shape] of parameterShapes(c)) named.set(name, reader.read(name, shape));
    return named;
  },

  canSave() {
    return true;
  },

  save(c, named) {
    const tensors = new Map<string, ExportedTensor>();
    for (const [name, shape] of parameterShapes(c)) tensors.set(name, { shape, data: named.get(name)! });
    return { config: { architectures: ['LoupeTransformer'], model_type: 'loupe', loupe_config: c }, tensors };
  },
};
