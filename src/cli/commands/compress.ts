// slimtrain compress: train once with a group-sparsity optimizer, remove the zero
// groups, check and save the slim model.
import { Option } from '@commander-js/extra-typings';
import { compressDefaults } from '../../compress/defaults.js';
import { distillDefaults } from '../../train/distill.js';
import { runCompressJob, type CompressJob, type CompressResult } from '../../compress/job.js';
import type { SpeedTargetResult } from '../../compress/types.js';
import { checkCompressJob, settingsIgnoredBy } from '../../compress/sparse_stage.js';
import { prepareOutputDir } from '../../io/output.js';
import { quantizations } from '../../io/quantize.js';
import { allocations } from '../../optim/allocation.js';
import { directionNames } from '../../optim/direction.js';
import { sparseMethods } from '../../optim/sparse.js';
import { beforeAfterTable, slowerNote, speedTable } from '../../report/tables.js';
import { agreementText, pct, sizeText, thousands } from '../../util/format.js';
import { formatTable } from '../../util/table.js';
import {
  dataSettings,
  MODEL_HELP,
  modelSpec,
  momentumSettings,
  number,
  options,
  trainingSettings,
  UsageError,
  trainingCommand,
} from '../options.js';
import { TerminalProgress } from '../progress.js';
import { printResult, startEngine, stoppable } from '../run.js';
import { runtimes } from '../../metrics/speed.js';

/** What to remove: one of three targets, and where a speed-up counts. */
const TARGET_OPTIONS = {
  sparsity: new Option(
    '--target-sparsity <s>',
    'fraction of groups to remove, in [0, 1) (dhspg, hesso; proxsg/hspg adapt lambda to it)',
  ).argParser(number('fraction')),
  macsRatio: new Option(
    '--target-macs-ratio <r>',
    'dense MACs / slim MACs to aim for, instead of --target-sparsity (dhspg, hesso; proxsg/hspg adapt lambda to it)',
  ).argParser(number('positive')),
  speedup: new Option(
    '--target-speedup <r>',
    'the slim model runs R times faster in --runtime at --speed-batch, predicted from per-layer latencies measured on this machine (instead of the other targets)',
  ).argParser(number('positive')),
  runtime: new Option('--runtime <name>', 'with --target-speedup: where the speed-up counts (default ort)').choices(runtimes),
  speedBatch: new Option('--speed-batch <n>', 'with --target-speedup: the batch size the speed-up counts at (default 64)').argParser(
    number('positive', true),
  ),
};

/** What a job starts from (the data and frozen layers are flags of every training command). */
const SOURCE_OPTIONS = {
  model: new Option('--model <name>', MODEL_HELP).argParser(modelSpec),
  from: new Option('--from <file>', "start from a user's trained model (model.json or .onnx) instead of random initialisation").argParser(
    modelSpec,
  ),
};

/** Learning from the original model or a teacher as well as, or instead of, the labels. */
const DISTILL_OPTIONS = {
  distill: new Option('--distill', 'learn from the original model (--from) as well as the labels: its outputs on each batch').default(
    false,
  ),
  distillOnly: new Option(
    '--distill-only',
    'learn from the original model only, no labels: images without class subfolders do (maps, boxes, embeddings: mean squared error)',
  ).default(false),
  distillWeight: new Option(
    '--distill-weight <w>',
    `the teacher's share of the loss, in (0, 1); the labels have the rest (default ${distillDefaults.weight})`,
  ).argParser(number('fraction')),
  temperature: new Option(
    '--temperature <t>',
    `softens the class scores the teacher term compares (default ${distillDefaults.temperature})`,
  ).argParser(number('positive')),
  teacher: new Option('--teacher <file>', 'distil from this model (model.json or .onnx) instead of the original').argParser(modelSpec),
};

