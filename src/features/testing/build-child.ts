// A build in a child process, for the kill-and-resume test: argv = db, corpus, tokens.
// Prints "checkpoint <tokens>" after each checkpoint so the parent knows when to kill it.
import { Store } from '../../store/index.js';
import { buildFeatures } from '../build.js';
import { SyntheticSource } from '../synthetic.js';

const [db, data, tokens] = process.argv.slice(2);
const store = await Store.open(db!);
await buildFeatures({
  store,
  source: new SyntheticSource({ nFeatures: 48 }),
  data: data!,
  tokens: Number(tokens),
  context: 16,
  batchSize: 2,
  checkpointSeconds: 0,
  onProgress: (p) => {
    if (p.stage === 'checkpoint') process.stdout.write(`checkpoint ${p.tokens}\n`);
  },
});
store.close();
