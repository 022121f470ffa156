// The model corpus (helpers/corpus.ts): architectures as users build them. For each:
// analyse; zero a seeded random half of the prunable groups; slim; the slim model's
// outputs equal the sparse model's within float32 round-off and its parameter and
// MAC counts equal the predicted ones; the dense and the slim model export to ONNX
// and ONNX Runtime agrees; a few training steps run and change the weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { flattenModel } from '../src/io/flatten.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { Sgd } from '../src/optim/dense.js';
import { trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { corpus } from './helpers/corpus.js';
import { halfZeroedSlim, randomizeBatchNorm } from './helpers/groups.js';

await initEngine({ announce: false });

/** three SGD steps on the mean square of every output (the models' heads differ); true when weights moved */
function trainSteps(model: tfl.LayersModel, rng: Rng): boolean {
  const variables = trainableVariables(model);
  const before = variables.map((v) => v.dataSync().slice());
  const optimizer = new Sgd({ momentum: 0.9 });
  for (let s = 0; s < 3; s++) {
    tf.tidy(() => {
      const xs = model.inputs.map((i) =>
        tf.tensor(
          Float32Array.from({ length: 4 * 16 * 16 * 3 }, () => rng.normal()),
          [4, ...(i.shape.slice(1) as number[])],
        ),
      );
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor | tf.Tensor[];
        return tf.addN((Array.isArray(out) ? out : [out]).map((o) => tf.mean(tf.square(o)))) as tf.Scalar;
      }, variables);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      optimizer.step(
        variables,
        variables.map((v) => grads[v.name]),
        0.01,
      );
    });
  }
  optimizer.dispose();
  return variables.some((v, i) => v.dataSync().some((x, k) => x !== before[i][k]));
}

corpus.forEach((entry, n) => {
  test(`corpus: ${entry.name}`, async (t) => {
    const model = await flattenModel(entry.build());
    randomizeBatchNorm(model, n + 1);
    const partition = zeroInvariantGroups(model);
    const prunable = partition.groups.filter((g) => g.prunable);
    assert.ok(prunable.length > 0, 'something to compress');
    const rng = new Rng(n + 7);
    const { slim, onnxMaxAbsDiff } = await halfZeroedSlim(model, partition, rng);
    assert.ok(trainSteps(slim.model, rng), 'training changed the weights');
    t.diagnostic(
      `| ${entry.name} | ${model.layers.length} | ${partition.groups.length} | ${prunable.length} | ` +
        `${slim.before.params} -> ${slim.after.params} | ${slim.check.maxAbsDiff.toExponential(1)} | ${onnxMaxAbsDiff.toExponential(1)} |`,
    );
    slim.model.dispose();
    model.dispose();
  });
});

test('the corpus holds at least 30 architectures', () => {
  assert.ok(corpus.length >= 30, `${corpus.length} architectures`);
});