/** Which group-sparse method, and the settings its spec reads. */
const METHOD_OPTIONS = {
  optimizer: new Option('--optimizer <name>', 'sparse optimizer').choices(sparseMethods).default(compressDefaults.method),
  lambda: new Option('--lambda <l>', 'group-lasso weight (l1 weight for obproxsg); with a target, where proxsg/hspg start adapting it')
    .argParser(number('non-negative'))
    .default(compressDefaults.lambda),
  epsilon: new Option('--epsilon <e>', 'hspg, dhspg: half-space threshold in [0, 1) (default 0)').argParser(number('fraction')),
  direction: new Option('--direction <name>', 'step direction').choices(directionNames).default('sgd' as const),
  switchEpoch: new Option(
    '--switch-epoch <e>',
    'hspg/obproxsg: epoch of the second stage (default: epochs/4); dhspg: epoch projections start (default: --prune-start)',
  ).argParser(number('non-negative')),
  penaltyEnd: new Option(
    '--penalty-end <e>',
    'proxsg/hspg: epoch at which the penalty stops; zero groups stay zero, the rest train on (with a target: the epoch by which it is met, default epochs/2)',
  ).argParser(number('non-negative')),
  pruneStart: new Option(
    '--prune-start <e>',
    'dhspg, hesso: epoch at which the groups to remove are first chosen (default: epochs/40)',
  ).argParser(number('non-negative')),
  pruneEnd: new Option('--prune-end <e>', 'dhspg, hesso: epoch by which the chosen groups are zero (default: 15% of the epochs)').argParser(
    number('non-negative'),
  ),
  allocation: new Option(
    '--allocation <a>',
    "with a target: 'global' (default) ranks all groups together, 'uniform' removes the same fraction of every layer",
  ).choices(allocations),
  prunePeriods: new Option(
    '--prune-periods <n>',
    'dhspg, hesso: split the pruning into N periods, each choosing and removing its share of the target (default 1)',
  ).argParser(number('positive', true)),
  weighting: new Option(
    '--weighting <w>',
    "proxsg/hspg/dhspg: lambda per group: 'uniform' (default), 'macs' (scaled by the MACs each group costs) or 'sqrt-macs' (the default of proxsg/hspg with --target-macs-ratio)",
  ).choices(['uniform', 'macs', 'sqrt-macs'] as const),
};

/** What comes out: a dense baseline beside it, the slim model's channels and storage, measurements, the folder. */
const OUTPUT_OPTIONS = {
  baseline: new Option('--baseline', 'also train the dense model with the same settings, for comparison').default(false),
  roundChannels: options.roundChannelsOrAuto(),
  noSpeed: new Option('--no-speed', 'skip measuring latency, throughput and file sizes of the sparse and slim models'),
  float16: new Option(
    '--float16',
    'also write DIR/slim-float16 with half-precision weights (as tfjs-converter --quantize_float16) and report its accuracy',
  ).default(false),
  quantize: new Option(
    '--quantize <how>',
    "how DIR/sparse and DIR/slim store weights: 'input' (default) as the model file given did (uint8, uint16, float16 or float32), 'none' (float32), or float16, uint8, uint16 for all",
  ).choices(['input', 'none', ...quantizations] as const),
  out: options.out(
    'write DIR/sparse, DIR/slim (model.json + weights.bin), DIR/slim.onnx, DIR/metrics.json and DIR/report.html, and a checkpoint every epoch in DIR/checkpoint',
  ),
};

const define = () =>
  trainingCommand('compress')
    .description('train once with a group-sparsity optimizer, remove the zero groups, check and save the slim model')
    .addOption(SOURCE_OPTIONS.model)
    .addOption(SOURCE_OPTIONS.from)
    .addOption(DISTILL_OPTIONS.distill)
    .addOption(DISTILL_OPTIONS.distillOnly)
    .addOption(DISTILL_OPTIONS.distillWeight)
    .addOption(DISTILL_OPTIONS.temperature)
    .addOption(DISTILL_OPTIONS.teacher)
    .addOption(METHOD_OPTIONS.optimizer)
    .addOption(METHOD_OPTIONS.lambda)
    .addOption(METHOD_OPTIONS.epsilon)
    .addOption(TARGET_OPTIONS.sparsity)
    .addOption(TARGET_OPTIONS.macsRatio)
    .addOption(TARGET_OPTIONS.speedup)
    .addOption(TARGET_OPTIONS.runtime)
    .addOption(TARGET_OPTIONS.speedBatch)
    .addOption(METHOD_OPTIONS.direction)
    .addOption(METHOD_OPTIONS.switchEpoch)
    .addOption(METHOD_OPTIONS.penaltyEnd)
    .addOption(METHOD_OPTIONS.pruneStart)
    .addOption(METHOD_OPTIONS.pruneEnd)
    .addOption(METHOD_OPTIONS.allocation)
    .addOption(METHOD_OPTIONS.prunePeriods)
    .addOption(options.freeze())
    .addOption(options.trainFrozen())
    .addOption(METHOD_OPTIONS.weighting)
    .addOption(OUTPUT_OPTIONS.baseline)
    .addOption(OUTPUT_OPTIONS.roundChannels)
    .addOption(OUTPUT_OPTIONS.noSpeed)
    .addOption(OUTPUT_OPTIONS.float16)
    .addOption(OUTPUT_OPTIONS.quantize)
    .addOption(OUTPUT_OPTIONS.out)
    .addOption(options.resume())
    .addOption(options.overwrite());

