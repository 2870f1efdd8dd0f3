// The two-hop model organism, end to end (docs/circuits.md): write the corpus (two-hop.ts), train its
// tokenizer, grow a small Llama-style model on it with grow(), measure its accuracy on fresh questions,
// train transcoders for every layer, trace one question (graph JSON), and test the graph's story by
// intervention: swap the intermediate city's features for another city's and see whether the answer moves
// to that city's country (two-hop-swap.ts). Every stage is skipped when its output is already there, so
// an interrupted run continues where it stopped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attribute } from '../attribute.js';
import { writeGraphJson } from '../graph-json.js';
import { promptTokens } from '../prompt.js';
import { trainTranscoders } from '../train.js';
import { TranscoderSet, type LayerQuality } from '../transcoder-set.js';
import { InputError, type LoupeError } from '../../errors.js';
import { grow, listCheckpoints, type GrowProgress } from '../../grow/index.js';
import { loadModel, type Transformer } from '../../model/index.js';
import { parseHfTokenizer, trainByteLevelBpe, type Tokenizer } from '../../model/tokenizers/index.js';
import * as T from '../../tensor/index.js';
import { Rng } from '../../tensor/index.js';
import { twoHopCorpus, twoHopQuestion } from './two-hop.js';
import { cityFeatureSwap, type SwapReport } from './two-hop-swap.js';

export interface TwoHopOptions {
  out: string;
  seed?: number;
  documents?: number;
  steps?: number;
  layers?: number;
  dModel?: number;
  heads?: number;
  ctx?: number;
  lr?: number;
  batch?: number;
  /** Share of sequences that are repeated random segments (induction-head food; default 0.5). */
  repeatFraction?: number;
  kind?: 'per-layer' | 'clt';
  latents?: number;
  k?: number;
  transcoderTokens?: number;
  /** Fresh questions for the accuracy and the swap test (per city for the swap). */
  evalQuestions?: number;
  onMessage?: (m: string) => void;
  onGrow?: (p: GrowProgress) => void;
  onTranscoders?: (p: { tokens: number; totalTokens: number }) => void;
  signal?: AbortSignal;
}

export interface TwoHopReport {
  out: string;
  model: string;
  accuracy: number;
  mean_answer_prob: number;
  questions: number;
  transcoders: string;
  quality: LayerQuality[];
  trace: { prompt: string; answer: string; graph: string; nodes: number; edges: number; replacement_score: number; completeness_score: number; top_logit: string };
  swap: SwapReport;
  seconds: number;
}

export const TWO_HOP_DEFAULTS = { repeatFraction: 0.5, seed: 0, documents: 30000, steps: 3000, layers: 3, dModel: 64, heads: 4, ctx: 64, lr: 3e-3, batch: 32, kind: 'per-layer' as const, latents: 256, k: 8, transcoderTokens: 300_000, evalQuestions: 96 };

