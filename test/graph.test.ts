import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { buildZooModel, imagenetInputShape, zooNames } from '../src/models/zoo.js';
import { zeroInvariantGroups, type ChannelGroup } from '../src/graph/groups.js';
import { countModel } from '../src/layers/count.js';
import { constructSlimModel } from '../src/slim/construct.js';
import { loadModel, saveModel } from '../src/io/model_files.js';
import { Rng } from '../src/util/random.js';
import { randomizeBatchNorm, slimHalf, zeroGroupsIn } from './helpers/groups.js';

await initEngine({ backend: 'cpu' });

const cifar = { inputShape: [32, 32, 3] as [number, number, number], numClasses: 10 };
const mnist = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };

const producers = (g: ChannelGroup) => g.channels.map((c) => c.layer).sort();

test('MACs and parameters match the reference numbers measured in PyTorch', () => {
  const vgg = countModel(buildZooModel('vgg-small', mnist));
  assert.equal(vgg.params, 104_650);
  assert.equal(vgg.macs, 7_462_656);
  const resnet = countModel(buildZooModel('resnet20', mnist));
  assert.equal(resnet.params, 272_186);
  assert.equal(resnet.macs, 31_021_952);
  // LeNet-5 by hand: conv1 28*28*25*6, conv2 10*10*25*6*16, then 400*120 + 120*84 + 84*10
  const lenet = countModel(buildZooModel('lenet5', mnist));
  assert.equal(lenet.macs, 28 * 28 * 25 * 6 + 10 * 10 * 150 * 16 + 400 * 120 + 120 * 84 + 84 * 10);
});

test('every zoo model partitions; prunable group counts are the channels and units outside the output layer', () => {
  // Prunable groups = channel families: every conv/dense output channel, minus the
  // classifier, with residual families counted once.
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // the inputs of EfficientNet-B0's fifteen expanding blocks (each a multiple of 4)
  const EFFICIENTNET_EXPANDED_INPUTS = sum([16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192]);
  const expected: Record<string, number> = {
    mlp: 300 + 100,
    lenet5: 6 + 16 + 120 + 84,
    'vgg-small': 32 + 64 + 128,
    vgg16: 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512,
    'vgg16-bn': 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512,
    resnet20: 3 * 16 + 3 * 32 + 3 * 64 + 16 + 32 + 64,
    resnet56: 9 * 16 + 9 * 32 + 9 * 64 + 16 + 32 + 64,
    // stem 32, head 256, expand convs, and one family per stage of projections
    'mobilenetv2-small': 32 + 256 + (96 + 144) + (144 + 192 + 192) + (192 + 384) + 384 + (16 + 24 + 32 + 64 + 96),
    // stem with the first depthwise, head, each expand conv (6x its block's input), one family per stage
    mobilenetv2:
      32 + 1280 + 6 * sum([16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160]) + sum([16, 24, 32, 64, 96, 160, 320]),
    // stem; each bottleneck's 1x1 and 3x3 on their own; one residual family per stage
    resnet50: 64 + 2 * sum([64 * 3, 128 * 4, 256 * 6, 512 * 3]) + sum([256, 512, 1024, 2048]),
    // every convolution's filters on their own: the BN scales torchvision has and Keras leaves out
    inceptionv3: 23_834_568 - 23_817_352,
    // as MobileNetV2, plus each squeeze-and-excitation reduction (a quarter of the block's input)
    'efficientnet-b0':
      32 +
      1280 +
      6 * EFFICIENTNET_EXPANDED_INPUTS +
      Math.floor((32 + EFFICIENTNET_EXPANDED_INPUTS) / 4) +
      sum([16, 24, 40, 80, 112, 192, 320]),
    // each dense layer's 1x1 (128) and 3x3 (32 new channels), the transitions, the stem
    densenet121: (6 + 12 + 24 + 16) * (128 + 32) + (128 + 256 + 512) + 64,
  };
  for (const name of zooNames) {
    const model = buildZooModel(name, {
      ...(imagenetInputShape(name) ? { inputShape: imagenetInputShape(name)! } : name === 'mlp' ? mnist : cifar),
      numClasses: 10,
    });
    const { groups } = zeroInvariantGroups(model);
    assert.equal(groups.filter((g) => g.prunable).length, expected[name], name);
    const blocked = groups.filter((g) => !g.prunable);
    assert.equal(blocked.length, 10, `${name}: only the 10 classifier units are unprunable`);
    assert.ok(blocked.every((g) => g.reasons.includes('produces the model output (predictions)')));
    model.dispose();
  }
});

