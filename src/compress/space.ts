// What a compress run writes into its --out folder, at most, so that a run that
// cannot fit is refused before training rather than after it (io/output.ts).
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PlannedWrite } from '../io/output.js';
import { slotsPerVariable } from '../optim/direction.js';
import { checkpointSize } from '../train/checkpoint.js';
import { compressDefaults } from './defaults.js';
import type { CompressJob } from './types.js';

/** bytes per weight in sparse/ and slim/ */
function storedBytes(job: CompressJob, inputBytesPerWeight: number | undefined): number {
  switch (job.quantize ?? 'input') {
    case 'uint8':
      return 1;
    case 'uint16':
    case 'float16':
      return 2;
    case 'input':
      return inputBytesPerWeight ?? 4;
    default:
      return 4;
  }
}

/**
 * The files of a compress run on `model`, each as large as it can become: the slim
 * model's files are priced at the sparse model's size, as nothing is removed yet.
 * `inputBytes`: the weights' bytes in the model file given (its quantization).
 */
export function compressWrites(job: CompressJob, model: tfl.LayersModel, inputBytes?: number): PlannedWrite[] {
  const params = model.countParams();
  const momentum = job.momentum ?? compressDefaults.momentum;
  const checkpoint = checkpointSize(model, slotsPerVariable({ direction: job.direction, momentum }));
  const stored = params * storedBytes(job, inputBytes === undefined ? undefined : inputBytes / params);
  const writes: (PlannedWrite | false | undefined)[] = [
    job.baseline && { what: 'dense baseline checkpoint', bytes: checkpointSize(model, slotsPerVariable({ momentum })) },
    { what: 'old and new checkpoint', bytes: 2 * checkpoint },
    { what: 'sparse and slim models', bytes: 2 * stored },
    { what: 'slim.onnx', bytes: 4 * params },
    job.float16 && { what: 'slim-float16', bytes: 2 * params },
    { what: 'metrics and report', bytes: 1 << 20 },
  ];
  return writes.filter((w): w is PlannedWrite => !!w);
}