export async function runTwoHop(opts: TwoHopOptions): Promise<TwoHopReport> {
  const o = { ...TWO_HOP_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof TWO_HOP_DEFAULTS & TwoHopOptions;
  const say = o.onMessage ?? (() => {});
  const t0 = performance.now();
  fs.mkdirSync(o.out, { recursive: true });

  // 1. Corpus and tokenizer.
  const corpus = path.join(o.out, 'corpus.jsonl');
  if (!fs.existsSync(corpus)) {
    const docs = twoHopCorpus(o.documents, o.seed);
    fs.writeFileSync(corpus, docs.map((text) => JSON.stringify({ text }) + '\n').join(''));
    say(`wrote ${docs.length} documents to ${corpus}`);
  }
  const tokFile = path.join(o.out, 'tokenizer.json');
  if (!fs.existsSync(tokFile)) {
    const docs = fs.readFileSync(corpus, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
    fs.writeFileSync(tokFile, JSON.stringify(await wholeWordTokenizer(docs)));
  }
  const tokenizer = parseHfTokenizer(fs.readFileSync(tokFile, 'utf8'), tokFile);

  // 2. Grow the model (resumed when a run is there but unfinished).
  const runDir = path.join(o.out, 'model');
  let last = listCheckpoints(runDir).at(-1);
  if (!last || last.step < o.steps) {
    const resume = fs.existsSync(path.join(runDir, 'run.json'));
    const r = await grow({
      out: runDir,
      resume,
      spec: {
        model: { arch: 'llama', layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: tokenizer.vocabSize, dMlp: 4 * o.dModel },
        train: { steps: o.steps, batch: o.batch, lr: o.lr, warmupSteps: 100, decay: 'cosine', weightDecay: 0.05, gradClip: 1, seed: o.seed },
        // Random token segments repeated to fill the context (half the sequences) grow induction
        // heads early; the first hop is the lookup they do.
        data: { path: corpus, tokenizer: tokFile, valFraction: 0.02, repeatFraction: o.repeatFraction, repeatMinLen: 4, repeatMaxLen: 15 },
        checkpoints: { every: Math.max(100, Math.floor(o.steps / 4)), at: [], evalBatches: 4, logEvery: 25 },
      },
      onProgress: o.onGrow,
      onMessage: say,
      signal: o.signal,
    });
    if (r.interrupted) throw new InputError(`interrupted at step ${r.steps}; run the command again to continue`);
    last = listCheckpoints(runDir).at(-1);
  }
  if (!last) throw new InputError(`${runDir}: growing left no checkpoint`);
  const model = loadModel(last.dir);

  // 3. Accuracy on fresh questions.
  const rng = new Rng(o.seed + 1);
  const qs = Array.from({ length: o.evalQuestions }, () => twoHopQuestion(rng));
  let correct = 0;
  let prob = 0;
  for (const q of qs) {
    const p = answerProbs(model, tokenizer, q.prompt);
    const want = answerId(tokenizer, q.answer);
    correct += p.top === want ? 1 : 0;
    prob += p.probs[want]!;
  }
  const accuracy = correct / qs.length;
  say(`accuracy on ${qs.length} fresh questions: ${(100 * accuracy).toFixed(1)}% (mean probability of the answer ${(prob / qs.length).toFixed(3)})`);

  // 4. Transcoders.
  const tcDir = path.join(o.out, 'transcoders');
  if (!fs.existsSync(path.join(tcDir, 'transcoders.json'))) {
    fs.rmSync(tcDir, { recursive: true, force: true });
    await trainTranscoders({
      model,
      tokenizer,
      data: { path: corpus },
      kind: o.kind,
      arch: 'topk',
      latents: o.latents,
      k: o.k,
      tokens: o.transcoderTokens,
      batchSize: 512,
      contextSize: o.ctx,
      out: tcDir,
      evalTokens: 4096,
      seed: o.seed,
      lr: 4e-3,
      onProgress: o.onTranscoders,
    });
  }
  const set = TranscoderSet.load(tcDir);

  // 5. Trace one question.
  const traceQ = twoHopQuestion(new Rng(o.seed + 2), { facts: 3 });
  const ids = tokenizer.encode(traceQ.prompt, { bos: true });
  const g = attribute(model, set, ids, {});
  const graphFile = path.join(o.out, 'graph.json');
  const written = writeGraphJson(g, graphFile, {
    prompt: traceQ.prompt,
    promptTokens: promptTokens(tokenizer, ids),
    tokenString: (id) => tokenizer.decodeToken(id, ids[ids.length - 1]),
    slug: 'two-hop',
    scan: 'two-hop',
  });

  // 6. The swap test.
  const swap = cityFeatureSwap(model, tokenizer, set, { seed: o.seed + 3, perCity: Math.max(2, Math.round(o.evalQuestions / 24)) });
  const report: TwoHopReport = {
    out: o.out,
    model: last.dir,
    accuracy,
    mean_answer_prob: prob / qs.length,
    questions: qs.length,
    transcoders: tcDir,
    quality: set.info.quality ?? [],
    trace: {
      prompt: traceQ.prompt,
      answer: traceQ.answer,
      graph: graphFile,
      nodes: written.nodes,
      edges: written.links,
      replacement_score: g.replacementScore,
      completeness_score: g.completenessScore,
      top_logit: tokenizer.decodeToken(g.logitTokens[0]!, ids[ids.length - 1]),
    },
    swap,
    seconds: (performance.now() - t0) / 1000,
  };
  fs.writeFileSync(path.join(o.out, 'two-hop.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Last-position next-token probabilities of a prompt (BOS first). */
export function answerProbs(model: Transformer, tokenizer: Tokenizer, prompt: string): { top: number; probs: Float64Array } {
  const ids = tokenizer.encode(prompt, { bos: true });
  const V = model.config.vocabSize;
  const l = T.noGrad(() => model.run([ids], { lastLogitsOnly: true })).logits!.data.subarray(0, V);
  let m = -Infinity;
  let top = 0;
  for (let i = 0; i < V; i++) if (l[i]! > m) (m = l[i]!), (top = i);
  const probs = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) z += probs[i] = Math.exp(l[i]! - m);
  for (let i = 0; i < V; i++) probs[i] = probs[i]! / z;
  return { top, probs };
}

/** The single token of an answer such as " france" (the organism's tokenizer makes every word one token). */
export function answerId(tokenizer: Tokenizer, answer: string): number {
  const ids = tokenizer.encode(answer, { bos: false });
  if (ids.length !== 1) throw new InputError(`"${answer}" is ${ids.length} tokens under this tokenizer; the organism needs one`);
  return ids[0]!;
}

/**
 * A byte-level BPE tokenizer as large as the corpus supports, so that every word of the world (names,
 * cities, countries) is a single token.
 */
async function wholeWordTokenizer(docs: readonly string[]): ReturnType<typeof trainByteLevelBpe> {
  try {
    return await trainByteLevelBpe(docs, { vocabSize: 4096, specialTokens: ['<|endoftext|>'] });
  } catch (err) {
    const supported = (err as LoupeError).details?.supportedVocabSize;
    if (typeof supported !== 'number') throw err;
    return trainByteLevelBpe(docs, { vocabSize: supported, specialTokens: ['<|endoftext|>'] });
  }
}

