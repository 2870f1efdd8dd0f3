// `loupe intervene`: clamp or ablate transcoder features at chosen positions and compare the logits before
// and after, to check what an attribution graph claims (library: src/circuits/intervene.ts).
import type { Command } from 'commander';
import { interveneFeatures, parseIntervention } from '../../circuits/intervene.js';
import { TranscoderSet } from '../../circuits/transcoder-set.js';
import { parseIntOption, printJson } from '../output.js';
import { loadModelAndTokenizer } from './model-common.js';

interface InterveneFlags {
  model: string;
  tokenizer?: string;
  transcoders: string;
  prompt: string;
  set: string[];
  freezeAttention?: boolean;
  allowInactive?: boolean;
  bos: boolean;
  top: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('intervene')
    .description('Clamp or ablate transcoder features (LAYER:POS:FEATURE=VALUE) and show the logits before and after')
    .requiredOption('--model <path>', 'llama2.c .bin checkpoint or Hugging Face checkpoint directory')
    .option('--tokenizer <path>', 'llama2.c tokenizer .bin or tokenizer.json')
    .requiredOption('--transcoders <dir>', 'transcoder set (`loupe transcoders train`)')
    .requiredOption('--prompt <text>', 'the prompt (BOS is prepended unless --no-bos)')
    .requiredOption('--set <spec>', 'LAYER:POS:FEATURE=VALUE, e.g. 2:5:113=0 (ablate) or 2:-1:40=6.5 (clamp at the last position); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--freeze-attention', 'keep the clean run\'s attention patterns (default: recompute them)')
    .option('--allow-inactive', 'allow clamping a feature that is not active there in the clean run')
    .option('--no-bos', 'do not prepend BOS')
    .option('--top <n>', 'tokens listed per side', parseIntOption('top', 1), 10)
    .option('--json', 'print {"before", "after", "changes", ...} as one JSON line')
    .action(async (f: InterveneFlags) => {
      const interventions = f.set.map(parseIntervention);
      const { model, tokenizer } = await loadModelAndTokenizer(f.model, f.tokenizer, true);
      const set = TranscoderSet.load(f.transcoders);
      const ids = tokenizer!.encode(f.prompt, { bos: f.bos });
      const r = interveneFeatures(model, set, ids, interventions, { freezeAttention: f.freezeAttention, allowInactive: f.allowInactive, top: f.top, tokenizer: tokenizer! });
      const { logitsBefore: _b, logitsAfter: _a, ...result } = r;
      if (f.json) {
        printJson(result);
        return;
      }
      const row = (t: { token: string; logit: number; prob: number }): string => `${JSON.stringify(t.token).padEnd(16)} ${t.logit.toFixed(3).padStart(8)}  p=${t.prob.toFixed(3)}`;
      const lines = [
        `${r.tokens} tokens; ${r.interventions.map((i) => `L${i.layer} pos ${i.pos} feature ${i.feature}: ${i.clean_activation.toFixed(3)} -> ${i.value}`).join('; ')}${r.freeze_attention ? ' (attention frozen)' : ''}`,
        'before                                   after',
      ];
      for (let i = 0; i < Math.max(r.before.length, r.after.length); i++) lines.push(`${(r.before[i] ? row(r.before[i]!) : '').padEnd(41)}${r.after[i] ? row(r.after[i]!) : ''}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