test('ResNet residual ties: each stage is one family of the stem/shortcut conv and every block conv2', () => {
  for (const [name, blocks] of [
    ['resnet20', 3],
    ['resnet56', 9],
  ] as const) {
    const model = buildZooModel(name, cifar);
    const { groups } = zeroInvariantGroups(model);
    const stage1 = groups.filter((g) => producers(g).includes('conv1'));
    assert.equal(stage1.length, 16);
    const family1 = ['conv1', ...Array.from({ length: blocks }, (_, k) => `stage1_block${k + 1}_conv2`)].sort();
    for (const g of stage1) {
      assert.deepEqual(producers(g), family1);
      // the group holds the convs' output slices and their BNs' gamma and beta
      const roles = g.slices.map((s) => `${s.layer}/${s.role}`);
      assert.ok(roles.includes('conv1_bn/gamma') && roles.includes('stage1_block1_bn2/beta'));
      // consumers: block conv1s, the next stage's projection and first conv1
      const consumers = new Set(g.consumerSlices.map((s) => s.layer));
      assert.ok(
        consumers.has('stage1_block1_conv1') && consumers.has('stage2_block1_shortcut_conv') && consumers.has('stage2_block1_conv1'),
      );
    }
    const stage3 = groups.filter((g) => producers(g).includes('stage3_block1_shortcut_conv'));
    assert.equal(stage3.length, 64);
    assert.equal(producers(stage3[0]).length, blocks + 1);
    // the last stage feeds the classifier through global pooling: its rows are consumer slices
    assert.ok(stage3[0].consumerSlices.some((s) => s.layer === 'predictions' && s.axis === 0));
    // block conv1 channels stay on their own
    assert.equal(groups.filter((g) => producers(g).join() === 'stage2_block2_conv1').length, 32);
    model.dispose();
  }
});

test('MobileNetV2 depthwise ties: a depthwise kernel slice joins the group of the channel it filters', () => {
  const model = buildZooModel('mobilenetv2-small', cifar);
  const { groups } = zeroInvariantGroups(model);
  const expand = groups.filter((g) => producers(g).join() === 'block2_expand');
  assert.equal(expand.length, 96);
  for (const g of expand) {
    const j = g.channels[0].indices[0];
    const dw = g.slices.find((s) => s.layer === 'block2_depthwise')!;
    assert.deepEqual([dw.role, dw.axis, dw.indices], ['depthwise_kernel', 2, [j]]);
    assert.ok(g.slices.some((s) => s.layer === 'block2_depthwise_bn' && s.role === 'gamma' && s.indices[0] === j));
    assert.ok(g.consumerSlices.some((s) => s.layer === 'block2_project' && s.axis === 2 && s.indices[0] === j));
  }
  // the stem's channels reach block 1's depthwise conv directly
  const stem = groups.find((g) => producers(g).join() === 'stem_conv')!;
  assert.ok(stem.slices.some((s) => s.layer === 'block1_depthwise'));
  // identity shortcuts tie the projections of a stage
  assert.equal(groups.filter((g) => producers(g).join() === 'block4_project,block5_project,block6_project').length, 32);
  model.dispose();
});

test('flatten-to-dense: a conv channel owns its rows (h*W + w)*C + c of the dense kernel', () => {
  const model = buildZooModel('vgg-small', mnist);
  const { groups } = zeroInvariantGroups(model);
  const g = groups.find((x) => producers(x).join() === 'block3_conv' && x.channels[0].indices[0] === 5)!;
  const rows = g.consumerSlices.find((s) => s.layer === 'predictions')!;
  assert.deepEqual(
    rows.indices,
    Array.from({ length: 9 }, (_, p) => p * 128 + 5),
  );
  model.dispose();
});

