import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { buildZooModel, imagenetInputShape, zooNames } from '../src/models/zoo.js';

await initEngine({ backend: 'cpu' });

function trainableParams(m: tfl.LayersModel): number {
  return m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

const mnist = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };
const cifar = { inputShape: [32, 32, 3] as [number, number, number], numClasses: 10 };

// Trainable parameter counts from the literature and reference implementations:
// LeNet-5 61,706; the 300-100 MLP 266,610; ResNet-20 0.27M and ResNet-56 0.85M
// (He et al. 2016, with 1x1 projection shortcuts); CIFAR VGG16-BN 14,728,266 and
// VGG16 14,719,818 (the CIFAR form with one 512->10 classifier); VGG-small and
// ResNet-20 on 28x28x1 as measured in PyTorch (docs/DESIGN.md).
const published: [string, typeof mnist, number][] = [
  ['mlp', mnist, 266_610],
  ['lenet5', mnist, 61_706],
  ['vgg-small', mnist, 104_650],
  ['resnet20', mnist, 272_186],
  ['resnet20', cifar, 272_474],
  ['resnet56', cifar, 855_770],
  ['vgg16', cifar, 14_719_818],
  ['vgg16-bn', cifar, 14_728_266],
];

// The ImageNet architectures at 1000 classes against torchvision's counts (mobilenet_v2,
// resnet50, efficientnet_b0, densenet121) and Keras's for Inception-v3 (BN without scale;
// torchvision's inception_v3 without its auxiliary head has 23,834,568 with the scales)
const imagenet: [string, number][] = [
  ['mobilenetv2', 3_504_872],
  ['resnet50', 25_557_032],
  ['inceptionv3', 23_817_352],
  ['efficientnet-b0', 5_288_548],
  ['densenet121', 7_978_856],
];
for (const [name, count] of imagenet) {
  test(`${name} at ${imagenetInputShape(name)!.join('x')} with 1000 classes has ${count} trainable parameters`, () => {
    const m = buildZooModel(name, { inputShape: imagenetInputShape(name)!, numClasses: 1000 });
    assert.equal(trainableParams(m), count);
    assert.equal(m.outputs[0].shape[1], 1000);
    m.dispose();
  });
}

for (const [name, shape, count] of published) {
  test(`${name} on ${shape.inputShape.join('x')} has ${count} trainable parameters`, () => {
    const m = buildZooModel(name, shape);
    assert.equal(trainableParams(m), count);
    m.dispose();
  });
}

test('ResNet-20 and -56 are within 1% of the published 0.27M and 0.85M', () => {
  const r20 = buildZooModel('resnet20', cifar);
  const r56 = buildZooModel('resnet56', cifar);
  assert.ok(Math.abs(trainableParams(r20) / 0.27e6 - 1) < 0.01);
  assert.ok(Math.abs(trainableParams(r56) / 0.85e6 - 1) < 0.01);
  assert.equal(r20.layers.filter((l) => l.getClassName() === 'Add').length, 9);
  assert.equal(r56.layers.filter((l) => l.getClassName() === 'Add').length, 27);
  r20.dispose();
  r56.dispose();
});

test('the MobileNetV2-style net has inverted residuals with depthwise convolutions', () => {
  const m = buildZooModel('mobilenetv2-small', cifar);
  const classes = m.layers.map((l) => l.getClassName());
  assert.equal(classes.filter((c) => c === 'DepthwiseConv2D').length, 9);
  assert.equal(classes.filter((c) => c === 'Add').length, 4);
  // expand 1x1 -> depthwise 3x3 -> project 1x1, as in the paper's table
  const expand = m.getLayer('block2_expand').getWeights()[0].shape;
  const dw = m.getLayer('block2_depthwise').getWeights()[0].shape;
  const project = m.getLayer('block2_project').getWeights()[0].shape;
  assert.deepEqual(expand, [1, 1, 16, 96]);
  assert.deepEqual(dw, [3, 3, 96, 1]);
  assert.deepEqual(project, [1, 1, 96, 24]);
  m.dispose();
});

test('every zoo model takes both input shapes, any class count, and gives logits', () => {
  for (const name of zooNames.filter((n) => !imagenetInputShape(n))) {
    for (const shape of name === 'mlp' ? [mnist] : [mnist, cifar]) {
      const m = buildZooModel(name, { ...shape, numClasses: 7 });
      const y = tf.tidy(() => m.predict(tf.ones([2, ...shape.inputShape])) as tf.Tensor);
      assert.deepEqual(y.shape, [2, 7], name);
      assert.equal((m.getLayer('predictions').getConfig() as { activation: string }).activation, 'linear');
      y.dispose();
      m.dispose();
    }
  }
});

test('the seed decides the initial weights', () => {
  const weights = (seed: number) => {
    const m = buildZooModel('lenet5', { ...mnist, seed });
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };
  assert.deepEqual(weights(0), weights(0)); // TensorFlow.js reads seed 0 as unseeded
  assert.deepEqual(weights(3), weights(3));
  assert.notDeepEqual(weights(3), weights(4));
});
