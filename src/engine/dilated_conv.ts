// Training a dilated Conv2D. TensorFlow.js 4.22 computes the forward pass but refuses
// the gradient ("dilation rates greater than 1 are not yet supported in gradients").
// A dilated convolution is the plain convolution with the kernel spread out by
// zeros, whose gradients TensorFlow.js has; in training mode the layer takes that
// form (the gradient then reaches the kernel through the spreading). Inference keeps
// TensorFlow.js's own dilated kernel.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

interface ConvLayer {
  rank: number;
  dilationRate: number | number[];
  dataFormat: string;
  strides: number[];
  padding: 'same' | 'valid';
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}
type Call = (this: ConvLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor;

/** [kh, kw, ci, co] spread to [(kh-1)dh+1, (kw-1)dw+1, ci, co] with zeros between the taps */
export function spreadKernel(kernel: tf.Tensor, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = kernel.shape;
  let k = tf.reshape(kernel, [kh, 1, kw, 1, ci, co]);
  if (dh > 1) k = tf.concat([k, tf.zeros([kh, dh - 1, kw, 1, ci, co])], 1);
  if (dw > 1) k = tf.concat([k, tf.zeros([kh, dh, kw, dw - 1, ci, co])], 3);
  k = tf.reshape(k, [kh * dh, kw * dw, ci, co]);
  return tf.slice(k, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}

let patched = false;

export function patchDilatedConv2D(): void {
  if (patched) return;
  patched = true;
  const proto = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: Call };
  const original = proto.call;
  proto.call = function (this: ConvLayer, inputs, kwargs) {
    const rate = Array.isArray(this.dilationRate) ? this.dilationRate : [this.dilationRate, this.dilationRate];
    const dilated = rate.some((d) => d > 1);
    if (!kwargs?.training || !dilated || this.rank !== 2 || this.dataFormat !== 'channelsLast') return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const kernel = spreadKernel(this.kernel.read(), rate as [number, number]);
      let y: tf.Tensor = tf.conv2d(x, kernel, this.strides as [number, number], this.padding);
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activation ? this.activation.apply(y) : y;
    });
  };
}