test('unsupported layers name the layer, its class and the freeze option; freezing keeps the rest compressible', () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' }).apply(input) as tfl.SymbolicTensor;
  const r = tfl.layers.gaussianNoise({ stddev: 0.1, name: 'odd' }).apply(a) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(r) as tfl.SymbolicTensor;
  const h = tfl.layers.dense({ units: 5, name: 'hidden' }).apply(f) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(h) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  assert.throws(() => zeroInvariantGroups(model), /layer 'odd' has class GaussianNoise, .*--freeze odd/);
  const { groups } = zeroInvariantGroups(model, { freeze: ['odd'] });
  const conv = groups.filter((g) => producers(g).join() === 'a');
  assert.equal(conv.length, 4);
  assert.ok(conv.every((g) => !g.prunable && g.reasons.includes('feeds frozen layer odd')));
  assert.equal(groups.filter((g) => g.prunable && producers(g).join() === 'hidden').length, 5);
  assert.throws(() => zeroInvariantGroups(model, { freeze: ['nope'] }), /cannot freeze 'nope'/);
});

test('every unsupported layer is reported at once, with one --freeze that names them all', () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' }).apply(input) as tfl.SymbolicTensor;
  const p = tfl.layers.gaussianDropout({ rate: 0.1, name: 'swap' }).apply(a) as tfl.SymbolicTensor;
  const r = tfl.layers.gaussianNoise({ stddev: 0.1, name: 'odd' }).apply(p) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(r) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(f) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  assert.throws(
    () => zeroInvariantGroups(model),
    /2 layers are of classes slimtrain cannot analyse yet: layer 'swap' has class GaussianDropout; layer 'odd' has class GaussianNoise\. Mark them unprunable with --freeze swap,odd \(API: \{ freeze: \['swap', 'odd'\] \}\)/,
  );
  assert.throws(
    () => zeroInvariantGroups(model, { freeze: ['swap'] }),
    /layer 'odd' has class GaussianNoise, which slimtrain cannot analyse yet\. Mark it unprunable with --freeze odd/,
  );
  const { groups } = zeroInvariantGroups(model, { freeze: ['swap', 'odd'] });
  assert.ok(groups.every((g) => !g.prunable));
});

test('offsets are computed per channel: relu(x + 0.4) - 0.4 is zero at zero, and a tied channel keeps its own offset through a Concatenate', () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  const conv = (name: string, activation = 'linear') =>
    tfl.layers.conv2d({ name, filters: 3, kernelSize: 3, padding: 'same', activation: activation as 'linear' });
  const pass = (t: tfl.SymbolicTensor, n: number) => {
    for (let i = 0; i < n; i++) t = tfl.layers.dropout({ rate: 0 }).apply(t) as tfl.SymbolicTensor;
    return t;
  };
  // max(a, -0.4) as the ONNX import writes it: a channel of a zero group stays zero, and is prunable
  const a = conv('a').apply(input) as tfl.SymbolicTensor;
  const shifted = tfl.layers.rescaling({ scale: 1, offset: 0.4 }).apply(a) as tfl.SymbolicTensor;
  const clamped = tfl.layers.rescaling({ scale: 1, offset: -0.4 }).apply(tfl.layers.reLU().apply(shifted)) as tfl.SymbolicTensor;
  // b is tied to c by the Add; b is 0.5 at zero (sigmoid), c is -0.5 (a Rescaling), their sum 0. Side by
  // side in a Concatenate, a ReLU keeps b's 0.5 and makes c's 0, so the conv reading them must block b
  const b = conv('b', 'sigmoid').apply(input) as tfl.SymbolicTensor;
  const c = tfl.layers.rescaling({ scale: 1, offset: -0.5 }).apply(conv('c').apply(input)) as tfl.SymbolicTensor;
  const sum = tfl.layers.add().apply([b, c]) as tfl.SymbolicTensor;
  const side = tfl.layers.reLU().apply(tfl.layers.concatenate().apply([b, c])) as tfl.SymbolicTensor;
  // layers are visited by their depth from the output: pass-through layers after the Add put it (the tie) first
  const parts = [conv('d').apply(clamped) as tfl.SymbolicTensor, conv('e').apply(side) as tfl.SymbolicTensor, pass(sum, 4)];
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(tfl.layers.concatenate().apply(parts)) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(pooled) as tfl.SymbolicTensor });
  const partition = zeroInvariantGroups(model);
  const order = partition.graph.nodes.map((n) => n.className);
  assert.ok(order.indexOf('Add') < order.indexOf('Concatenate'), 'the tie comes before the Concatenate');
  const of = (layer: string) => partition.groups.filter((g) => g.channels.some((ch) => ch.layer === layer));
  assert.equal(of('a').length, 3);
  assert.ok(
    of('a').every((g) => g.prunable),
    'max(a, -0.4) is zero at zero',
  );
  assert.ok(of('b').length > 0 && of('b').every((g) => !g.prunable && g.reasons.some((r) => /sigmoid/.test(r))), 'relu(0.5) reaches e');
});

