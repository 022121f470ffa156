// What training reports: per batch, per epoch, and an evaluation.
import type { ProgressListener } from '../util/progress.js';

/**
 * How well a model's outputs agree with a teacher's over a set: the share of images
 * with the teacher's top class (class outputs), or the relative error
 * sqrt(sum (s - t)^2 / sum t^2) (maps). `score` is the share, or 1 minus the error
 * (at least 0): where a run has no labels it stands in for the accuracy.
 */
export interface Agreement {
  metric: 'top-1 agreement' | 'relative error';
  value: number;
  score: number;
}

export interface EvalResult {
  loss: number;
  /** the share of images classified right; on unlabelled data the agreement's score */
  accuracy: number;
  count: number;
  /** the predicted class of every image */
  predictions: Int32Array;
  /** measured against a teacher (unlabelled data) */
  agreement?: Agreement;
}

export interface EpochMetrics {
  epoch: number;
  /** the accuracies are agreement with a teacher (unlabelled data, map outputs), not with labels */
  agreement?: boolean;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  images: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

export interface TrainCallbacks {
  onEpochBegin?(epoch: number, batches: number): void;
  onBatchEnd?(p: BatchProgress): void;
  onEpochEnd?(m: EpochMetrics): void;
  /** how far a long step (the test pass at an epoch's end, decoding, timing) has got */
  onProgress?: ProgressListener;
}

/** What a job reports: training's progress, and a line per stage. */
export interface JobCallbacks extends TrainCallbacks {
  onStage?(message: string): void;
}
