#!/usr/bin/env node
// Batched vs one-by-one generation (docs/model.md, "Batched generation"): 8 prompts of different lengths,
// 60 new tokens each, in process on the built dist/. Checks the two give the same ids, then times
// alternating runs and prints the median and the fastest of each.
//   node scripts/bench-generate-batch.mjs [TEMPERATURE=0] [RUNS=15]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
await import(path.join(root, 'dist', 'tensor', 'backend', 'native', 'index.js')); // native matmul, as the CLI
const { loadModel, loadTokenizer, generate, generateBatch } = await import(path.join(root, 'dist', 'model', 'index.js'));

const temperature = Number(process.argv[2] ?? 0);
const runs = Number(process.argv[3] ?? 15);
const dir = path.join(root, '..', 'shared', 'models', 'stories260K');
const model = loadModel(path.join(dir, 'stories260K.bin'));
const tok = await loadTokenizer(path.join(dir, 'tok512.bin'), { vocabSize: model.config.vocabSize });
const texts = [
  'Once upon a time', 'Lily', 'The little dog ran to the park and saw a big red ball.', 'Tom and Sue', 'One day, a cat',
  'The sun was shining and the birds were singing. A little boy named Ben', 'Mom said', 'There was a big tree in the garden',
];
const prompts = texts.map((t) => tok.encode(t, { bos: true }));
const opts = { maxNewTokens: 60, temperature, seed: 1, stopTokens: [] };
const oneByOne = () => prompts.map((p, i) => generate(model, tok, p, { ...opts, seed: 1 + i }));
const batched = () => generateBatch(model, tok, prompts, opts);

const a = oneByOne();
const b = batched();
if (!a.every((r, i) => JSON.stringify(r.ids) === JSON.stringify(b[i].ids))) throw new Error('batched ids differ from one-by-one ids');
for (let w = 0; w < 3; w++) oneByOne(), batched();
const t1 = [];
const t2 = [];
for (let r = 0; r < runs; r++) {
  let s = performance.now();
  oneByOne();
  t1.push(performance.now() - s);
  s = performance.now();
  batched();
  t2.push(performance.now() - s);
}
const median = (x) => x.slice().sort((p, q) => p - q)[x.length >> 1];
const ms = (x) => `median ${median(x).toFixed(1)} ms, fastest ${Math.min(...x).toFixed(1)} ms`;
console.log(`prompt lengths ${prompts.map((p) => p.length).join(', ')}; 60 new tokens each; temperature ${temperature}`);
console.log(`one by one: ${ms(t1)}`);
console.log(`batched:    ${ms(t2)}`);
console.log(`speedup: ${(median(t1) / median(t2)).toFixed(2)}x (medians), ${(Math.min(...t1) / Math.min(...t2)).toFixed(2)}x (fastest)`);