export type CompressOptions = ReturnType<ReturnType<typeof define>['opts']>;

/** A job setting as the flag that sets it. */
const FLAGS: Partial<Record<keyof CompressJob, string>> = {
  method: '--optimizer',
  penaltyEndEpoch: '--penalty-end',
  pruneStartEpoch: '--prune-start',
  pruneEndEpoch: '--prune-end',
};
const flagOf = (key: keyof CompressJob) => FLAGS[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The library job the flags describe (no training: unit-tested alone); refuses flags that would do nothing. */
export function compressJob(o: CompressOptions): CompressJob {
  const model = o.from ?? o.model;
  if (!model) throw new UsageError('compress needs --model (a zoo model) or --from (a model.json or .onnx file)');
  if (o.from && o.model) throw new UsageError('give --model (a zoo model) or --from (a model.json or .onnx file), not both');
  const distill = o.distill || o.distillOnly || o.teacher !== undefined;
  if (!distill && (o.distillWeight !== undefined || o.temperature !== undefined))
    throw new UsageError('--distill-weight and --temperature set distillation: add --distill (or --distill-only)');
  if (o.distillOnly && o.distillWeight !== undefined)
    throw new UsageError('--distill-only learns from the teacher alone: leave out --distill-weight');
  if (o.distillWeight === 0) throw new UsageError('--distill-weight 0 learns nothing from the teacher: leave out --distill instead');
  const job: CompressJob = {
    ...trainingSettings(o),
    ...momentumSettings(o),
    ...dataSettings(o),
    model,
    method: o.optimizer,
    lambda: o.lambda,
    epsilon: o.epsilon,
    direction: o.direction,
    switchEpoch: o.switchEpoch,
    penaltyEndEpoch: o.penaltyEnd,
    targetSparsity: o.targetSparsity,
    targetMacsRatio: o.targetMacsRatio,
    targetSpeedup: o.targetSpeedup,
    runtime: o.runtime,
    speedBatch: o.speedBatch,
    pruneStartEpoch: o.pruneStart,
    pruneEndEpoch: o.pruneEnd,
    prunePeriods: o.prunePeriods,
    allocation: o.allocation,
    freeze: o.freeze,
    trainFrozen: o.trainFrozen,
    weighting: o.weighting,
    baseline: o.baseline,
    measureSpeed: o.speed,
    roundChannels: o.roundChannels,
    float16: o.float16,
    quantize: o.quantize,
    out: o.out,
    resume: o.resume,
    ...(distill ? { distill, distillWeight: o.distillOnly ? 1 : o.distillWeight, temperature: o.temperature, teacher: o.teacher } : {}),
  };
  const ignored = settingsIgnoredBy(job);
  if (ignored.length) {
    throw new UsageError(
      `${ignored.map(flagOf).join(', ')}: not read by --optimizer ${job.method}; leave ${ignored.length > 1 ? 'them' : 'it'} out`,
    );
  }
  try {
    checkCompressJob(job, flagOf);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return job;
}

function summaryText(r: CompressResult, method: string): string {
  const lines = [
    `\n${formatTable(beforeAfterTable({ method, ...r }))}\n`,
    `${r.sparse.zeroGroups} of ${r.sparse.groups} groups exactly zero, ${r.removedGroups} removed; ` +
      `slim vs sparse outputs: max |diff| ${r.check.maxAbsDiff.toExponential(2)} (bound ${r.check.bound.toExponential(2)}), ` +
      `${r.predictionMismatches} test predictions differ; ${r.trainSeconds.toFixed(1)} s of sparse training; peak memory ${sizeText(r.peakMemory)}`,
    'MACs count convolutions and dense layers; "MACs /" is the dense-to-slim ratio (FLOPs reduction).',
  ];
  if (r.agreement) lines.push(`slim vs the teacher on the test images: ${agreementText(r.agreement)}`);
  if (r.speed) {
    lines.push(
      `\n${formatTable(speedTable({ label: `sparse (${method})`, speed: r.speed.sparse }, { label: 'slim', speed: r.speed.slim }, r.speed.speedUps))}`,
    );
    lines.push(
      `medians of 15 runs after 3 warm-up runs; ratios are speed-ups and how many times smaller; at batch ${r.speed.speedUps.batch} the speed-up is measured in alternating rounds until they agree within 10% (± half their range; noisy: over 20%)`,
    );
    const slower = slowerNote(r.speed.speedUps, r.speedTarget?.runtime);
    if (slower) lines.push(slower);
  }
  const checkedOn = (checked: SpeedTargetResult['checked']) =>
    checked
      ? `, checked on ${checked.length} whole slim models (tables ${checked.map((c) => `${c.predicted.toFixed(2)}x`).join(', ')}; measured ${checked.map((c) => `${c.measured.toFixed(2)}x`).join(', ')})`
      : '';
  if (r.speedTarget) {
    const t = r.speedTarget;
    const where = `${t.runtime === 'ort' ? 'ONNX Runtime' : 'TensorFlow.js'} at batch ${t.batch}`;
    const asked =
      t.target === undefined
        ? ''
        : `speed-up asked ${t.target}x, predicted ${t.predicted!.toFixed(2)}x from the latency tables (${where})${checkedOn(t.checked)}; `;
    const tried = t.tried.map((x) => `${x.roundTo}: ${x.ms.toFixed(3)} ms`).join(', ');
    lines.push(`${asked}channels kept in multiples of ${t.roundTo}, the fastest measured (${where}: ${tried})`);
  }
  if (r.float16) {
    const f = r.float16;
    lines.push(
      `float16 weights: test accuracy ${pct(f.accuracy)} (float32 ${pct(r.slim.accuracy)}), ${f.predictionMismatches} test predictions differ; ` +
        `weights ${thousands(f.weightBytes)} bytes (float32 ${thousands(f.float32WeightBytes)})`,
    );
  }
  if (r.written) {
    const w = r.written;
    const input = w.inputBytes === undefined ? '' : `; the input's ${thousands(w.inputBytes)}`;
    lines.push(
      `${w.quantization} weights as written: sparse ${thousands(w.sparseBytes)} bytes, slim ${thousands(w.slimBytes)}${input}; ` +
        `slim vs sparse files max |diff| ${w.check.maxAbsDiff.toExponential(2)} (bound ${w.check.bound.toExponential(2)}), ` +
        `test accuracy ${pct(w.accuracy)} (float32 ${pct(r.slim.accuracy)}), ${w.predictionMismatches} test predictions differ`,
    );
  }
  if (r.out)
    lines.push(`wrote ${[r.out.slim, r.out.sparse, r.out.float16, r.out.onnx, r.out.metrics, r.out.report].filter(Boolean).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function compressCommand() {
  return define().action(async (o) => {
    const job = compressJob(o);
    if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite, resume: o.resume });
    await startEngine(o);
    const callbacks = new TerminalProgress(o.epochs, o.quiet);
    const r = await stoppable((shouldStop) => runCompressJob({ ...job, shouldStop }, callbacks), o.out);
    const { slimModel: _slim, sparseModel: _sparse, ...serialisable } = r;
    printResult(o, serialisable, () => summaryText(r, job.method));
  });
}
