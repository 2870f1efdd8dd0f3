// `loupe steer`: paired steered / unsteered generation with a dictionary feature or a contrastive vector
// (see docs/steering.md). A few lines over src/steering: build the directions, call steer or steerSweep,
// print. Defaults come from STEER_DEFAULTS (measured, docs/steering.md).
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import { InputError } from '../../errors.js';
import { loadSae } from '../../sae/format.js';
import {
  CONTRAST_AGGREGATES,
  contrastiveDirection,
  contrastiveVector,
  featureDirection,
  promoteDirection,
  POSITION_SELECTIONS,
  STEER_DEFAULTS,
  STEERING_MODES,
  steer,
  steerReport,
  steerSweep,
  sweepReport,
  vectorDirection,
  type ContrastAggregate,
  type Intervention,
  type PositionSelection,
  type SteeringDirection,
  type SteeringMode,
  type SteerResult,
  type SweepResult,
} from '../../steering/index.js';
import { parseFloatOption, parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface SteerFlags {
  model: string;
  tokenizer?: string;
  prompt: string;
  sae?: string;
  feature?: string;
  vectorFrom?: string[];
  vector?: string;
  promote?: string;
  hook?: string;
  aggregate: ContrastAggregate;
  mode: SteeringMode;
  strength?: number;
  value?: number;
  sweep?: string;
  positions: PositionSelection;
  steerBos?: boolean;
  maxNewTokens: number;
  samples: number;
  seed: number;
  temperature: number;
  topK?: number;
  topP?: number;
  concept?: string;
  bos: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('steer')
    .description('Generate with and without steering (same seeds): add / clamp / cap / ablate a dictionary feature or a contrastive vector; reports fluency cost and concept rates')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json (default: tokenizer.json beside an HF checkpoint)')
    .requiredOption('--prompt <text>', 'prompt (BOS prepended unless --no-bos)')
    .option('--sae <dir>', 'dictionary (SAELens layout) whose --feature to steer, at its own hook')
    .option('--feature <list>', 'feature index, or several: 12,40')
    .option('--vector-from <prompts...>', 'contrastive vector from prompt pairs: "POSITIVE" "NEGATIVE" [...more pairs], at --hook')
    .option('--vector <file>', 'a raw vector at --hook: JSON array of d_model numbers')
    .option('--promote <word>', 'the residual direction that raises WORD\'s logits and moves other tokens least (default hook: the last block\'s output); measured best on stories260K')
    .option('--hook <name>', 'hook point for --vector-from / --vector (required) or --promote (optional), e.g. blocks.2.hook_resid_post')
    .addOption(new Option('--aggregate <how>', 'contrastive vectors: mean over positions, last position, or aligned per position').choices(CONTRAST_AGGREGATES).default(STEER_DEFAULTS.aggregate))
    .addOption(new Option('--mode <mode>', 'add: h += s * d; clamp: pin the value at --value; cap: at most --value; ablate: value 0').choices(STEERING_MODES).default(STEER_DEFAULTS.mode))
    .option('--strength <s>', `add: strength in activation units along W_dec[f] / the unit promote direction, or times a vector (defaults: feature ${STEER_DEFAULTS.strengthFor.feature}, vector ${STEER_DEFAULTS.strengthFor.vector}, promote ${STEER_DEFAULTS.strengthFor.promote})`, parseFloatOption('strength'))
    .option('--value <v>', `clamp / cap: target value (defaults: feature ${STEER_DEFAULTS.valueFor.feature}, vector / promote projection ${STEER_DEFAULTS.valueFor.vector})`, parseFloatOption('value'))
    .option('--sweep <list>', 'run one steered side per strength (add) or value (clamp, cap), e.g. 2,4,8')
    .addOption(new Option('--positions <which>', 'steer every position, the prompt only, or generated tokens only').choices(POSITION_SELECTIONS).default(STEER_DEFAULTS.positions))
    .option('--steer-bos', 'steer the BOS position too (default: left alone)')
    .option('--max-new-tokens <n>', 'tokens per sample', parseIntOption('max-new-tokens', 1), STEER_DEFAULTS.maxNewTokens)
    .option('--samples <n>', 'paired samples (seeds seed .. seed+n-1)', parseIntOption('samples', 1, 10000), STEER_DEFAULTS.samples)
    .option('--seed <n>', 'first sampler seed', parseIntOption('seed', 0), 0)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', parseFloatOption('temperature', 0), STEER_DEFAULTS.temperature)
    .option('--top-k <k>', 'sample from the k most likely tokens', parseIntOption('top-k', 1))
    .option('--top-p <p>', 'nucleus sampling', parseFloatOption('top-p', 0, 1))
    .option('--concept <regex>', 'a word (whole-word, any case) or regular expression; reports the share of samples matching it')
    .option('--no-bos', 'do not prepend BOS to the prompt')
    .option('--json', 'one JSON line: {baseline, steered, baseline_loss, steered_loss, baseline_rate, steered_rate, feature_values, ...}')
    .action(async (f: SteerFlags) => {
      let sources = [f.sae !== undefined || f.feature !== undefined, f.vectorFrom !== undefined, f.vector !== undefined, f.promote !== undefined].filter(Boolean).length;
      // Nothing named but a plain-word concept: steer toward it with its promote direction (the measured best).
      if (sources === 0 && f.concept !== undefined && /^[\p{L}\p{N}]+$/u.test(f.concept.trim())) {
        f.promote = f.concept.trim();
        sources = 1;
      }
      if (sources !== 1) throw new InputError('steer one thing: --sae DIR --feature F, --vector-from "POSITIVE" "NEGATIVE" --hook H, --vector FILE --hook H, or --promote WORD (a one-word --concept alone promotes that word)');
      if (f.mode === 'add' && f.value !== undefined) throw new InputError('--value is for clamp and cap; add takes --strength');
      if (f.mode !== 'add' && f.strength !== undefined) throw new InputError(`--strength is for add; ${f.mode} ${f.mode === 'ablate' ? 'takes no amount' : 'takes --value'}`);
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const directions = buildDirections(f, (word) => promoteDirection(model, tokenizer!, word, { hook: f.hook, restWeight: STEER_DEFAULTS.promoteRestWeight }), () => {
        const pairs: [string, string][] = [];
        const p = f.vectorFrom!;
        if (p.length % 2 !== 0 || p.length === 0) throw new InputError(`--vector-from takes prompts in pairs ("POSITIVE" "NEGATIVE" ...), got ${p.length}`);
        for (let i = 0; i < p.length; i += 2) pairs.push([p[i]!, p[i + 1]!]);
        return contrastiveDirection(contrastiveVector(model, tokenizer!, { hook: requireHook(f), pairs, aggregate: f.aggregate, bos: f.bos }));
      });
      const source = f.promote !== undefined ? 'promote' : f.sae !== undefined ? 'feature' : 'vector';
      const amount = f.mode === 'add' ? (f.strength ?? STEER_DEFAULTS.strengthFor[source]) : f.mode === 'ablate' ? 0 : (f.value ?? STEER_DEFAULTS.valueFor[source]);
      const interventions: Intervention[] = directions.map((direction) => ({ direction, mode: f.mode, amount }));
      const opts = {
        interventions,
        prompt: f.prompt,
        bos: f.bos,
        maxNewTokens: f.maxNewTokens,
        samples: f.samples,
        seed: f.seed,
        temperature: f.temperature,
        topK: f.topK,
        topP: f.topP,
        positions: f.positions,
        steerBos: f.steerBos,
        concept: f.concept,
        progress: true,
      };
      if (f.sweep !== undefined) {
        const amounts = f.sweep.split(',').map((s) => parseFloatOption('sweep')(s.trim()));
        const r = steerSweep(model, tokenizer!, opts, amounts);
        return f.json ? printJson({ ...sweepReport(r, f.mode === 'add' ? 'strength' : 'value'), mode: f.mode, positions: f.positions }) : printSweep(r, f);
      }
      const r = steer(model, tokenizer!, opts);
      return f.json ? printJson({ ...steerReport(r, directions), mode: f.mode, positions: f.positions }) : printResult(r, f, tokenizer!.decode(r.promptIds), directions);
    });
}

function requireHook(f: SteerFlags): string {
  if (!f.hook) throw new InputError('a vector needs --hook, the hook point to steer at (e.g. blocks.3.hook_resid_post; `loupe hooks --model M` lists them)');
  return f.hook;
}

function buildDirections(f: SteerFlags, promote: (word: string) => SteeringDirection, contrastive: () => SteeringDirection): SteeringDirection[] {
  if (f.promote !== undefined) return [promote(f.promote)];
  if (f.vectorFrom) return [contrastive()];
  if (f.vector) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(f.vector, 'utf8'));
    } catch (err) {
      throw new InputError(`--vector ${f.vector}: cannot read a JSON array of numbers (${(err as Error).message})`);
    }
    if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'number')) throw new InputError(`--vector ${f.vector}: expected a JSON array of numbers`);
    return [vectorDirection(requireHook(f), Float32Array.from(raw as number[]), `vector ${f.vector}`)];
  }
  if (!f.sae || f.feature === undefined) throw new InputError('feature steering needs both --sae DIR and --feature F');
  if (f.hook) throw new InputError(`--hook is for vectors; a feature is steered at its dictionary's hook`);
  const sae = loadSae(f.sae);
  return f.feature.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n)) throw new InputError(`--feature expects feature indices like 12 or 12,40, got "${s}"`);
    return featureDirection(sae, n);
  });
}