test('activations that are not zero at zero block their channels, with the reason', () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 3, inputShape: [4], activation: 'sigmoid', name: 's' }),
      tfl.layers.dense({ units: 3, activation: 'tanh', name: 't' }),
      tfl.layers.dense({ units: 2, name: 'o' }),
    ],
  });
  const { groups } = zeroInvariantGroups(model);
  const byLayer = (l: string) => groups.filter((g) => producers(g).join() === l);
  assert.ok(byLayer('s').every((g) => !g.prunable && /activation 'sigmoid' of s/.test(g.reasons[0])));
  assert.ok(byLayer('t').every((g) => g.prunable));
});

// ---- property: random architectures, random zero groups, exact slim models ----

type Op =
  | {
      kind: 'conv';
      filters: number;
      kernel: 1 | 3;
      stride: 1 | 2;
      dilation: 1 | 2;
      bias: boolean;
      bn: boolean;
      act: 'relu' | 'linear' | 'elu';
    }
  | { kind: 'depthwise'; multiplier: 1 | 2; bn: boolean }
  | { kind: 'separable'; filters: number; multiplier: 1 | 2 }
  | { kind: 'residual'; projection: boolean; filters: number; bn: boolean; join: 'add' | 'multiply' | 'average' | 'maximum' }
  | {
      kind: 'layer';
      which: 'leakyReLU' | 'elu' | 'reLU' | 'dropout' | 'zeroPadding2d' | 'prelu' | 'rescaling' | 'upSampling2d' | 'cropping2d';
    }
  | { kind: 'se'; squeeze: number }
  | { kind: 'concat'; a: number; b: number }
  | { kind: 'pool'; max: boolean; same: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('conv' as const),
    filters: fc.integer({ min: 1, max: 6 }),
    kernel: fc.constantFrom(1 as const, 3 as const),
    stride: fc.constantFrom(1 as const, 2 as const),
    dilation: fc.constantFrom(1 as const, 2 as const),
    bias: fc.boolean(),
    bn: fc.boolean(),
    act: fc.constantFrom('relu' as const, 'linear' as const, 'elu' as const),
  }),
  fc.record({ kind: fc.constant('depthwise' as const), multiplier: fc.constantFrom(1 as const, 2 as const), bn: fc.boolean() }),
  fc.record({
    kind: fc.constant('separable' as const),
    filters: fc.integer({ min: 1, max: 5 }),
    multiplier: fc.constantFrom(1 as const, 2 as const),
  }),
  fc.record({
    kind: fc.constant('residual' as const),
    projection: fc.boolean(),
    filters: fc.integer({ min: 1, max: 5 }),
    bn: fc.boolean(),
    join: fc.constantFrom('add' as const, 'multiply' as const, 'average' as const, 'maximum' as const),
  }),
  fc.record({
    kind: fc.constant('layer' as const),
    which: fc.constantFrom(
      'leakyReLU' as const,
      'elu' as const,
      'reLU' as const,
      'dropout' as const,
      'zeroPadding2d' as const,
      'prelu' as const,
      'rescaling' as const,
      'upSampling2d' as const,
      'cropping2d' as const,
    ),
  }),
  fc.record({ kind: fc.constant('se' as const), squeeze: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('concat' as const), a: fc.integer({ min: 1, max: 4 }), b: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('pool' as const), max: fc.boolean(), same: fc.boolean() }),
);

