// Turns a finished accumulator (plus the decoder-derived neighbours and logit effects) into the result
// tables, in one transaction: the previous results are replaced whole or not at all.
import { Col, RESULT_TABLES, type Store } from '../store/index.js';
import { logitEffects } from './logits.js';
import { similarFeatures } from './similarity.js';
import type { ActivationSource } from './source.js';
import type { FeatureAccumulator, Sample } from './stats/accumulator.js';

export interface ResultCounts {
  features: number;
  examples: number;
  logits: boolean;
}

/** Neighbours and logit effects kept per feature. */
export const NEIGHBOURS = 5;
export const LOGITS_SHOWN = 10;
/** Logit effects stored per side: more than shown, as output evidence for search. */
export const LOGITS_STORED = 25;
export const TOKENS_PER_FEATURE = 50;

/** firstPosition: the first statistics position of a sequence (1 when it starts with BOS). */
export async function writeResults(store: Store, acc: FeatureAccumulator, source: ActivationSource, firstPosition: number, onStage?: (stage: string) => void): Promise<ResultCounts> {
  const F = acc.cfg.nFeatures;
  const { W_dec, dOut } = source.decoder();
  onStage?.('similarity');
  const similar = similarFeatures(W_dec, dOut, NEIGHBOURS);
  onStage?.('logits');
  const readout = source.logitReadout();
  const logits = readout && readout.dModel === dOut ? logitEffects(W_dec, dOut, readout, LOGITS_STORED) : null;
  onStage?.('coactivation');
  const coact = acc.coactivation(NEIGHBOURS);
  const topTokens = acc.topTokens(TOKENS_PER_FEATURE);

  onStage?.('write');
  const feat = { feature: [] as number[], fire: [] as number[], density: [] as number[], max: [] as number[], mean: [] as number[], edges: [] as (number[] | null)[], counts: [] as (number[] | null)[] };
  const bins = { feature: [] as number[], bin: [] as number[], lo: [] as number[], hi: [] as number[], count: [] as number[] };
  const ex = { feature: [] as number[], kind: [] as string[], bin: [] as (number | null)[], rank: [] as number[], seq: [] as number[], pos: [] as (number | null)[], act: [] as number[], acts: [] as (Float32Array | null)[] };
  const addExample = (f: number, kind: string, bin: number | null, rank: number, s: Sample): void => {
    ex.feature.push(f);
    ex.kind.push(kind);
    ex.bin.push(bin);
    ex.rank.push(rank);
    ex.seq.push(s.seq);
    ex.pos.push(s.position);
    ex.act.push(s.activation);
    ex.acts.push(s.activations);
  };
  for (let f = 0; f < F; f++) {
    const s = acc.summary(f, firstPosition);
    feat.feature.push(f);
    feat.fire.push(s.fireCount);
    feat.density.push(s.density);
    feat.max.push(s.maxActivation);
    feat.mean.push(s.meanActivation);
    feat.edges.push(s.histogram?.edges ?? null);
    feat.counts.push(s.histogram?.counts ?? null);
    s.top.forEach((smp, i) => addExample(f, 'top', null, i, smp));
    s.bins.forEach((b, j) => {
      bins.feature.push(f);
      bins.bin.push(j);
      bins.lo.push(b.lo);
      bins.hi.push(b.hi);
      bins.count.push(b.count);
      b.samples.forEach((smp, i) => addExample(f, 'bin', j, i, smp));
    });
    s.negatives.forEach((seq, i) => {
      ex.feature.push(f);
      ex.kind.push('negative');
      ex.bin.push(null);
      ex.rank.push(i);
      ex.seq.push(seq);
      ex.pos.push(null);
      ex.act.push(0);
      ex.acts.push(null); // all zero at statistics positions
    });
  }

  const lg = { feature: [] as number[], kind: [] as string[], rank: [] as number[], token: [] as number[], value: [] as number[] };
  if (logits) {
    for (let f = 0; f < F; f++) {
      for (const [kind, list] of [['top', logits.top[f]!], ['bottom', logits.bottom[f]!]] as const) {
        list.forEach((r, i) => {
          lg.feature.push(f);
          lg.kind.push(kind);
          lg.rank.push(i);
          lg.token.push(r.index);
          lg.value.push(r.value);
        });
      }
    }
  }
  const nb = { feature: [] as number[], kind: [] as string[], rank: [] as number[], other: [] as number[], value: [] as number[], count: [] as (number | null)[] };
  for (let f = 0; f < F; f++) {
    coact[f]!.forEach((c, i) => {
      nb.feature.push(f);
      nb.kind.push('coactivation');
      nb.rank.push(i);
      nb.other.push(c.other);
      nb.value.push(c.jaccard);
      nb.count.push(c.count);
    });
    similar[f]!.forEach((c, i) => {
      nb.feature.push(f);
      nb.kind.push('similarity');
      nb.rank.push(i);
      nb.other.push(c.index);
      nb.value.push(c.value);
      nb.count.push(null);
    });
  }
  const ft = { feature: [] as number[], token: [] as number[], count: [] as number[], sum: [] as number[], max: [] as number[] };
  topTokens.forEach((list, f) => {
    for (const t of list) {
      ft.feature.push(f);
      ft.token.push(t.token);
      ft.count.push(t.count);
      ft.sum.push(t.sum);
      ft.max.push(t.max);
    }
  });
  const tc = { token: [] as number[], count: [] as number[] };
  acc.tokenCounts.forEach((c, t) => {
    if (c > 0) {
      tc.token.push(t);
      tc.count.push(c);
    }
  });

  await store.transaction(async () => {
    for (const t of RESULT_TABLES) await store.run(`DELETE FROM ${t}`);
    await store.append('features', [
      Col.int(feat.feature),
      Col.bigint(feat.fire),
      Col.double(feat.density),
      Col.float(feat.max),
      Col.float(feat.mean),
      Col.floatList(feat.edges),
      Col.bigintList(feat.counts),
    ]);
    await store.append('bins', [Col.int(bins.feature), Col.int(bins.bin), Col.float(bins.lo), Col.float(bins.hi), Col.bigint(bins.count)]);
    await store.append('examples', [
      Col.int(ex.feature),
      Col.varchar(ex.kind),
      Col.int(ex.bin),
      Col.int(ex.rank),
      Col.int(ex.seq),
      Col.int(ex.pos),
      Col.float(ex.act),
      Col.floatList(ex.acts),
    ]);
    await store.append('logits', [Col.int(lg.feature), Col.varchar(lg.kind), Col.int(lg.rank), Col.int(lg.token), Col.float(lg.value)]);
    await store.append('neighbors', [Col.int(nb.feature), Col.varchar(nb.kind), Col.int(nb.rank), Col.int(nb.other), Col.float(nb.value), Col.bigint(nb.count)]);
    await store.append('feature_tokens', [Col.int(ft.feature), Col.int(ft.token), Col.bigint(ft.count), Col.double(ft.sum), Col.float(ft.max)]);
    await store.append('token_counts', [Col.int(tc.token), Col.bigint(tc.count)]);
  });
  return { features: F, examples: ex.feature.length, logits: logits !== null };
}
