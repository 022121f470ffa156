// The `slimtrain` command: parses flags, calls the library, prints results.
// Usage errors exit with 2, failures of the job with 1.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { initEngine, backendNames } from '../engine/backend.js';
import { diagnose } from '../engine/doctor.js';
import { datasetNames } from '../data/datasets.js';
import { zooNames } from '../models/zoo.js';
import { optimizerNames, type OptimizerName } from '../train/optimizers.js';
import { scheduleNames, type ScheduleName } from '../train/schedules.js';
import { resolveModel, runEvalJob, runTrainJob } from '../train/job.js';
import { TrainingStopped } from '../train/loop.js';
import { analyzeModel } from '../graph/analyze.js';
import { runCompressJob } from '../compress/job.js';
import { constructSlimModel } from '../slim/construct.js';
import { runMagnitudePruneJob } from '../compress/magnitude.js';
import { sparseMethods, type SparseMethod } from '../optim/sparse.js';
import { analysisToDot } from '../report/dot.js';
import { exportOnnx } from '../export/onnx.js';
import { checkOnnx } from '../export/onnx_check.js';
import { measureModelSpeed, speedRows } from '../metrics/speed.js';
import { loadModel, saveModel, writeFileAtomic } from '../io/model_files.js';
import { prepareOutputDir } from '../io/output.js';
import { formatTable } from '../util/table.js';
import { progressCallbacks } from './progress.js';

const USAGE_ERROR = 2;

/** A combination of flags that is wrong; exits with 2 like commander's own errors. */
class UsageError extends Error {}

