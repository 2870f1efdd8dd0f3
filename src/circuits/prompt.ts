// Display strings of prompt tokens for graph JSON: each token as it reads in context (special tokens by
// their piece, e.g. "<s>"), so prompt_tokens joined is the prompt.
import type { Tokenizer } from '../model/tokenizers/tokenizer.js';

export function promptTokens(tokenizer: Tokenizer, ids: readonly number[]): string[] {
  return ids.map((id, i) => (tokenizer.isSpecial(id) ? tokenizer.tokenString(id) : tokenizer.decodeToken(id, i > 0 ? ids[i - 1] : undefined)));
}