function printResult(r: SteerResult, f: SteerFlags, prompt: string, directions: SteeringDirection[]): void {
  const what = [...new Set(directions.map((d) => d.hook))].map((h) => `${directions.filter((d) => d.hook === h).map((d) => d.label).join(', ')} at ${h}`).join('; ');
  const out: string[] = [`prompt: ${JSON.stringify(prompt)}`, `steering: ${what} (${f.mode}, positions ${f.positions})`];
  r.steered.texts.forEach((t, i) => {
    out.push(`--- sample ${i} (seed ${f.seed + i})`, `  unsteered: ${JSON.stringify(r.baseline!.texts[i])}`, `  steered:   ${JSON.stringify(t)}`);
  });
  out.push(`loss under the unsteered model: baseline ${r.baseline!.loss.toFixed(3)}, steered ${r.steered.loss.toFixed(3)} (x${(r.steered.loss / r.baseline!.loss).toFixed(2)})`);
  if (f.mode !== 'add') out.push(`${f.mode}: largest miss of the pinned value over every steered position ${r.maxDeviation.toExponential(1)}`);
  if (r.steered.rate !== null) out.push(`concept ${JSON.stringify(f.concept)}: baseline ${(100 * r.baseline!.rate!).toFixed(0)}%, steered ${(100 * r.steered.rate).toFixed(0)}%`);
  process.stdout.write(out.join('\n') + '\n');
}

function printSweep(r: SweepResult, f: SteerFlags): void {
  const unit = f.mode === 'add' ? 'strength' : 'value';
  const out = [`${unit.padStart(9)}  loss    x base  rate`, `${'baseline'.padStart(9)}  ${r.baseline.loss.toFixed(3)}  1.00    ${r.baseline.rate === null ? '-' : (100 * r.baseline.rate).toFixed(0) + '%'}`];
  for (const row of r.rows) {
    out.push(`${String(row.amount).padStart(9)}  ${row.steered.loss.toFixed(3)}  ${(row.steered.loss / r.baseline.loss).toFixed(2)}    ${row.steered.rate === null ? '-' : (100 * row.steered.rate).toFixed(0) + '%'}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}
