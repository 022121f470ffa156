// What training reports: per batch, per epoch, and an evaluation.

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
  /** the predicted class of every image */
  predictions: Int32Array;
}

export interface EpochMetrics {
  epoch: number;
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
}
