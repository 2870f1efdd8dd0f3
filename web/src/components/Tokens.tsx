// A token sequence coloured by activation; hovering a token shows its value (CSS tooltip from a data
// attribute: the token text is only ever a text node or an attribute value, never parsed as HTML).
import { actColor, fmt, showToken } from '../util';

export interface TokensProps {
  tokens: string[];
  values: number[];
  /** Scale for the colour (default: the largest value shown). */
  max?: number;
  /** Position to outline (the example's peak). */
  mark?: number | null;
  onToken?: (i: number) => void;
  selected?: number | null;
  /** Prefix for the tooltip, e.g. "feature 12". */
  label?: string;
}

export function Tokens({ tokens, values, max, mark, onToken, selected, label }: TokensProps) {
  const m = max ?? Math.max(0, ...values);
  return (
    <span class="tokens">
      {tokens.map((t, i) => {
        const v = values[i] ?? 0;
        const cls = ['tok', i === mark ? 'peak' : '', i === selected ? 'sel' : '', onToken ? 'clickable' : ''].filter(Boolean).join(' ');
        return (
          <span
            key={i}
            class={cls}
            style={{ background: actColor(v, m) }}
            data-tip={`${label ? label + ': ' : ''}${fmt(v)} · token ${JSON.stringify(t)}`}
            data-act={v}
            onClick={onToken ? () => onToken(i) : undefined}
          >
            {showToken(t)}
          </span>
        );
      })}
    </span>
  );
}
