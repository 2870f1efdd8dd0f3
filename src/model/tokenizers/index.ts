// Tokenizers: text <-> token ids, with BOS chosen explicitly on every call.
// - loadTokenizer(path): llama2.c tokenizer .bin or Hugging Face tokenizer.json (BPE), by name then content.
// - Llama2cTokenizer: encodes and decodes exactly as llama2.c's run.c, in O(n log n).
// - HfTokenizer: GPT-2 byte-level and Llama sentencepiece-style BPE, through @huggingface/tokenizers.
// - trainByteLevelBpe: trains a GPT-2-style byte-level tokenizer.json from text.
// - TokenStream: streaming decode of generated tokens, holding back incomplete UTF-8 characters.
export { TokenStream, checkTokenId, type DecodeOptions, type EncodeOptions, type Tokenizer, type TokenizerKind } from './tokenizer.js';
export { Llama2cTokenizer, loadLlama2cTokenizer, parseLlama2cTokenizer, serializeLlama2cTokenizer, type Llama2cTokenizerOptions } from './llama2c.js';
export { HfTokenizer, loadHfTokenizer, parseHfTokenizer, type HfAddedToken, type HfTokenizerJson, type HfTokenizerOptions } from './hf-tokenizer.js';
export { trainByteLevelBpe, type TrainBpeOptions } from './train-bpe.js';
export { loadTokenizer, type LoadTokenizerOptions } from './load.js';
export { GPT2_SPLIT_PATTERN, byteToChar, bytesToByteLevel, byteLevelToBytes, charToByte } from './byte-level.js';
export { mergeByPriority, type MergeRule } from './priority-merge.js';
