// How a long step (decoding images, timing layers, measuring speed, checking an
// import) tells its caller how far it has got, so that a terminal can draw a bar.

/** `done` of `total` units of `step`; a step's last report has done === total. */
export interface StepProgress {
  step: string;
  done: number;
  total: number;
}

/**
 * Receives StepProgress. It may throw to abort the step: a job's listener throws
 * TrainingStopped once it is asked to stop, so that Ctrl-C ends decoding and timing
 * as it ends training.
 */
export type ProgressListener = (p: StepProgress) => void;

/** A counter for one step of `total` units: each call adds `n` done units and reports the count. */
export function stepCounter(listener: ProgressListener | undefined, step: string, total: number): (n?: number) => void {
  let done = 0;
  return (n = 1) => {
    done += n;
    listener?.({ step, done: Math.min(done, total), total });
  };
}

/** A run asked to stop (Ctrl-C, say) ended a step early; TrainingStopped is the case inside training. */
export class StopRequested extends Error {
  override name = 'StopRequested';
}

/** `listener` for a step that runs to its end (a test pass after training): a stop request is honoured after it. */
export function unstoppable(listener: ProgressListener | undefined): ProgressListener {
  return (p) => {
    try {
      listener?.(p);
    } catch (e) {
      if (!(e instanceof StopRequested)) throw e;
    }
  };
}

/** `listener`, which ends the step with StopRequested once `shouldStop` says so. */
export function stoppingProgress(listener: ProgressListener | undefined, shouldStop: (() => boolean) | undefined): ProgressListener {
  return (p) => {
    if (shouldStop?.()) throw new StopRequested(`stopped while ${p.step}`);
    listener?.(p);
  };
}
