// Shared by the workbench tests: a small synthetic feature database with one token whose display text is
// HTML (it must show as text, never run), a generated attribution graph, and a dynamics file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFeatures, featureRecord, SyntheticSource, syntheticCorpus } from '../features/index.js';
import { Store } from '../store/index.js';
import { syntheticGraph, type GraphJson } from './routes/graph-fixture.js';

export const HTML_TOKEN = '<img src=x onerror="window.__xss=1">';
export const SCRIPT_LABEL = '<script>window.__xss=2</script>';

export interface WorkbenchFixture {
  dir: string;
  db: string;
  graph: string;
  bigGraph: string;
  dynamics: string;
  /** A feature whose top example shows HTML_TOKEN. */
  htmlFeature: number;
  cleanup(): void;
}

export async function makeWorkbenchFixture(opts: { bigGraph?: boolean } = {}): Promise<WorkbenchFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-wb-'));
  const db = path.join(dir, 'f.duckdb');
  const corpus = path.join(dir, 'c.txt');
  fs.writeFileSync(corpus, syntheticCorpus(300));
  const s = await Store.open(db);
  let htmlFeature = 5;
  try {
    await buildFeatures({ store: s, source: new SyntheticSource({ nFeatures: 32 }), data: corpus, tokens: 2000, context: 16 });
    const rec = await featureRecord(s, htmlFeature);
    const id = rec.top_examples[0]?.token_ids[rec.top_examples[0].position ?? 0];
    if (id === undefined) throw new Error('fixture: feature 5 has no top example');
    await s.run(`UPDATE vocab SET text = ?, text_first = ? WHERE token_id = ?`, [HTML_TOKEN, HTML_TOKEN, id]);
  } finally {
    s.close();
  }
  const small = syntheticGraph({ nodes: 300, links: 2500, layers: 4, nFeatures: 32, seed: 2, tokens: ['Fact', ':', ' the', HTML_TOKEN, ' of', ' Dallas', ' is'] });
  labelOne(small, SCRIPT_LABEL);
  const graph = path.join(dir, 'graph.json');
  fs.writeFileSync(graph, JSON.stringify(small));
  const bigGraph = path.join(dir, 'graph-big.json');
  if (opts.bigGraph !== false) fs.writeFileSync(bigGraph, JSON.stringify(syntheticGraph({ nodes: 5000, links: 50_000, layers: 12, seed: 5 })));
  const dynamics = path.join(dir, 'dynamics.json');
  const steps = [0, 16, 32, 64, 128, 256, 512, 1024];
  fs.writeFileSync(dynamics, JSON.stringify({ checkpoints: steps.map((step) => ({ step, loss: 5 * Math.exp(-step / 200) + 1.2, induction_max: step < 200 ? 0.05 : 0.7, prev_token_max: Math.min(0.9, step / 300), icl_score: step < 200 ? -0.02 : -0.5 })) }));
  return { dir, db, graph, bigGraph, dynamics, htmlFeature, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function labelOne(g: GraphJson, label: string): void {
  const n = g.nodes.find((x) => x.feature_type === 'cross layer transcoder');
  if (n) n.clerp = label;
}
