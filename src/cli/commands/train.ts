// slimtrain train: a zoo model (or a model.json) trained on a data set.
import { Option } from '@commander-js/extra-typings';
import { optimizerNames } from '../../optim/dense.js';
import { prepareOutputDir } from '../../io/output.js';
import { runTrainJob, type TrainJob } from '../../train/job.js';
import { historyTable } from '../../report/tables.js';
import { pct, sizeText } from '../../util/format.js';
import { formatTable } from '../../util/table.js';
import {
  checkResume,
  dataSettings,
  MODEL_HELP,
  modelSpec,
  momentumSettings,
  options,
  trainingSettings,
  trainingCommand,
} from '../options.js';
import { TerminalProgress } from '../progress.js';
import { printResult, startEngine, stoppable } from '../run.js';

const define = () =>
  trainingCommand('train')
    .description('train a zoo model (or a model.json or .onnx file) on a data set or image folder, print its accuracy, optionally save it')
    .addOption(new Option('--model <name|path>', `${MODEL_HELP} to continue from`).argParser(modelSpec).makeOptionMandatory())
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(optimizerNames).default('sgd' as const))
    .addOption(options.out('save the trained model there (model.json + weights.bin), and a checkpoint every epoch in DIR/checkpoint'))
    .addOption(options.resume())
    .addOption(options.overwrite());

export type TrainOptions = ReturnType<ReturnType<typeof define>['opts']>;

/** The library job the flags describe (no training: unit-tested alone). */
export function trainJob(o: TrainOptions): TrainJob {
  checkResume(o);
  return {
    ...trainingSettings(o),
    ...dataSettings(o),
    model: o.model,
    optimizer: { name: o.optimizer, ...momentumSettings(o) },
    out: o.out,
    resume: o.resume,
  };
}

export function trainCommand() {
  return define().action(async (o) => {
    const job = trainJob(o);
    if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite, resume: o.resume });
    await startEngine(o);
    const callbacks = new TerminalProgress(o.epochs, o.quiet);
    const result = await stoppable((shouldStop) => runTrainJob({ ...job, shouldStop }, callbacks), o.out);
    const seconds = result.history.reduce((s, m) => s + m.seconds, 0);
    printResult(
      o,
      {
        model: o.model,
        data: o.data,
        test: result.test,
        history: result.history,
        savedTo: result.savedTo ?? null,
        peakMemory: result.peakMemory,
      },
      () =>
        `${formatTable(historyTable(result.history))}\n` +
        `\n${o.model} on ${o.data}: test accuracy ${pct(result.test.accuracy)} after ${o.epochs} epoch(s), ${seconds.toFixed(1)} s of training; peak memory ${sizeText(result.peakMemory)}\n` +
        (result.savedTo ? `saved ${result.savedTo}\n` : ''),
    );
  });
}
