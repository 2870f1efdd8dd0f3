import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskActivationSource, writeActivationCache } from './disk-cache.js';
import { collectRows } from './source.js';
import { SyntheticSource } from './synthetic.js';

test('an activation cache streams back exactly what was written, shard by shard, resumable and looping', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-cache-'));
  try {
    const src = new SyntheticSource({ dIn: 6, features: 10, activePerRow: 2, seed: 3, chunkRows: 70 });
    const m = await writeActivationCache(src, dir, { rows: 500, shardRows: 128, info: { model_name: 'synthetic' } });
    assert.equal(m.rows, 500);
    assert.equal(m.shards.length, 4);
    assert.equal(m.model_name, 'synthetic');
    const want = await collectRows(src, 500);
    const back = new DiskActivationSource(dir, { chunkRows: 50 });
    const got = await collectRows(back, 10_000);
    assert.equal(got.rows, 500);
    assert.deepEqual(got.acts[0], want.acts[0]);
    // Resume from a chunk's position continues with the next rows.
    const it = back.read()[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await it.next();
    const fourth = (await it.next()).value!;
    const afterThird = await nthResume(back, 3);
    const again = (await back.read(afterThird)[Symbol.asyncIterator]().next()).value!;
    assert.deepEqual(again.acts[0], fourth.acts[0]);
    // Looping wraps around to the first shard.
    const looping = new DiskActivationSource(dir, { chunkRows: 128, loop: true });
    const five = await collectRows(looping, 640);
    assert.deepEqual(five.acts[0]!.subarray(500 * 6, 640 * 6), want.acts[0]!.subarray(0, 140 * 6));
    assert.throws(() => new DiskActivationSource(dir, { hooks: ['nope'] }), /holds hooks synthetic, not "nope"/);
    assert.throws(() => new DiskActivationSource(path.join(dir, 'missing')), /not an activation cache/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function nthResume(s: DiskActivationSource, n: number): Promise<unknown> {
  let resume: unknown;
  let i = 0;
  for await (const c of s.read()) {
    resume = c.resume;
    if (++i === n) break;
  }
  return resume;
}
