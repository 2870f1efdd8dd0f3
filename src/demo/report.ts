// The demo's terminal report: plain text, with colour only on a terminal. Token strings are shown with
// visible whitespace so the reader sees exactly what the model saw.
import type { DemoReport } from './run.js';

export function renderDemo(r: DemoReport, color = false): string {
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);
  const hi = (s: string): string => (color ? `\x1b[30;43m${s}\x1b[0m` : `[${s}]`);
  const tok = (t: string): string => JSON.stringify(t);
  const wrap = (text: string, width = 96): string => {
    const out: string[] = [];
    for (const para of text.split('\n')) {
      let line = '';
      for (const w of para.split(' ')) {
        if (line && line.length + w.length + 1 > width) {
          out.push(line);
          line = w;
        } else line = line ? `${line} ${w}` : w;
      }
      out.push(line);
    }
    return out.map((l) => `  ${l}`).join('\n');
  };
  const m = r.model;
  const lines: string[] = [];
  lines.push(bold('Loupe demo: the embedded default model'));
  lines.push(`  ${m.arch}, ${m.layers} layers, d_model ${m.d_model}, ${m.heads} heads, vocabulary ${m.vocab}, ${(m.parameters / 1e6).toFixed(2)}M parameters (grown with \`loupe grow\` on TinyStories)`);
  lines.push(`  dictionary: TopK SAE with ${r.dictionary.latents} features (k ${r.dictionary.k}) at ${r.dictionary.hook}`);
  lines.push('');
  lines.push(bold('1. A story it writes') + dim(` (prompt "${r.story.prompt}", temperature 0.8)`));
  lines.push(wrap(r.story.text));
  lines.push('');
  lines.push(bold('2. Features that fire on a prompt') + dim(` (strongest per token, at ${r.dictionary.hook})`));
  for (const t of r.inspect.tokens) {
    const fs = t.features.map((f) => `#${f.feature} ${f.activation.toFixed(2)}`).join('  ');
    lines.push(`  ${tok(t.token).padEnd(14)} ${fs || dim('(none)')}`);
  }
  lines.push('');
  lines.push(bold('3. What those features mean') + dim(' (from the feature database: top tokens, logit effects, top examples)'));
  for (const c of r.features) {
    lines.push(`  ${bold(`feature #${c.feature}`)}${c.label ? ` "${c.label}"` : ''}  density ${(100 * c.density).toFixed(2)}%  max ${c.max_activation.toFixed(2)}`);
    lines.push(`    fires on: ${c.top_tokens.map(tok).join(' ')}`);
    lines.push(`    promotes: ${c.promotes.map(tok).join(' ')}`);
    for (const e of c.examples) {
      const max = Math.max(...e.activations);
      const start = Math.max(0, e.activations.indexOf(max) - 12);
      const shown = e.tokens.slice(start, start + 20).map((t, i) => (e.activations[start + i]! > 0.5 * max ? hi(t) : t)).join('');
      lines.push(`    ${dim('e.g.')} ${shown.replace(/\n/g, ' ')}`);
    }
  }
  lines.push('');
  const s = r.steering;
  lines.push(bold(`4. Steering: ${s.mode} feature #${s.feature}${s.label ? ` ("${s.label}")` : ''} ${s.mode === 'add' ? `with strength ${s.amount}` : `at ${s.amount}`}`) + dim(' (same prompt, same sampler seed)'));
  lines.push(dim('  unsteered:'));
  lines.push(wrap(s.baseline));
  lines.push(dim('  steered:'));
  lines.push(wrap(s.steered));
  if (s.measured) {
    const q = s.measured;
    lines.push(
      dim(`  over ${q.samples} paired samples: "${s.concept}" appears in ${(100 * q.baseline_rate).toFixed(0)}% unsteered vs ${(100 * q.steered_rate).toFixed(0)}% steered; per-token loss ${q.baseline_loss.toFixed(2)} vs ${q.steered_loss.toFixed(2)}`),
    );
  }
  lines.push('');
  lines.push(dim(`done in ${r.seconds.toFixed(1)} s. Next: \`npx loupe demo --serve\` opens the workbench on these files; \`npx loupe --help\` lists every command.`));
  return lines.join('\n') + '\n';
}