const specArb = fc.record({
  side: fc.integer({ min: 3, max: 7 }),
  channels: fc.integer({ min: 1, max: 3 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 6 }),
  head: fc.constantFrom('flatten', 'gap', 'gmp', 'flatten-hidden'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  zeroFraction: fc.double({ min: 0, max: 1, noNaN: true }),
});

type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never;

function buildRandomModel(spec: Spec): tfl.LayersModel {
  let serial = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: spec.seed * 100 + ++serial });
  const input = tfl.input({ shape: [spec.side, spec.side, spec.channels] });
  let y = input;
  let side = spec.side;
  let c = spec.channels;
  const conv = (x: tfl.SymbolicTensor, filters: number, kernel: number, stride: number, bias = true, act = 'linear', dilation = 1) =>
    tfl.layers
      .conv2d({
        filters,
        kernelSize: kernel,
        strides: stride,
        dilationRate: dilation,
        padding: 'same',
        useBias: bias,
        activation: act as 'relu',
        kernelInitializer: init(),
        biasInitializer: init(),
      })
      .apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor) =>
    tfl.layers.batchNormalization({ gammaInitializer: init(), betaInitializer: init() }).apply(x) as tfl.SymbolicTensor;
  for (const op of spec.ops) {
    switch (op.kind) {
      case 'conv': {
        // TensorFlow.js convolutions take a dilation only with stride 1
        const stride = side >= 2 && op.dilation === 1 ? op.stride : 1;
        y = conv(y, op.filters, op.kernel, stride, op.bias, op.act, op.dilation);
        if (op.bn) y = bn(y);
        side = Math.ceil(side / stride);
        c = op.filters;
        break;
      }
      case 'depthwise':
        y = tfl.layers
          .depthwiseConv2d({
            kernelSize: 3,
            depthMultiplier: op.multiplier,
            padding: 'same',
            depthwiseInitializer: init(),
            biasInitializer: init(),
          })
          .apply(y) as tfl.SymbolicTensor;
        if (op.bn) y = bn(y);
        c *= op.multiplier;
        break;
      case 'separable':
        y = tfl.layers
          .separableConv2d({
            filters: op.filters,
            kernelSize: 3,
            depthMultiplier: op.multiplier,
            padding: 'same',
            depthwiseInitializer: init(),
            pointwiseInitializer: init(),
            biasInitializer: init(),
          })
          .apply(y) as tfl.SymbolicTensor;
        c = op.filters;
        break;
      case 'residual': {
        const filters = op.projection ? op.filters : c;
        let body = conv(y, filters, 3, 1, true, 'relu');
        if (op.bn) body = bn(body);
        const shortcut = op.projection ? conv(y, filters, 1, 1, false) : y;
        y = tfl.layers[op.join]().apply([body, shortcut]) as tfl.SymbolicTensor;
        y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
        c = filters;
        break;
      }
      case 'concat':
        y = tfl.layers.concatenate().apply([conv(y, op.a, 1, 1), conv(y, op.b, 3, 1, true, 'relu')]) as tfl.SymbolicTensor;
        c = op.a + op.b;
        break;
      case 'se': {
        // squeeze and excitation: GAP -> Dense -> Dense(sigmoid) -> Reshape([1, 1, C]) -> Multiply
        let s = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
        s = tfl.layers
          .dense({ units: op.squeeze, activation: 'relu', kernelInitializer: init(), biasInitializer: init() })
          .apply(s) as tfl.SymbolicTensor;
        s = tfl.layers
          .dense({ units: c, activation: 'sigmoid', kernelInitializer: init(), biasInitializer: init() })
          .apply(s) as tfl.SymbolicTensor;
        s = tfl.layers.reshape({ targetShape: [1, 1, c] }).apply(s) as tfl.SymbolicTensor;
        y = tfl.layers.multiply().apply([y, s]) as tfl.SymbolicTensor;
        break;
      }
      case 'layer':
        if (op.which === 'zeroPadding2d') {
          y = tfl.layers.zeroPadding2d({ padding: 1 }).apply(y) as tfl.SymbolicTensor;
          side += 2;
        } else if (op.which === 'upSampling2d') {
          if (side > 8) break;
          y = tfl.layers.upSampling2d({ size: [2, 2] }).apply(y) as tfl.SymbolicTensor;
          side *= 2;
        } else if (op.which === 'cropping2d') {
          if (side < 4) break;
          y = tfl.layers
            .cropping2D({
              cropping: [
                [1, 0],
                [0, 1],
              ],
            })
            .apply(y) as tfl.SymbolicTensor;
          side -= 1;
        } else if (op.which === 'prelu') {
          y = tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: init() }).apply(y) as tfl.SymbolicTensor;
        } else if (op.which === 'rescaling') {
          y = tfl.layers.rescaling({ scale: 1.5, offset: (spec.seed % 2) * 0.5 }).apply(y) as tfl.SymbolicTensor;
        } else if (op.which === 'dropout') {
          y = tfl.layers.dropout({ rate: 0.5 }).apply(y) as tfl.SymbolicTensor;
        } else {
          y = tfl.layers[op.which]({}).apply(y) as tfl.SymbolicTensor;
        }
        break;
      case 'pool':
        if (side < 2) break;
        y = (op.max ? tfl.layers.maxPooling2d : tfl.layers.averagePooling2d)({ poolSize: 2, padding: op.same ? 'same' : 'valid' }).apply(
          y,
        ) as tfl.SymbolicTensor;
        side = op.same ? Math.ceil(side / 2) : Math.floor(side / 2);
        break;
    }
  }
  if (spec.head === 'gap') y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  else if (spec.head === 'gmp') y = tfl.layers.globalMaxPooling2d({}).apply(y) as tfl.SymbolicTensor;
  else y = tfl.layers.flatten().apply(y) as tfl.SymbolicTensor;
  if (spec.head === 'flatten-hidden')
    y = tfl.layers
      .dense({ units: 4, activation: 'relu', kernelInitializer: init(), biasInitializer: init() })
      .apply(y) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, kernelInitializer: init() }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

