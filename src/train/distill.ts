// Distillation: the model in training learns from a teacher's outputs on the same
// batch (the original model, before compression, by default). With labels the
// teacher term is blended with the label loss; without (an unlabelled image folder)
// it is the whole loss, and a model is measured by how well it agrees with the
// teacher: the share of images whose top class is the teacher's, or for maps one
// minus the relative error (docs/DESIGN.md, "Distillation"). A model with several
// outputs (a detector's scores and boxes) learns each and is measured as maps.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batches } from '../data/batches.js';
import type { ImageSet, Normalization } from '../data/datasets.js';
import { outputKind, outputKinds, teacherLosses, type OutputKind } from './losses.js';
import { outputList } from '../util/shape.js';
import type { Agreement, EvalResult } from './metrics.js';
import { stepCounter, type ProgressListener } from '../util/progress.js';

export interface Distillation {
  /** a model with the student's input and output shapes; only read, never trained */
  teacher: tfl.LayersModel;
  /** the teacher term's share of the loss, in (0, 1]; the label loss has the rest (1 on unlabelled data) */
  weight: number;
  /** softens both class distributions (class outputs only) */
  temperature: number;
}

export const distillDefaults = { weight: 0.9, temperature: 4 } as const;

/** Teacher outputs cached per training image take at most this much memory; more are computed every step. */
const CACHE_BYTES = 512 * 2 ** 20;

/** How agreement with the teacher is measured: by top class for one class output; as maps otherwise. */
export const agreementKind = (model: tfl.LayersModel): OutputKind => (model.outputs.length > 1 ? 'map' : outputKind(model));

/** Refuses a teacher whose outputs cannot be compared with the student's. */
export function checkTeacher(student: tfl.LayersModel, teacher: tfl.LayersModel): void {
  const shape = (m: tfl.LayersModel, io: 'inputs' | 'outputs') => m[io].map((t) => JSON.stringify(t.shape.slice(1))).join(', ');
  for (const io of ['inputs', 'outputs'] as const) {
    if (shape(student, io) !== shape(teacher, io))
      throw new Error(
        `the teacher '${teacher.name}' has ${io} of shape ${shape(teacher, io)} but the model '${student.name}' ${shape(student, io)}: ` +
          'a teacher must take the same input and give outputs of the same shape',
      );
  }
}

/**
 * The teacher's outputs for a training batch, one tensor per output. Without
 * augmentation an image looks the same every epoch, so its outputs are computed once
 * and kept (when they fit in CACHE_BYTES); with augmentation they are computed on each
 * augmented batch.
 */
export class TeacherOutputs {
  /** each output's shape for one image, and its element count */
  private readonly shapes: number[][];
  private readonly perImage: number[];
  private readonly caches?: Float32Array[];
  private readonly cached?: Uint8Array;

  constructor(
    readonly distill: Distillation,
    images: number,
    augmented: boolean,
  ) {
    this.shapes = distill.teacher.outputs.map((o) => o.shape.slice(1) as number[]);
    this.perImage = this.shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
    const bytes = 4 * images * this.perImage.reduce((a, b) => a + b, 0);
    if (!augmented && bytes <= CACHE_BYTES) {
      this.caches = this.perImage.map((n) => new Float32Array(images * n));
      this.cached = new Uint8Array(images);
    }
  }

  /** `x` holds the images `indices` of the training set, in order (unknown: computed, not cached) */
  of(x: tf.Tensor, indices?: Int32Array): tf.Tensor[] {
    const { cached, perImage } = this;
    const caches = indices && this.caches;
    if (!indices || !caches) return outputList(this.distill.teacher.predict(x));
    if (indices.every((i) => cached![i])) {
      return caches.map((cache, k) => {
        const out = new Float32Array(indices.length * perImage[k]);
        indices.forEach((image, i) => out.set(cache.subarray(image * perImage[k], (image + 1) * perImage[k]), i * perImage[k]));
        return tf.tensor(out, [indices.length, ...this.shapes[k]]);
      });
    }
    const ys = outputList(this.distill.teacher.predict(x));
    ys.forEach((y, k) => {
      const values = y.dataSync() as Float32Array;
      indices.forEach((image, i) => caches[k].set(values.subarray(i * perImage[k], (i + 1) * perImage[k]), image * perImage[k]));
    });
    indices.forEach((image) => (cached![image] = 1));
    return ys;
  }
}