/** A run ended by SIGINT or SIGTERM after saving its checkpoint: exits 128 + the signal number. */
class SignalExit extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** Until `run` settles, SIGINT/SIGTERM ask it to stop after the current step instead of killing the process. */
async function stoppable<T>(run: (shouldStop: () => boolean) => Promise<T>, describe: (signal: string) => string): Promise<T> {
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) process.exit(s === 'SIGINT' ? 130 : 143); // a second signal: stop now
    signal = s;
    process.stderr.write(`\nslimtrain: ${s}: finishing the current step and writing a checkpoint (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(() => signal !== undefined);
  } catch (e) {
    if (e instanceof TrainingStopped && signal) throw new SignalExit(describe(signal), signal === 'SIGINT' ? 130 : 143);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function stoppedMessage(signal: string, out: string | undefined): string {
  return out
    ? `stopped by ${signal}; checkpoint written in ${out}. Resume with the same command and --resume`
    : `stopped by ${signal}; nothing saved (without --out there are no checkpoints)`;
}

/** progress, stage lines and the backend line go to stderr, results to stdout (also with --json) */
function quietOption(): Option {
  return new Option('--quiet', 'print only the results: no progress, stages or backend line on stderr').default(false);
}

function number(kind: 'positive' | 'non-negative' | 'fraction', integer = false) {
  return (value: string): number => {
    const x = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(x) &&
      (!integer || Number.isInteger(x)) &&
      (kind === 'positive' ? x > 0 : kind === 'non-negative' ? x >= 0 : x >= 0 && x < 1);
    if (!ok) {
      const want = kind === 'fraction' ? 'a number in [0, 1)' : `a ${kind} ${integer ? 'integer' : 'number'}`;
      throw new InvalidArgumentError(`expected ${want}, got '${value}'.`);
    }
    return x;
  };
}

function epochList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((p) => number('positive', true)(p));
}

/** A zoo name, or something that names a model.json (a .json path or a folder). */
function modelSpec(value: string): string {
  if ((zooNames as string[]).includes(value) || value.endsWith('.json') || value.includes('/')) return value;
  throw new InvalidArgumentError(`'${value}' is neither a zoo model (${zooNames.join(', ')}) nor a path to a model.json.`);
}

const backendOption = () =>
  new Option('--backend <name>', 'compute backend (default: $SLIMTRAIN_BACKEND, else native where its addon loads, else wasm)').choices([...backendNames]);

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const thousands = (x: number) => x.toLocaleString('en-US');

function shape3(value: string): [number, number, number] {
  const dims = value.split('x').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new InvalidArgumentError(`expected HEIGHTxWIDTHxCHANNELS such as 28x28x1, got '${value}'.`);
  }
  return dims as [number, number, number];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** The flags `train` and `compress` share: data, epochs, learning rate and its schedule, seeds. */
function addTrainingOptions(command: Command): Command {
  return command
    .addOption(new Option('--data <name>', 'data set').choices([...datasetNames]).makeOptionMandatory())
    .option('--epochs <n>', 'training epochs', number('positive', true), 2)
    .option('--batch-size <n>', 'mini-batch size', number('positive', true), 32)
    .option('--lr <rate>', 'base learning rate', number('positive'), 0.05)
    .option('--momentum <m>', 'SGD momentum', number('fraction'), 0.9)
    .option('--no-nesterov', 'plain heavy-ball momentum instead of Nesterov')
    .option('--weight-decay <wd>', 'L2 weight decay (decoupled for adamw)', number('non-negative'), 5e-4)
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices([...scheduleNames]).default('cosine'))
    .option('--warmup-epochs <n>', 'linear learning-rate warm-up (epochs, may be fractional)', number('non-negative'), 0.5)
    .option('--milestones <epochs>', "'step' schedule: comma-separated epochs", epochList, [] as number[])
    .option('--gamma <g>', "'step' schedule: factor at each milestone", number('positive'), 0.1)
    .option('--augment', 'random crop (pad 4) and horizontal flip; for 32x32 natural images', false)
    .option('--subset <n>', 'use only the first N images of each split (smoke runs)', number('positive', true))
    .option('--seed <n>', 'seed for weights, shuffling and augmentation', number('non-negative', true), 0)
    .addOption(backendOption())
    .option('--json', 'print the results as JSON on stdout', false)
    .addOption(quietOption());
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function trainingSettings(o: any) {
  return {
    epochs: o.epochs as number,
    batchSize: o.batchSize as number,
    seed: o.seed as number,
    lr: o.lr as number,
    schedule: o.schedule as ScheduleName,
    warmupEpochs: o.warmupEpochs as number,
    milestones: o.milestones as number[],
    gamma: o.gamma as number,
    augmentation: o.augment ? { cropPadding: 4, horizontalFlip: true } : undefined,
  };
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('slimtrain')
    .description('Train, compress and evaluate TensorFlow.js models by group-sparse optimisation.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addTrainingOptions(
    program
      .command('train')
      .description('train a zoo model (or a model.json) on a data set, print its accuracy, optionally save it')
      .requiredOption('--model <name|path>', `zoo model (${zooNames.join(', ')}) or a model.json to continue from`, modelSpec)
      .addOption(new Option('--optimizer <name>', 'optimizer').choices([...optimizerNames]).default('sgd')),
  )
    .option('--out <dir>', 'save the trained model there (model.json + weights.bin), and a checkpoint every epoch in DIR/checkpoint')
    .option('--resume', 'continue the run whose checkpoint is in --out DIR/checkpoint (run the same command with --resume added)', false)
    .option('--overwrite', 'replace the files of an earlier run in --out DIR', false)
    .action(async (o) => {
      if (o.resume && !o.out) throw new UsageError('--resume continues the run saved in --out DIR: give --out');
      if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite, resume: o.resume });
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const result = await stoppable((shouldStop) => runTrainJob(
        {
          ...trainingSettings(o),
          model: o.model,
          data: o.data,
          optimizer: {
            name: o.optimizer as OptimizerName,
            momentum: o.momentum,
            nesterov: o.nesterov && o.momentum > 0,
            weightDecay: o.weightDecay,
          },
          out: o.out,
          subset: o.subset,
          resume: o.resume,
          shouldStop,
        },
        progressCallbacks(o.epochs, o.quiet),
      ), (signal) => stoppedMessage(signal, o.out));
      const seconds = result.history.reduce((s, m) => s + m.seconds, 0);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ model: o.model, data: o.data, test: result.test, history: result.history, savedTo: result.savedTo ?? null }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['epoch', 'lr', 'train loss', 'train acc', 'test loss', 'test acc', 'img/s', 'seconds'],
          result.history.map((m) => [
            m.epoch, m.lr.toPrecision(3), m.trainLoss.toFixed(4), pct(m.trainAccuracy),
            m.testLoss.toFixed(4), pct(m.testAccuracy), m.imagesPerSecond.toFixed(0), m.seconds.toFixed(1),
          ]),
        )}\n`,
      );
      process.stdout.write(
        `\n${o.model} on ${o.data}: test accuracy ${pct(result.test.accuracy)} after ${o.epochs} epoch(s), ` +
          `${seconds.toFixed(1)} s of training\n`,
      );
      if (result.savedTo) process.stdout.write(`saved ${result.savedTo}\n`);
    });

  program
    .command('doctor')
    .description('show the compute backend, its native libraries and threads, and check the native kernels against the cpu backend')
    .option('--json', 'print the diagnosis as JSON on stdout', false)
    .action(async (o) => {
      const d = await diagnose();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
      } else {
        const rows: [string, string][] = [
          ['backend', d.summary],
          ['node', `${d.node} on ${d.platform}`],
          ['cpu', `${d.cpu}, ${d.cores} cores`],
          ['native addon', d.native.loaded ? d.native.addon : `not available: ${d.native.error}`],
        ];
        if (d.native.info) {
          rows.push(['oneDNN', d.native.info.onednn], ['BLAS', `${d.native.info.blas} (${d.native.info.blasThreads} threads)`], ['OpenMP threads', String(d.native.info.threads)]);
        }
        if (d.selfCheck) {
          rows.push(['self-check', `${d.selfCheck.ok ? 'ok' : 'FAILED'}: native vs cpu max relative difference ${d.selfCheck.maxRelativeDifference.toExponential(1)}`]);
        } else {
          rows.push(['to enable native', 'apt-get install libopenblas-dev libdnnl-dev g++, then npm run build:native']);
        }
        process.stdout.write(`${formatTable(['check', 'result'], rows)}\n`);
      }
      if (d.selfCheck && !d.selfCheck.ok) process.exitCode = 1;
    });

  program
    .command('eval')
    .description("evaluate a saved model on a data set's test split")
    .requiredOption('--model <path>', 'model.json (or the folder holding it)')
    .addOption(new Option('--data <name>', 'data set').choices([...datasetNames]).makeOptionMandatory())
    .option('--batch-size <n>', 'evaluation batch size', number('positive', true), 256)
    .option('--subset <n>', 'use only the first N test images', number('positive', true))
    .addOption(backendOption())
    .addOption(quietOption())
    .option('--json', 'print the results as JSON on stdout', false)
    .action(async (o) => {
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const { predictions: _predictions, ...r } = await runEvalJob({ model: o.model, data: o.data, batchSize: o.batchSize, subset: o.subset });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ model: o.model, data: o.data, ...r }, null, 2)}\n`);
      } else {
        process.stdout.write(`${o.model} on ${o.data} test (${r.count} images): accuracy ${pct(r.accuracy)}, loss ${r.loss.toFixed(4)}\n`);
      }
    });

  addTrainingOptions(
    program
      .command('compress')
      .description('train once with a group-sparsity optimizer, remove the zero groups, check and save the slim model')
      .option('--model <name>', `zoo model (${zooNames.join(', ')})`, modelSpec)
      .option('--from <model.json>', "start from a user's trained model instead of random initialisation", modelSpec)
      .addOption(new Option('--optimizer <name>', 'sparse optimizer').choices([...sparseMethods]).default('hspg'))
      .option('--lambda <l>', 'group-lasso weight (l1 weight for obproxsg)', number('non-negative'), 1e-3)
      .option('--epsilon <e>', 'half-space threshold in [0, 1) (hspg, dhspg)', number('fraction'), 0)
      .option('--target-sparsity <s>', 'dhspg: fraction of groups to remove, in [0, 1)', number('fraction'))
      .option('--target-macs-ratio <r>', 'dhspg: dense MACs / slim MACs to aim for (instead of --target-sparsity)', number('positive'))
      .addOption(new Option('--direction <name>', 'step direction').choices(['sgd', 'adam']).default('sgd'))
      .option('--switch-epoch <e>', 'hspg/obproxsg: epoch of the second stage (default: epochs/4); dhspg: epoch projections start (default: --prune-start)', number('non-negative'))
      .option('--penalty-end <e>', 'proxsg/hspg: epoch at which the penalty stops; zero groups stay zero, the rest train on', number('non-negative'))
      .option('--prune-start <e>', 'dhspg: epoch at which the groups to remove are chosen (default: epochs/40)', number('non-negative'))
      .option('--prune-end <e>', 'dhspg: epoch by which the chosen groups are zero (default: 15% of the epochs)', number('non-negative'))
      .addOption(new Option('--allocation <a>', "dhspg: 'global' ranks all groups together, 'uniform' removes the same fraction of every layer").choices(['global', 'uniform']).default('global'))
      .option('--prune-periods <n>', 'dhspg: split the pruning into N periods, each choosing and removing its share of the target', number('positive', true), 1)
      .option('--freeze <layers>', 'keep these layers whole (comma-separated, repeatable)', collect, [] as string[])
      .addOption(new Option('--weighting <w>', "lambda per group: 'uniform', 'macs' (scaled by the MACs each group costs) or 'sqrt-macs'").choices(['uniform', 'macs', 'sqrt-macs']).default('uniform'))
      .option('--baseline', 'also train the dense model with the same settings, for comparison', false)
      .option('--round-channels <n>', 'keep a multiple of N channels per layer (zero ones kept to fill), for SIMD-friendly widths', number('positive', true), 1)
      .option('--no-speed', 'skip measuring latency, throughput and file sizes of the sparse and slim models')
      .option('--float16', 'also write DIR/slim-float16 with half-precision weights (as tfjs-converter --quantize_float16) and report its accuracy', false),
  )
    .option('--out <dir>', 'write DIR/sparse, DIR/slim (model.json + weights.bin), DIR/slim.onnx and DIR/metrics.json, and a checkpoint every epoch in DIR/checkpoint')
    .option('--resume', 'continue the run whose checkpoints are in --out DIR (run the same command with --resume added)', false)
    .option('--overwrite', 'replace the files of an earlier run in --out DIR', false)
    .action(async (o) => {
      const spec = o.from ?? o.model;
      if (o.resume && !o.out) throw new UsageError('--resume continues the run saved in --out DIR: give --out');
      if (!spec) throw new UsageError('compress needs --model (a zoo model) or --from (a model.json)');
      if (o.optimizer === 'dhspg' && o.targetSparsity === undefined && o.targetMacsRatio === undefined) {
        throw new UsageError('--optimizer dhspg needs --target-sparsity or --target-macs-ratio');
      }
      if (o.targetMacsRatio !== undefined && !(o.targetMacsRatio > 1)) throw new UsageError(`--target-macs-ratio must be above 1, got ${o.targetMacsRatio}`);
      if (o.float16 && !o.out) throw new UsageError('--float16 writes DIR/slim-float16: give --out DIR');
      if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite, resume: o.resume });
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const quiet = o.quiet;
      const progress = progressCallbacks(o.epochs, quiet);
      const r = await stoppable((shouldStop) => runCompressJob(
        {
          ...trainingSettings(o),
          model: spec,
          data: o.data,
          method: o.optimizer as SparseMethod,
          lambda: o.lambda,
          epsilon: o.epsilon,
          direction: o.direction,
          momentum: o.momentum,
          nesterov: o.nesterov && o.momentum > 0,
          weightDecay: o.weightDecay,
          switchEpoch: o.switchEpoch,
          penaltyEndEpoch: o.penaltyEnd,
          targetSparsity: o.targetSparsity,
          targetMacsRatio: o.targetMacsRatio,
          pruneStartEpoch: o.pruneStart,
          pruneEndEpoch: o.pruneEnd,
          prunePeriods: o.prunePeriods,
          allocation: o.allocation,
          freeze: o.freeze,
          weighting: o.weighting,
          subset: o.subset,
          baseline: o.baseline,
          measureSpeed: o.speed,
          roundChannels: o.roundChannels,
          float16: o.float16,
          out: o.out,
          resume: o.resume,
          shouldStop,
        },
        { ...progress, onStage: (stage) => !quiet && process.stderr.write(`-- ${stage}\n`) },
      ), (signal) => stoppedMessage(signal, o.out));
      if (o.json) {
        const { slimModel: _slim, ...rest } = r;
        process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
        return;
      }
      const x = (v: number) => `${v.toFixed(2)}x`;
      const rows: (string | number)[][] = [];
      if (r.baseline) rows.push(['dense baseline', pct(r.baseline.accuracy), thousands(r.baseline.params), thousands(r.baseline.macs), '', '']);
      rows.push([`sparse (${o.optimizer})`, pct(r.sparse.accuracy), thousands(r.sparse.params), thousands(r.sparse.macs), x(1), x(1)]);
      rows.push(['slim', pct(r.slim.accuracy), thousands(r.slim.params), thousands(r.slim.macs), x(r.ratios.params), x(r.ratios.macs)]);
      process.stdout.write(`\n${formatTable(['model', 'test acc', 'params', 'MACs', 'params /', 'MACs /'], rows)}\n\n`);
      process.stdout.write(
        `${r.sparse.zeroGroups} of ${r.sparse.groups} groups exactly zero, ${r.removedGroups} removed; ` +
          `slim vs sparse outputs: max |diff| ${r.check.maxAbsDiff.toExponential(2)} (bound ${r.check.bound.toExponential(2)}), ` +
          `${r.predictionMismatches} test predictions differ; ${r.trainSeconds.toFixed(1)} s of sparse training\n` +
          'MACs count convolutions and dense layers; "MACs /" is the dense-to-slim ratio (FLOPs reduction).\n',
      );
      if (r.speed) {
        process.stdout.write(`\n${formatTable(['measured', `sparse (${o.optimizer})`, 'slim', 'sparse / slim'], speedRows(r.speed.sparse, r.speed.slim))}\n`);
        process.stdout.write('medians of 15 runs after 3 warm-up runs; ratios are speed-ups and how many times smaller\n');
      }
      if (r.float16) {
        const f = r.float16;
        process.stdout.write(
          `float16 weights: test accuracy ${pct(f.accuracy)} (float32 ${pct(r.slim.accuracy)}), ${f.predictionMismatches} test predictions differ; ` +
            `weights ${thousands(f.weightBytes)} bytes (float32 ${thousands(f.float32WeightBytes)})\n`,
        );
      }
      if (r.out) process.stdout.write(`wrote ${[r.out.slim, r.out.sparse, r.out.float16, r.out.onnx, r.out.metrics, r.out.report].filter(Boolean).join(', ')}\n`);
    });

  addTrainingOptions(
    program
      .command('prune')
      .description('baseline: L1-norm filter pruning (Li et al. 2017) to a MACs target, then fine-tuning, in the same epoch budget')
      .requiredOption('--model <name|path>', `zoo model (${zooNames.join(', ')}) or a model.json`, modelSpec)
      .requiredOption('--macs-ratio <r>', 'dense MACs / pruned MACs to reach (e.g. the ratio compress reached)', number('positive'))
      .option('--prune-epoch <e>', 'epochs of dense training before pruning (default: half the epochs)', number('non-negative', true))
      .addOption(new Option('--allocation <a>', "dhspg: 'global' ranks all groups together, 'uniform' removes the same fraction of every layer").choices(['global', 'uniform']).default('global'))
      .option('--prune-periods <n>', 'dhspg: split the pruning into N periods, each choosing and removing its share of the target', number('positive', true), 1)
      .option('--freeze <layers>', 'keep these layers whole (comma-separated, repeatable)', collect, [] as string[]),
  )
    .option('--out <dir>', 'save the pruned, fine-tuned model there')
    .option('--overwrite', 'replace the files of an earlier run in --out DIR', false)
    .action(async (o) => {
      if (!(o.macsRatio > 1)) throw new UsageError(`--macs-ratio must be above 1, got ${o.macsRatio}`);
      if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite });
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const quiet = o.quiet;
      const r = await runMagnitudePruneJob(
        {
          ...trainingSettings(o),
          model: o.model,
          data: o.data,
          macsRatio: o.macsRatio,
          pruneEpoch: o.pruneEpoch,
          momentum: o.momentum,
          nesterov: o.nesterov && o.momentum > 0,
          weightDecay: o.weightDecay,
          freeze: o.freeze,
          subset: o.subset,
        },
        { ...progressCallbacks(o.epochs, quiet), onStage: (stage) => !quiet && process.stderr.write(`-- ${stage}\n`) },
      );
      const savedTo = o.out ? await saveModel(r.model, o.out) : undefined;
      if (o.json) {
        const { model: _model, ...rest } = r;
        process.stdout.write(`${JSON.stringify({ ...rest, savedTo: savedTo ?? null }, null, 2)}\n`);
        return;
      }
      const x = (v: number) => `${v.toFixed(2)}x`;
      process.stdout.write(
        `\n${formatTable(['model', 'test acc', 'params', 'MACs', 'params /', 'MACs /'], [
          ['dense (before pruning)', pct(r.dense.accuracy), thousands(r.dense.params), thousands(r.dense.macs), x(1), x(1)],
          ['L1-pruned + fine-tuned', pct(r.pruned.accuracy), thousands(r.pruned.params), thousands(r.pruned.macs), x(r.ratios.params), x(r.ratios.macs)],
        ])}\n\n${r.removedGroups} groups removed: the same fraction in every layer, smallest mean |kernel weight| first\n`,
      );
      if (savedTo) process.stdout.write(`saved ${savedTo}\n`);
    });

  program
    .command('export')
    .description('write a model as ONNX (opset 13, NHWC input as in TensorFlow.js), checked in ONNX Runtime before it is written')
    .argument('<model>', `zoo model (${zooNames.join(', ')}) or a model.json`, modelSpec)
    .requiredOption('--onnx <file>', 'the .onnx file to write')
    .option('--input <HxWxC>', 'input shape for a zoo model', shape3, [28, 28, 1] as [number, number, number])
    .option('--classes <n>', 'classes for a zoo model', number('positive', true), 10)
    .option('--no-fold-batchnorm', 'keep BatchNormalization nodes instead of folding them into the convolutions')
    .addOption(backendOption())
    .addOption(quietOption())
    .option('--json', 'print the result as JSON on stdout', false)
    .action(async (spec: string, o) => {
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const model = await resolveModel(spec, { inputShape: o.input, numClasses: o.classes });
      const bytes = exportOnnx(model, { foldBatchNorm: o.foldBatchnorm });
      const check = await checkOnnx(model, bytes);
      writeFileAtomic(o.onnx, bytes);
      const result = { model: spec, onnx: o.onnx, bytes: bytes.length, foldBatchNorm: o.foldBatchnorm, check };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        process.stdout.write(`wrote ${o.onnx} (${thousands(bytes.length)} bytes, opset 13${o.foldBatchnorm ? ', batch norm folded' : ''}); ` +
          `ONNX Runtime vs TensorFlow.js on ${check.samples} inputs: max |diff| ${check.maxAbsDiff.toExponential(2)} (bound ${check.bound.toExponential(2)})\n`);
      }
    });

  program
    .command('slim')
    .description('build the slim model of a sparse model.json: remove its exactly-zero groups, check the outputs are unchanged, save it')
    .argument('<model>', 'a model.json (or folder) whose weights have exactly-zero groups', modelSpec)
    .requiredOption('--out <dir>', 'write DIR/model.json + DIR/weights.bin')
    .option('--overwrite', 'replace the files of an earlier run in --out DIR', false)
    .option('--round-channels <n>', 'keep a multiple of N channels per layer (zero ones kept to fill), for SIMD-friendly widths', number('positive', true), 1)
    .option('--freeze <layers>', 'keep these layers whole (comma-separated, repeatable)', collect, [] as string[])
    .addOption(backendOption())
    .addOption(quietOption())
    .option('--json', 'print the result as JSON on stdout', false)
    .action(async (spec: string, o) => {
      prepareOutputDir(o.out, { overwrite: o.overwrite });
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const { model, metadata } = await loadModel(spec);
      const slim = await constructSlimModel(model, { freeze: o.freeze, roundTo: o.roundChannels });
      const path = await saveModel(slim.model, o.out, metadata);
      const result = { model: spec, out: path, removedGroups: slim.removed.length, before: slim.before, after: slim.after, check: slim.check };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        process.stdout.write(
          `removed ${slim.removed.length} zero groups: params ${thousands(slim.before.params)} -> ${thousands(slim.after.params)}, ` +
            `MACs ${thousands(slim.before.macs)} -> ${thousands(slim.after.macs)} (${(slim.before.macs / slim.after.macs).toFixed(2)}x); ` +
            `outputs unchanged (max |diff| ${slim.check.maxAbsDiff.toExponential(2)}); wrote ${path}\n`,
        );
      }
    });

  program
    .command('bench')
    .description('measure latency (batch 1) and throughput (batch 64) in TensorFlow.js and ONNX Runtime, and file sizes; --vs puts a second model (the slim one) beside it')
    .argument('<model>', `zoo model (${zooNames.join(', ')}) or a model.json`, modelSpec)
    .option('--vs <model>', 'a second model to compare with (typically the slim model of the first)', modelSpec)
    .option('--input <HxWxC>', 'input shape for a zoo model', shape3, [28, 28, 1] as [number, number, number])
    .option('--classes <n>', 'classes for a zoo model', number('positive', true), 10)
    .option('--repeats <n>', 'timed runs per measurement, after 3 warm-up runs (the median is reported)', number('positive', true), 15)
    .addOption(backendOption())
    .addOption(quietOption())
    .option('--json', 'print the measurements as JSON on stdout', false)
    .action(async (spec: string, o) => {
      await initEngine({ backend: o.backend, announce: !o.quiet });
      const shape = { inputShape: o.input, numClasses: o.classes };
      const specs: string[] = o.vs ? [spec, o.vs] : [spec];
      const results = [];
      for (const s of specs) {
        const model = await resolveModel(s, shape);
        results.push({ model: s, ...(await measureModelSpeed(model, { repeats: o.repeats })) });
        model.dispose();
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
        return;
      }
      const [a, b] = results;
      const header = b ? ['measure', a.model, b.model, 'ratio'] : ['measure', a.model];
      process.stdout.write(`${formatTable(header, speedRows(a, b))}\n`);
      process.stdout.write(`median of ${o.repeats} runs after 3 warm-up runs; ratio = first / second (speed-up, or how many times smaller)\n`);
    });

  program
    .command('analyze')
    .description('show the zero-invariant groups of a model: per-layer params, MACs, groups, and why some cannot be removed')
    .argument('<model>', `zoo model (${zooNames.join(', ')}) or a model.json`, modelSpec)
    .option('--input <HxWxC>', 'input shape for a zoo model', shape3, [28, 28, 1] as [number, number, number])
    .option('--classes <n>', 'classes for a zoo model', number('positive', true), 10)
    .option('--freeze <layers>', 'keep these layers whole (comma-separated, repeatable)', collect, [] as string[])
    .option('--dot <file>', 'write a Graphviz picture of the graph and its groups')
    .addOption(backendOption())
    .option('--json', 'print the analysis as JSON on stdout', false)
    .action(async (spec: string, o) => {
      await initEngine({ backend: o.backend ?? 'cpu' });
      const model = await resolveModel(spec, { inputShape: o.input, numClasses: o.classes });
      const analysis = analyzeModel(model, { freeze: o.freeze });
      if (o.dot) writeFileAtomic(o.dot, analysisToDot(analysis, model.name));
      const t = analysis.totals;
      if (o.json) {
        const groups = analysis.partition.groups.map((g) => ({
          id: g.id,
          prunable: g.prunable,
          reasons: g.reasons,
          channels: g.channels,
          size: g.size,
          savings: g.savings,
          slices: g.slices,
          statSlices: g.statSlices,
          consumerSlices: g.consumerSlices,
        }));
        process.stdout.write(`${JSON.stringify({ model: model.name, layers: analysis.layers, totals: t, groups }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['layer', 'class', 'output', 'params', 'MACs', 'groups', 'prunable', 'why not'],
          analysis.layers.map((l) => [
            l.name, l.className, l.outputShape.join('x'), thousands(l.params), thousands(l.macs),
            l.groups, l.prunable, l.reasons.join('; '),
          ]),
        )}\n\n`,
      );
      process.stdout.write(
        `${model.name}: ${thousands(t.params)} trainable parameters (+${thousands(t.nonTrainableParams)} non-trainable), ` +
          `${thousands(t.macs)} MACs (convolutions and dense layers); ${t.groups} groups, ${t.prunable} prunable, ` +
          `${t.tiedGroups} of them tied across layers by joins\n`,
      );
      if (o.dot) process.stdout.write(`wrote ${o.dot}\n`);
    });

  for (const command of program.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed the message (or the help) already
      return e.exitCode === 0 ? 0 : USAGE_ERROR;
    }
    if (e instanceof SignalExit) {
      process.stderr.write(`slimtrain: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`slimtrain: error: ${e.message} (run with --help for usage)\n`);
      return USAGE_ERROR;
    }
    process.stderr.write(`slimtrain: error: ${(e as Error).message}\n`);
    if (process.env.SLIMTRAIN_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}