test('property: 200 random architectures (chains, residual joins, concatenations, depthwise and separable convs, BN, pooling, SE gates, PReLU, rescaling, cropping, upsampling, heads), random zero groups -> the slim model computes the same and has the predicted size', async () => {
  await fc.assert(
    fc.asyncProperty(specArb, async (spec) => {
      const model = buildRandomModel(spec);
      randomizeBatchNorm(model, spec.seed);
      const partition = zeroInvariantGroups(model);
      const rng = new Rng(spec.seed);
      const chosen = partition.groups.filter((g) => g.prunable && rng.next() < spec.zeroFraction);
      zeroGroupsIn(model, chosen);
      const result = await constructSlimModel(model, { partition }); // throws when outputs differ
      try {
        // all chosen groups go, except one kept per layer that would lose every channel
        assert.ok(result.removed.every((g) => chosen.includes(g)));
        const layers = new Set(chosen.flatMap((g) => g.channels.map((c) => c.layer)));
        assert.ok(result.removed.length >= chosen.length - layers.size);
        assert.equal(result.after.params, result.before.params - result.predictedSavings.params);
        assert.equal(result.after.macs, result.before.macs - result.predictedSavings.macs);
        assert.ok(result.check.maxAbsDiff <= result.check.bound);
      } finally {
        result.model.dispose();
        model.dispose();
      }
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 200), seed: Number(process.env.PROPERTY_SEED ?? 20201110) },
  );
});

