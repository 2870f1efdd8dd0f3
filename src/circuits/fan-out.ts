// One activation harvest feeding several trainers: the model runs once over the text with every layer's
// hooks, and each trainer reads its own hooks from the same chunks. Trainers that read at the same pace
// (same batch size and buffer, as per-layer transcoder training does) keep only a few chunks alive; a chunk
// is dropped once every view has read past it.
import type { ActivationChunk, ActivationSource } from '../activations/source.js';

export class FanOut {
  private readonly chunks: ActivationChunk[] = [];
  /** Chunk number of chunks[0]. */
  private base = 0;
  private readonly cursors: number[];
  private iterator: AsyncIterator<ActivationChunk> | null = null;
  private producing: Promise<void> | null = null;
  private ended = false;

  constructor(
    private readonly source: ActivationSource,
    private readonly selections: readonly (readonly number[])[],
  ) {
    this.cursors = selections.map(() => 0);
  }

  /** A source with the hooks of selection i (indices into the shared source's hooks). */
  view(i: number): ActivationSource {
    const sel = this.selections[i]!;
    const hooks = sel.map((h) => this.source.hooks[h]!);
    const widths = sel.map((h) => this.source.widths[h]!);
    const self = this;
    return {
      hooks,
      widths,
      async *read(from?: unknown): AsyncIterable<ActivationChunk> {
        let n = typeof from === 'number' ? from : 0;
        try {
          for (;;) {
            const c = await self.chunk(i, n);
            if (!c) return;
            n++;
            yield { rows: c.rows, acts: sel.map((h) => c.acts[h]!), tokens: c.tokens, resume: n };
          }
        } finally {
          self.cursors[i] = Infinity;
          self.trim();
        }
      },
    };
  }

  private async chunk(view: number, n: number): Promise<ActivationChunk | null> {
    if (n < this.base) throw new Error(`fan-out: chunk ${n} was already dropped (views must read in step)`);
    while (n >= this.base + this.chunks.length) {
      if (this.ended) return null;
      this.producing ??= this.produce().finally(() => (this.producing = null));
      await this.producing;
    }
    const c = this.chunks[n - this.base]!;
    this.cursors[view] = n + 1;
    this.trim();
    return c;
  }

  private async produce(): Promise<void> {
    this.iterator ??= this.source.read()[Symbol.asyncIterator]();
    const r = await this.iterator.next();
    if (r.done) this.ended = true;
    else this.chunks.push(r.value);
  }

  private trim(): void {
    const low = Math.min(...this.cursors);
    // Every view is done: close the shared source (and the files it holds open).
    if (low === Infinity && this.iterator && !this.producing) {
      void this.iterator.return?.();
      this.iterator = null;
      this.ended = true;
    }
    while (this.chunks.length && this.base < low) {
      this.chunks.shift();
      this.base++;
    }
  }
}
