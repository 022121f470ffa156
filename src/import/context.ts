// What an operator's converter (ops/*.ts) works with: the values of the ONNX graph
// as TensorFlow.js symbolic tensors or constants, and the node being converted.
//
// A 4-D ONNX tensor (N, C, H, W) is held in TensorFlow.js's NHWC layout ('nchw': what
// it stands for in ONNX); (N, C, 1, 1) after a global pool is held as (N, C) ('nc11');
// (N, F) as is ('flat'). A flat value made by flattening a spatial map remembers the
// map's [C, H, W]: ONNX numbers its features channel-first, TensorFlow.js
// channel-last, so the Gemm or MatMul that reads it permutes its weight rows once.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Attributes, Constant, OnnxNode } from './onnx_model.js';

export type Layout = 'nchw' | 'nc11' | 'flat';

export interface TensorValue {
  kind: 'tensor';
  t: tfl.SymbolicTensor;
  layout: Layout;
  /** set on a flattened spatial map: the [C, H, W] its features came from */
  flatFrom?: [number, number, number];
  /** every value is >= 0 (after ReLU, sigmoid, ...): zero padding acts as -inf padding for max pooling */
  nonNegative?: boolean;
  /** a 4-D map that ONNX views as (N, G, C/G, H, W), [G, C/G]: inside a channel shuffle (ops/channels.ts) */
  grouped?: [number, number];
  /** the ONNX node that made it */
  producer?: OnnxNode;
}

export interface ConstValue extends Constant {
  kind: 'const';
}

export type Value = TensorValue | ConstValue;

/** The shape one sample of `v` has in ONNX (without the batch): [C, H, W], [C, 1, 1] or [F]. */
export function onnxSampleShape(v: TensorValue): number[] {
  const s = v.t.shape.slice(1) as number[];
  if (v.layout === 'nchw') return [s[2], s[0], s[1]];
  return v.layout === 'nc11' ? [s[0], 1, 1] : s;
}

export interface OpContext {
  node: OnnxNode;
  attrs: Attributes;
  opset: number;
  /** input i as a tensor; a missing or constant input is an error naming the node */
  tensor(i: number): TensorValue;
  /** input i as a constant, undefined when the input is absent; a computed input is an error */
  constant(i: number): Constant | undefined;
  /** the value named `name` when it is a constant */
  constantNamed(name: string): Constant | undefined;
  /** input i, whatever it is, undefined when absent */
  value(i: number): Value | undefined;
  /** the node that computes the value named `name`, if any */
  producer(name: string): OnnxNode | undefined;
  /** the nodes that read the value named `name` */
  consumers(name: string): OnnxNode[];
  /** `node` is done by this converter; its outputs are `values` */
  absorb(node: OnnxNode, values: Value[]): void;
  /** applies a new layer to `inputs` and sets its weights; the layer is named after the node (plus `suffix`) */
  apply(
    make: (name: string) => tfl.layers.Layer,
    inputs: TensorValue | TensorValue[],
    weights?: tf.Tensor[],
    suffix?: string,
  ): tfl.SymbolicTensor;
  /** an error naming the file, the node and its op type */
  fail(why: string): never;
}

export type OpConverter = (c: OpContext) => Value | Value[];

/** A tensor value with the layout and flags of `like`, unless overridden. */
export function tensorLike(like: TensorValue, t: tfl.SymbolicTensor, extra: Partial<TensorValue> = {}): TensorValue {
  return { kind: 'tensor', t, layout: like.layout, flatFrom: like.flatFrom, nonNegative: like.nonNegative, ...extra };
}

export function tensorOf(t: tfl.SymbolicTensor, layout: Layout, extra: Partial<TensorValue> = {}): TensorValue {
  return { kind: 'tensor', t, layout, ...extra };
}
