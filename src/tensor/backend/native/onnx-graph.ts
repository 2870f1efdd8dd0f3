// Builds a minimal ONNX ModelProto (as bytes) for a small float32 graph: a few nodes, typed inputs and
// outputs with fixed or symbolic dims, and the opsets they use. Enough for one-op kernels; not a general
// ONNX writer (no initializers, no subgraphs).
import { ProtoWriter } from './protobuf.js';

/** A dim is a fixed size or a symbolic name (any size at run time; equal names must agree). */
export type OnnxDim = number | string;

export interface OnnxValueSpec {
  name: string;
  dims: readonly OnnxDim[];
}

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string };

export interface OnnxNodeSpec {
  opType: string;
  /** '' (the default) is the standard ai.onnx domain; 'com.microsoft' holds ORT's contrib ops. */
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxGraphSpec {
  name: string;
  nodes: readonly OnnxNodeSpec[];
  inputs: readonly OnnxValueSpec[];
  outputs: readonly OnnxValueSpec[];
  /** Opset version per domain used by the nodes, e.g. [{ domain: '', version: 17 }]. */
  opsets: readonly { domain: string; version: number }[];
}

// IR version 8 (ONNX 1.10+) is old enough for any runtime we load and new enough for opset 17.
const IR_VERSION = 8;
const ELEM_FLOAT = 1; // TensorProto.DataType.FLOAT

// Field numbers from onnx.proto (proto2).
const F = {
  model: { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attr: { name: 1, f: 2, i: 3, s: 4, ints: 8, type: 20 },
  valueInfo: { name: 1, type: 2 },
  typeProto: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
} as const;

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

export function buildOnnxModel(spec: OnnxGraphSpec): Uint8Array {
  const w = new ProtoWriter();
  w.varint(F.model.irVersion, IR_VERSION);
  w.string(F.model.producerName, 'loupe');
  w.message(F.model.graph, (g) => writeGraph(g, spec));
  for (const o of spec.opsets) {
    w.message(F.model.opsetImport, (m) => m.string(F.opset.domain, o.domain).varint(F.opset.version, o.version));
  }
  return w.finish();
}

function writeGraph(g: ProtoWriter, spec: OnnxGraphSpec): void {
  spec.nodes.forEach((node, i) => g.message(F.graph.node, (n) => writeNode(n, node, `${node.opType}_${i}`)));
  g.string(F.graph.name, spec.name);
  for (const v of spec.inputs) g.message(F.graph.input, (m) => writeValueInfo(m, v));
  for (const v of spec.outputs) g.message(F.graph.output, (m) => writeValueInfo(m, v));
}

function writeNode(n: ProtoWriter, node: OnnxNodeSpec, name: string): void {
  for (const x of node.inputs) n.string(F.node.input, x);
  for (const y of node.outputs) n.string(F.node.output, y);
  n.string(F.node.name, name);
  n.string(F.node.opType, node.opType);
  for (const [key, attr] of Object.entries(node.attributes ?? {})) {
    n.message(F.node.attribute, (a) => writeAttribute(a, key, attr));
  }
  if (node.domain) n.string(F.node.domain, node.domain);
}

function writeAttribute(a: ProtoWriter, name: string, attr: OnnxAttribute): void {
  a.string(F.attr.name, name);
  switch (attr.kind) {
    case 'int':
      a.varint(F.attr.i, attr.value);
      break;
    case 'float':
      a.float(F.attr.f, attr.value);
      break;
    case 'string':
      a.string(F.attr.s, attr.value);
      break;
    case 'ints':
      for (const v of attr.value) a.varint(F.attr.ints, v);
      break;
  }
  a.varint(F.attr.type, ATTR_TYPE[attr.kind]);
}

function writeValueInfo(m: ProtoWriter, v: OnnxValueSpec): void {
  m.string(F.valueInfo.name, v.name);
  m.message(F.valueInfo.type, (t) =>
    t.message(F.typeProto.tensorType, (tt) => {
      tt.varint(F.tensorType.elemType, ELEM_FLOAT);
      tt.message(F.tensorType.shape, (s) => {
        for (const d of v.dims) {
          s.message(F.shape.dim, (dm) => (typeof d === 'number' ? dm.varint(F.dim.value, d) : dm.string(F.dim.param, d)));
        }
      });
    }),
  );
}
