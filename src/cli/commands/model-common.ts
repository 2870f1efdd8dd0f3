// Shared by the model commands (generate, logits, loss, heads): loading a model and its tokenizer from
// flags, and parsing id lists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../errors.js';
import '../../tensor/backend/native/index.js'; // native matmul kernels where onnxruntime loads
import { loadModel, type Transformer } from '../../model/index.js';
import { loadTokenizer, type Tokenizer } from '../../model/tokenizers/index.js';

/** The model at `modelPath` and, when one is given or sits beside an HF checkpoint, its tokenizer. */
export async function loadModelAndTokenizer(modelPath: string, tokenizerPath: string | undefined, required: boolean): Promise<{ model: Transformer; tokenizer: Tokenizer | null }> {
  const model = loadModel(modelPath);
  let tokPath = tokenizerPath;
  if (tokPath === undefined && fs.existsSync(path.join(modelPath, 'tokenizer.json'))) tokPath = path.join(modelPath, 'tokenizer.json');
  if (tokPath === undefined) {
    if (required) throw new InputError('--tokenizer is required for this model (a llama2.c tokenizer .bin or a tokenizer.json)');
    return { model, tokenizer: null };
  }
  const tokenizer = await loadTokenizer(tokPath, { vocabSize: model.config.vocabSize });
  return { model, tokenizer };
}

/** "1,317,269" -> [1, 317, 269]. */
export function parseIds(text: string, flag = '--ids'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new InputError(`${flag} needs at least one token id, e.g. ${flag} 1,317,269`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`${flag}: "${p}" is not a token id (a non-negative integer)`);
    return n;
  });
}
