// slimtrain eval: a saved model scored on a data set's test split.
import { Option } from '@commander-js/extra-typings';
import { isDatasetName } from '../../data/datasets.js';
import { runEvalJob, type EvalJob } from '../../train/job.js';
import { pct } from '../../util/format.js';
import { dataCommand, dataSettings, number, options } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { TerminalProgress } from '../progress.js';

const define = () =>
  dataCommand('eval')
    .description("evaluate a saved model on a data set's test split, or an image folder's validation split")
    .addOption(new Option('--model <path>', 'model.json (or the folder holding it) or .onnx file').makeOptionMandatory())
    .addOption(
      new Option('--seed <n>', 'image folders: the seed of the validation split training used')
        .argParser(number('non-negative', true))
        .default(0),
    )
    .addOption(new Option('--batch-size <n>', 'evaluation batch size').argParser(number('positive', true)).default(256))
    .addOption(options.subset('the test split'));

export type EvalOptions = ReturnType<ReturnType<typeof define>['opts']>;

export function evalJob(o: EvalOptions): EvalJob {
  return { ...dataSettings(o), model: o.model, seed: o.seed, batchSize: o.batchSize, subset: o.subset };
}

/** What was scored: a data set's test split, a validation folder, or a folder's held-out share. */
const splitName = (o: EvalOptions) => o.val ?? (isDatasetName(o.data) ? `${o.data} test` : `${o.data} (held-out share)`);

export function evalCommand() {
  return define().action(async (o) => {
    await startEngine(o);
    const { predictions: _predictions, ...r } = await runEvalJob(evalJob(o), new TerminalProgress(0, o.quiet).onProgress);
    printResult(
      o,
      { model: o.model, data: o.data, ...r },
      () => `${o.model} on ${splitName(o)} (${r.count} images): accuracy ${pct(r.accuracy)}, loss ${r.loss.toFixed(4)}\n`,
    );
  });
}
