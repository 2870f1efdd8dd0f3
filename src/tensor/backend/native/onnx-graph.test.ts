import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOnnxModel } from './onnx-graph.js';
import { loadOrtBinding } from './ort-binding.js';
import { ProtoWriter } from './protobuf.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('protobuf varints and fields follow the wire format', () => {
  // Examples from the protobuf encoding guide: 150 -> 96 01, 300 -> ac 02.
  assert.equal(hex(new ProtoWriter().varint(1, 150).finish()), '089601');
  assert.equal(hex(new ProtoWriter().varint(2, 300).finish()), '10ac02');
  assert.equal(hex(new ProtoWriter().varint(1, 0).finish()), '0800');
  assert.equal(hex(new ProtoWriter().varint(1, true).finish()), '0801');
  // int64 -1: ten bytes of two's complement.
  assert.equal(hex(new ProtoWriter().varint(1, -1).finish()), '08ffffffffffffffffff01');
  assert.equal(hex(new ProtoWriter().varint(1, 2 ** 40).finish()), '088080808080' + '20');
  assert.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '120774657374696e67');
  assert.equal(hex(new ProtoWriter().float(2, 1).finish()), '150000803f');
  assert.equal(hex(new ProtoWriter().message(3, (w) => w.varint(1, 150)).finish()), '1a03089601');
  assert.throws(() => new ProtoWriter().varint(1, 0.5), RangeError);
});

test('buildOnnxModel starts with ir_version and holds the op, names and opsets', () => {
  const bytes = buildOnnxModel({
    name: 'g',
    nodes: [{ opType: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], attributes: { transB: { kind: 'int', value: 1 } } }],
    inputs: [{ name: 'A', dims: ['m', 4] }, { name: 'B', dims: [3, 4] }],
    outputs: [{ name: 'Y', dims: ['m', 3] }],
    opsets: [{ domain: '', version: 17 }],
  });
  assert.equal(hex(bytes.subarray(0, 2)), '0808'); // field 1 varint = 8
  const text = Buffer.from(bytes).toString('latin1');
  for (const s of ['Gemm', 'transB', 'loupe']) assert.ok(text.includes(s), `model bytes lack "${s}"`);
});

test('onnxruntime accepts a built graph with fixed and symbolic dims and computes it', (t) => {
  const loaded = loadOrtBinding();
  if (!loaded.ok) {
    t.skip(loaded.reason);
    return;
  }
  // Y = (A + A) + B with B [3] broadcast over rows: two nodes, an intermediate value, a symbolic dim.
  const bytes = buildOnnxModel({
    name: 'scale_add',
    nodes: [
      { opType: 'Add', inputs: ['A', 'A'], outputs: ['A2'] },
      { opType: 'Add', inputs: ['A2', 'B'], outputs: ['Y'] },
    ],
    inputs: [{ name: 'A', dims: ['rows', 3] }, { name: 'B', dims: [3] }],
    outputs: [{ name: 'Y', dims: ['rows', 3] }],
    opsets: [{ domain: '', version: 17 }],
  });
  const session = loaded.binding.createSession();
  session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, { intraOpNumThreads: 1 });
  const y = new Float32Array(6);
  session.run(
    {
      A: { type: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3], location: 'cpu' },
      B: { type: 'float32', data: Float32Array.from([10, 20, 30]), dims: [3], location: 'cpu' },
    },
    { Y: { type: 'float32', data: y, dims: [2, 3], location: 'cpu' } },
  );
  assert.deepEqual([...y], [12, 24, 36, 18, 30, 42]);
});
