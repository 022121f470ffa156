// Every layer class slimtrain knows, each with its rule (rule.ts). Adding a layer:
// one file with its rule, one line here.
import { activation, parametricActivations, relu, softmax } from './activation.js';
import { batchNormalization } from './batchnorm.js';
import { channelSelect } from './channel_select.js';
import { constantAffine } from './constant_affine.js';
import { conv2d } from './conv.js';
import { conv2dTranspose } from './conv_transpose.js';
import { dense } from './dense.js';
import { depthwiseConv2d } from './depthwise.js';
import { flatten } from './flatten.js';
import { groupedConv2d } from './grouped_conv.js';
import { layerNormalization } from './layer_norm.js';
import { concatenate, elementwiseJoin } from './merge.js';
import { cropping2d, dropout, upSampling2d, zeroPadding2d } from './passthrough.js';
import { permute } from './permute.js';
import { prelu } from './prelu.js';
import { rescaling } from './rescaling.js';
import { reshape } from './reshape.js';
import { resize2d } from './resize.js';
import { globalPooling2d, pooling2d } from './pooling.js';
import type { LayerRule } from './rule.js';
import { separableConv2d } from './separable.js';

const rules: LayerRule[] = [
  conv2d,
  conv2dTranspose,
  dense,
  depthwiseConv2d,
  groupedConv2d,
  separableConv2d,
  batchNormalization,
  layerNormalization,
  activation,
  relu,
  parametricActivations,
  prelu,
  softmax,
  pooling2d,
  globalPooling2d,
  dropout,
  zeroPadding2d,
  cropping2d,
  upSampling2d,
  resize2d,
  rescaling,
  constantAffine,
  reshape,
  permute,
  channelSelect,
  flatten,
  elementwiseJoin,
  concatenate,
];

const byClass = new Map(rules.flatMap((r) => r.classes.map((c) => [c, r] as const)));

/** The rule of a layer class, or undefined when slimtrain does not know the class. */
export function ruleFor(className: string): LayerRule | undefined {
  return byClass.get(className);
}

/** Classes the analysis handles (InputLayer: the network's inputs). */
export const supportedLayerClasses: readonly string[] = ['InputLayer', ...byClass.keys()];

/** Classes ONNX export writes. */
export const exportableLayerClasses: readonly string[] = rules.filter((r) => r.onnx).flatMap((r) => r.classes);
