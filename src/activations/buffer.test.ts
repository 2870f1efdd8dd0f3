import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShuffleBuffer } from './buffer.js';
import { ArraySource } from './source.js';

/** Rows whose single value is their index, so a batch tells which source rows it holds. */
function indexSource(n: number, chunkRows: number): ArraySource {
  const a = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    a[2 * i] = i;
    a[2 * i + 1] = -i;
  }
  return new ArraySource(['h'], [a], [2], { chunkRows });
}

async function drain(buf: ShuffleBuffer, batch: number): Promise<number[]> {
  const seen: number[] = [];
  for (let b = await buf.next(batch); b; b = await buf.next(batch)) {
    for (let r = 0; r < b.rows; r++) {
      assert.equal(b.acts[0]![2 * r + 1], -b.acts[0]![2 * r]!, 'rows stay whole');
      seen.push(b.acts[0]![2 * r]!);
    }
  }
  return seen;
}

test('shuffle buffer delivers every row exactly once, shuffled, deterministically', async () => {
  const n = 1000;
  const a = await drain(new ShuffleBuffer(indexSource(n, 37), { capacity: 200, seed: 1 }), 64);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
  const inOrder = a.filter((v, i) => v === i).length;
  assert.ok(inOrder < 20, `rows should be shuffled (${inOrder} in place)`);
  // Mixing: the first batch draws from the whole first buffer, not just its first rows.
  assert.ok(Math.max(...a.slice(0, 64)) > 150);
  const b = await drain(new ShuffleBuffer(indexSource(n, 37), { capacity: 200, seed: 1 }), 64);
  assert.deepEqual(a, b);
  const c = await drain(new ShuffleBuffer(indexSource(n, 37), { capacity: 200, seed: 2 }), 64);
  assert.notDeepEqual(a, c);
});

test('shuffle buffer state round-trips: a restored buffer continues with the same batches', async () => {
  const full = await drain(new ShuffleBuffer(indexSource(500, 30), { capacity: 128, seed: 7 }), 50);
  const first = new ShuffleBuffer(indexSource(500, 30), { capacity: 128, seed: 7 });
  const head: number[] = [];
  for (let i = 0; i < 3; i++) {
    const b = (await first.next(50))!;
    for (let r = 0; r < b.rows; r++) head.push(b.acts[0]![2 * r]!);
  }
  const saved = first.state();
  const second = new ShuffleBuffer(indexSource(500, 30), { capacity: 128, seed: 7 });
  second.restore(saved);
  const tail = await drain(second, 50);
  assert.deepEqual([...head, ...tail], full);
});

test('shuffle buffer memory is its capacity, not the stream length', async () => {
  const buf = new ShuffleBuffer(new ArraySource(['h'], [new Float32Array(64)], [4], { chunkRows: 4, loop: true }), { capacity: 8, seed: 0 });
  for (let i = 0; i < 1000; i++) await buf.next(4);
  assert.ok(buf.size <= 8);
  assert.equal(buf.state().data[0]!.length, buf.size * 4);
});