test('the check catches a slim model that is not equivalent', async () => {
  // a group that is NOT zero, removed anyway: only its bias is checked and zeroed,
  // its kernel slice is listed with the sliced-but-unchecked statistics
  const model = buildZooModel('lenet5', { ...mnist, seed: 2 });
  const partition = zeroInvariantGroups(model);
  const g = partition.groups.find((x) => x.prunable)!;
  const fake = {
    ...g,
    slices: g.slices.filter((s) => s.role === 'bias'),
    statSlices: [...g.statSlices, ...g.slices.filter((s) => s.role !== 'bias')],
  };
  zeroGroupsIn(model, [fake]);
  await assert.rejects(
    constructSlimModel(model, { partition: { ...partition, groups: [fake] } }),
    /the slim model's outputs differ from the sparse model's by up to/,
  );
  model.dispose();
});

test('a slim model saved as model.json loads with tf.loadLayersModel and predicts the same', async () => {
  const model = buildZooModel('resnet20', { inputShape: [16, 16, 3], numClasses: 5, seed: 4 });
  randomizeBatchNorm(model, 4);
  const partition = zeroInvariantGroups(model);
  const rng = new Rng(8);
  zeroGroupsIn(
    model,
    partition.groups.filter((g) => g.prunable && rng.next() < 0.4),
  );
  const slim = await constructSlimModel(model, { partition });
  assert.ok(slim.after.macs < slim.before.macs * 0.8);
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-slim-'));
  const path = await saveModel(slim.model, dir);
  const loaded = await loadModel(path);
  const x = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 5);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (loaded.model.predict(x) as tf.Tensor).dataSync();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${i}: ${v} vs ${b[i]}`));
  assert.equal(countModel(loaded.model).params, slim.after.params);
  tf.dispose(x);
});

test('slim models build and run on the wasm backend too', async () => {
  await tf.setBackend('wasm');
  try {
    const model = buildZooModel('lenet5', { ...mnist, seed: 1 });
    const partition = zeroInvariantGroups(model);
    const slim = await slimHalf(model, partition, new Rng(3));
    assert.ok(slim.after.macs < slim.before.macs);
    slim.model.dispose();
    model.dispose();
  } finally {
    await tf.setBackend('cpu');
  }
});

test('--round-channels: every slimmed layer keeps a multiple of N channels (or all), outputs unchanged', async () => {
  const model = buildZooModel('resnet20', { inputShape: [12, 12, 3], numClasses: 5, seed: 6 });
  randomizeBatchNorm(model, 6);
  const partition = zeroInvariantGroups(model);
  const rng = new Rng(9);
  zeroGroupsIn(
    model,
    partition.groups.filter((g) => g.prunable && rng.next() < 0.7),
  );
  const plain = await constructSlimModel(model, { partition });
  const rounded = await constructSlimModel(model, { partition, roundTo: 8 }); // throws if outputs differ
  const width = (m: tfl.LayersModel, name: string) => (m.getLayer(name).outputShape as number[]).at(-1)!;
  let roundedSomething = false;
  for (const layer of model.layers.filter((l) => l.getClassName() === 'Conv2D')) {
    const full = width(model, layer.name);
    const kept = width(rounded.model, layer.name);
    assert.ok(kept === full || kept % 8 === 0, `${layer.name}: ${kept} of ${full} channels`);
    assert.ok(kept >= width(plain.model, layer.name));
    if (kept !== width(plain.model, layer.name)) roundedSomething = true;
  }
  assert.ok(roundedSomething, 'the test zeroed widths that needed rounding');
  assert.ok(plain.after.macs < rounded.after.macs && rounded.after.macs < rounded.before.macs);
  plain.model.dispose();
  rounded.model.dispose();
  model.dispose();
});
