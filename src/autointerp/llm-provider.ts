// An InterpProvider over any chat model: prompts from prompts.ts, replies parsed strictly. Simulation is
// offered only when the chat API returns log-probabilities.
import type { ChatClient } from './chat.js';
import { DETECT_SYSTEM, EXPLAIN_SYSTEM, FUZZ_SYSTEM, SIMULATE_SYSTEM, explainPrompt, listPrompt, markedText, parseBinaryList, parseExplanation, parseSimulation, simulatePrompt } from './prompts.js';
import type { Answer, DetectInput, ExplainInput, FuzzInput, InterpProvider, SimulateInput, Usage } from './provider.js';

export class LlmProvider implements InterpProvider {
  readonly name: string;
  readonly model: string;
  readonly simulate?: (input: SimulateInput) => Promise<Answer<number[][]>>;

  constructor(private readonly chat: ChatClient) {
    this.name = chat.name;
    this.model = chat.model;
    if (chat.supportsLogprobs) this.simulate = (input) => this.simulateAll(input);
  }

  usage(): Usage {
    return { ...this.chat.totals };
  }

  async explain(input: ExplainInput): Promise<Answer<string>> {
    const r = await this.chat.complete({ system: EXPLAIN_SYSTEM, user: explainPrompt(input), maxTokens: 120 });
    return { value: parseExplanation(r.text, this.name), usage: r.usage };
  }

  async detect(input: DetectInput): Promise<Answer<boolean[]>> {
    const excerpts = input.examples.map((t) => t.join('').replace(/\n/g, '\\n'));
    const r = await this.chat.complete({ system: DETECT_SYSTEM, user: listPrompt(input.explanation, excerpts, 'Answer'), maxTokens: 20 + 4 * excerpts.length });
    return { value: parseBinaryList(r.text, excerpts.length, this.name), usage: r.usage };
  }

  async fuzz(input: FuzzInput): Promise<Answer<boolean[]>> {
    const excerpts = input.examples.map((e) => markedText(e.tokens, e.marked));
    const r = await this.chat.complete({ system: FUZZ_SYSTEM, user: listPrompt(input.explanation, excerpts, 'Answer'), maxTokens: 20 + 4 * excerpts.length });
    return { value: parseBinaryList(r.text, excerpts.length, this.name), usage: r.usage };
  }

  private async simulateAll(input: SimulateInput): Promise<Answer<number[][]>> {
    const usage = { promptTokens: 0, completionTokens: 0 };
    const value = await Promise.all(
      input.examples.map(async (tokens) => {
        const r = await this.chat.complete({ system: SIMULATE_SYSTEM, user: simulatePrompt(input.explanation, tokens), maxTokens: 8 * tokens.length + 16, topLogprobs: 5 });
        usage.promptTokens += r.usage.promptTokens;
        usage.completionTokens += r.usage.completionTokens;
        return parseSimulation(r.text, tokens.length, r.logprobs, this.name);
      }),
    );
    return { value, usage };
  }
}
