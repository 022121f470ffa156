// Stage 4 of compress: the files of a run in OUT. sparse/ and slim/ (TensorFlow.js),
// slim.onnx (checked in ONNX Runtime before it is written), optionally
// slim-float16/ (reloaded and evaluated), metrics.json and report.html.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplits } from '../data/datasets.js';
import { exportOnnx, OnnxExportError } from '../export/onnx.js';
import { checkOnnx } from '../onnx/check.js';
import type { OnnxInterface } from '../onnx/interface.js';
import { loadModel, saveModel, WEIGHTS_FILE, type SlimtrainMetadata } from '../io/model_files.js';
import { writeFileAtomic, WriteError } from '../util/files.js';
import { gridsOf, type QuantizePlan } from '../io/quantize.js';
import { checkSlim } from '../slim/construct.js';
import { layerWidths, renderReport } from '../report/html.js';
import type { EvalResult } from '../train/metrics.js';
import type { Artifacts, CompressJob, CompressResult, Float16Figures, WrittenFigures } from './types.js';
import { countMismatches } from './slim_stage.js';

/** The files and folders of a run in OUT. */
const FILES = {
  sparse: 'sparse',
  slim: 'slim',
  onnx: 'slim.onnx',
  float16: 'slim-float16',
  metrics: 'metrics.json',
  report: 'report.html',
} as const;

/** how the run measures a model on the test split (train/loop.ts evaluateOnTest) */
type Measure = (model: tfl.LayersModel) => EvalResult;

/** slim-float16/: half-precision weights, reloaded and evaluated against the float32 slim model */
async function writeFloat16(
  slim: tfl.LayersModel,
  out: string,
  data: DataSplits,
  slimPredictions: Int32Array,
  measure: Measure,
): Promise<{ path: string; figures: Float16Figures }> {
  const path = await saveModel(
    slim,
    join(out, FILES.float16),
    { dataset: data.name, normalization: data.normalization },
    { quantize: 'float16' },
  );
  const { model: half } = await loadModel(path);
  const halfEval = measure(half);
  half.dispose();
  return {
    path,
    figures: {
      accuracy: halfEval.accuracy,
      loss: halfEval.loss,
      weightBytes: statSync(join(out, FILES.float16, WEIGHTS_FILE)).size,
      float32WeightBytes: statSync(join(out, FILES.slim, WEIGHTS_FILE)).size,
      predictionMismatches: countMismatches(slimPredictions, halfEval.predictions),
    },
  };
}

/** How sparse/ and slim/ store their weights: the job's choice, or as the input file had them. */
function quantizePlan(job: CompressJob, input: SlimtrainMetadata['weights']): QuantizePlan | undefined {
  const choice = job.quantize ?? 'input';
  if (choice === 'none') return undefined;
  if (choice !== 'input') return choice;
  const byName = new Map(Object.entries(input?.quantization ?? {}));
  return byName.size > 0 ? byName : undefined;
}

/**
 * sparse/ and slim/ with quantized weights: the slim model on the sparse model's
 * grids, so that the files agree as the float models do; both reloaded and compared,
 * and the slim file evaluated.
 */
async function writeQuantized(
  out: string,
  plan: QuantizePlan,
  models: { sparse: tfl.LayersModel; slim: tfl.LayersModel; slimPredictions: Int32Array; inputBytes?: number },
  metadata: SlimtrainMetadata,
  measure: Measure,
): Promise<{ sparse: string; slim: string; figures: WrittenFigures }> {
  const grids = gridsOf(models.sparse, plan);
  const sparse = await saveModel(models.sparse, join(out, FILES.sparse), metadata, { quantize: plan, grids });
  const slim = await saveModel(models.slim, join(out, FILES.slim), metadata, { quantize: plan, grids });
  const written = await Promise.all([loadModel(sparse), loadModel(slim)]);
  try {
    const check = checkSlim(written[0].model, written[1].model, {}, 'the quantized files do not agree');
    const slimEval = measure(written[1].model);
    const kinds = new Set(typeof plan === 'string' ? [plan] : plan.values());
    return {
      sparse,
      slim,
      figures: {
        quantization: kinds.size === 1 ? [...kinds][0] : 'as input',
        inputBytes: models.inputBytes,
        sparseBytes: statSync(join(out, FILES.sparse, WEIGHTS_FILE)).size,
        slimBytes: statSync(join(out, FILES.slim, WEIGHTS_FILE)).size,
        check,
        accuracy: slimEval.accuracy,
        predictionMismatches: countMismatches(models.slimPredictions, slimEval.predictions),
      },
    };
  } finally {
    for (const w of written) w.model.dispose();
  }
}