/** Sums over a set of what agreement needs, batch by batch. */
interface AgreementSums {
  images: number;
  /** class outputs: images whose top class is the teacher's */
  agree: number;
  /** maps: squared error and squared teacher output */
  error: number;
  norm: number;
}

/** `kind`: agreementKind's; maps are summed over every output */
function agreementSums(kind: OutputKind, students: tf.Tensor[], teachers: tf.Tensor[]): AgreementSums {
  return tf.tidy(() => {
    const images = students[0].shape[0];
    if (kind !== 'map') {
      const agree = tf.sum(tf.cast(tf.equal(tf.argMax(students[0], -1), tf.argMax(teachers[0], -1)), 'float32')).dataSync()[0];
      return { images, agree, error: 0, norm: 0 };
    }
    const error = tf.addN(students.map((s, k) => tf.sum(tf.squaredDifference(s, teachers[k])))).dataSync()[0];
    const norm = tf.addN(teachers.map((t) => tf.sum(tf.square(t)))).dataSync()[0];
    return { images, agree: 0, error, norm };
  });
}

function agreementOf(kind: OutputKind, s: AgreementSums): Agreement {
  if (kind !== 'map') return { metric: 'top-1 agreement', value: s.agree / Math.max(1, s.images), score: s.agree / Math.max(1, s.images) };
  const relative = Math.sqrt(s.error / Math.max(s.norm, 1e-30));
  return { metric: 'relative error', value: relative, score: Math.max(0, 1 - relative) };
}

/** How far a training batch's outputs agree with the teacher's, as a count of agreeing images (see Agreement.score). */
export function batchAgreement(kind: OutputKind, students: tf.Tensor[], teachers: tf.Tensor[]): number {
  const sums = agreementSums(kind, students, teachers);
  return agreementOf(kind, sums).score * sums.images;
}

/**
 * `model` (inference mode) against `teacher` over a whole image set: the teacher loss,
 * and the agreement as the accuracy. Predictions are the model's top classes
 * (class outputs; none for maps).
 */
export function evaluateAgainst(
  model: tfl.LayersModel,
  teacher: tfl.LayersModel,
  set: ImageSet,
  normalization: Normalization,
  temperature: number,
  batchSize = 256,
  onProgress?: ProgressListener,
): EvalResult {
  const kind = agreementKind(model);
  const tick = stepCounter(onProgress, `testing on ${set.count} images`, set.count);
  const loss = teacherLosses(outputKinds(model), temperature);
  const sums: AgreementSums = { images: 0, agree: 0, error: 0, norm: 0 };
  let lossSum = 0;
  const predictions = new Int32Array(kind === 'map' ? 0 : set.count);
  for (const batch of batches(set, { batchSize, normalization })) {
    tf.tidy(() => {
      const x = tf.tensor(batch.x, [batch.size, ...set.shape]);
      const s = outputList(model.predict(x));
      const t = outputList(teacher.predict(x));
      lossSum += loss(s, t).dataSync()[0] * batch.size;
      const b = agreementSums(kind, s, t);
      if (kind !== 'map') predictions.set(tf.argMax(s[0], -1).dataSync() as Int32Array, sums.images);
      sums.images += b.images;
      sums.agree += b.agree;
      sums.error += b.error;
      sums.norm += b.norm;
    });
    tick(batch.size);
  }
  const agreement = agreementOf(kind, sums);
  return { loss: lossSum / set.count, accuracy: agreement.score, count: set.count, predictions, agreement };
}
