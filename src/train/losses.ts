// What training minimises: the label loss of a classifier, and the teacher loss of
// distillation (docs/DESIGN.md, "Distillation"). Which applies follows from what
// the model outputs: probabilities (a softmax at the end), logits, or anything else
// (maps, boxes, embeddings), which only a teacher can supervise.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type OutputKind = 'probabilities' | 'logits' | 'map';

/** an output computed by a softmax */
function isSoftmax(output: tfl.SymbolicTensor): boolean {
  const last = output.sourceLayer;
  const config = last.getConfig() as { activation?: string };
  return last.getClassName() === 'Softmax' || config.activation === 'softmax';
}

/**
 * Models that end in softmax give probabilities; the zoo's give logits. The loss
 * must match, or training silently optimises the wrong thing.
 */
export function outputsProbabilities(model: tfl.LayersModel): boolean {
  // outputs[0].sourceLayer, not outputLayers[0]: a Sequential model has no outputLayers
  return isSoftmax(model.outputs[0]);
}

/** A rank-2 output is a score per class; any other shape is a map. */
const kindOf = (output: tfl.SymbolicTensor): OutputKind =>
  output.shape.length !== 2 ? 'map' : isSoftmax(output) ? 'probabilities' : 'logits';

/** The kind of the model's (first) output. */
export const outputKind = (model: tfl.LayersModel): OutputKind => kindOf(model.outputs[0]);

/** The kind of each output: a detector has several (scores and boxes). */
export const outputKinds = (model: tfl.LayersModel): OutputKind[] => model.outputs.map(kindOf);

const logProbabilities = (probs: tf.Tensor) => tf.log(tf.clipByValue(probs, 1e-7, 1));

export function classificationLoss(model: tfl.LayersModel): (output: tf.Tensor, oneHot: tf.Tensor) => tf.Scalar {
  if (outputsProbabilities(model)) {
    return (probs, oneHot) => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities(probs)), -1))) as tf.Scalar;
  }
  return (logits, oneHot) => tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}

/**
 * How far a student's outputs are from its teacher's. Class scores: the KL divergence
 * of the student's distribution from the teacher's, both softened at `temperature`
 * and scaled by its square so that the gradients keep their size (Hinton et al.,
 * 2015). Maps: the mean squared error.
 */
export function teacherLoss(kind: OutputKind, temperature: number): (student: tf.Tensor, teacher: tf.Tensor) => tf.Scalar {
  if (kind === 'map') return (student, teacher) => tf.mean(tf.squaredDifference(student, teacher)) as tf.Scalar;
  // log-probabilities are logits too: softmax(log p / T) is p softened
  const logits = kind === 'probabilities' ? logProbabilities : (x: tf.Tensor) => x;
  return (student, teacher) => {
    const s = tf.logSoftmax(tf.div(logits(student), temperature));
    const t = tf.logSoftmax(tf.div(logits(teacher), temperature));
    const kl = tf.sum(tf.mul(tf.exp(t), tf.sub(t, s)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  };
}

/** The teacher loss of a model with outputs of `kinds`: the sum of each output's. */
export function teacherLosses(kinds: OutputKind[], temperature: number): (students: tf.Tensor[], teachers: tf.Tensor[]) => tf.Scalar {
  const losses = kinds.map((kind) => teacherLoss(kind, temperature));
  return (students, teachers) => tf.addN(losses.map((loss, k) => loss(students[k], teachers[k]))) as tf.Scalar;
}