/**
 * Writes the run's files into `out`; adds the float16 and quantized figures to
 * `result` when there are any. All or none: when one cannot be written, those
 * already written go too, and the run's checkpoint (which holds the trained run)
 * is what remains.
 */
export async function writeArtifacts(...args: Parameters<typeof writeFiles>): Promise<Artifacts> {
  const out = args[0];
  try {
    return await writeFiles(...args);
  } catch (e) {
    for (const name of Object.values(FILES)) rmSync(join(out, name), { recursive: true, force: true });
    if (!(e instanceof WriteError)) throw e;
    throw e.withContext(
      `None of the run's files were left in ${out}. Training is done and saved in ${join(out, 'checkpoint')}: ` +
        'once the disk takes them, the same command with --resume writes the files without training again',
    );
  }
}

async function writeFiles(
  out: string,
  job: CompressJob,
  data: DataSplits,
  models: {
    sparse: tfl.LayersModel;
    slim: tfl.LayersModel;
    slimPredictions: Int32Array;
    /** how the run measures a model on the test split */
    measure: Measure;
    onnx?: OnnxInterface;
    /** the model file given: its weights' bytes and quantization */
    input?: SlimtrainMetadata['weights'];
  },
  result: CompressResult,
  onStage?: (message: string) => void,
): Promise<Artifacts> {
  // a model imported from ONNX goes back with its own interface: same names, NCHW
  const onnxBytes = exportOnnx(models.slim, { interface: models.onnx });
  await checkOnnx(models.slim, onnxBytes, { interface: models.onnx }).catch((e: Error) => {
    throw new OnnxExportError(`slim.onnx: ${e.message}: the export is wrong, nothing was written (please report it with the model)`);
  });
  const metadata = { dataset: data.name, normalization: data.normalization, onnx: models.onnx };
  const plan = quantizePlan(job, models.input);
  let sparse: string;
  let slim: string;
  if (plan) {
    onStage?.('quantized weights: saving, reloading, checking');
    const written = await writeQuantized(out, plan, { ...models, inputBytes: models.input?.bytes }, metadata, models.measure);
    ({ sparse, slim } = written);
    result.written = written.figures;
  } else {
    sparse = await saveModel(models.sparse, join(out, FILES.sparse), metadata);
    slim = await saveModel(models.slim, join(out, FILES.slim), metadata);
  }
  const onnx = join(out, FILES.onnx);
  writeFileAtomic(onnx, onnxBytes);
  let float16: string | undefined;
  if (job.float16) {
    onStage?.('float16 weights: saving, reloading, evaluating');
    const written = await writeFloat16(models.slim, out, data, models.slimPredictions, models.measure);
    float16 = written.path;
    result.float16 = written.figures;
  }
  const metrics = join(out, FILES.metrics);
  const { slimModel: _slim, sparseModel: _sparse, ...serialisable } = result;
  writeFileAtomic(metrics, `${JSON.stringify({ job, ...serialisable }, null, 2)}\n`);
  const report = join(out, FILES.report);
  const { shouldStop: _s, resume: _r, ...config } = job;
  writeFileAtomic(
    report,
    renderReport({
      ...result,
      title: `${job.model} on ${data.name}, ${job.method}`,
      method: job.method,
      config: config as Record<string, unknown>,
      layers: layerWidths(models.sparse, models.slim),
    }),
  );
  return { sparse, slim, onnx, metrics, report, float16 };
}
