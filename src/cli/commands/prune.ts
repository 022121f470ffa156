// slimtrain prune: the baseline to beat, L1-norm filter pruning (Li et al. 2017) to
// a MACs target, then fine-tuning, in the same epoch budget.
import { Option } from '@commander-js/extra-typings';
import { runMagnitudePruneJob, type MagnitudePruneJob } from '../../compress/magnitude.js';
import { prepareOutputDir } from '../../io/output.js';
import { saveModel } from '../../io/model_files.js';
import { pruneTable } from '../../report/tables.js';
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
import { printResult, startEngine } from '../run.js';

const define = () =>
  trainingCommand('prune')
    .description('baseline: L1-norm filter pruning (Li et al. 2017) to a MACs target, then fine-tuning, in the same epoch budget')
    .addOption(new Option('--model <name|path>', MODEL_HELP).argParser(modelSpec).makeOptionMandatory())
    .addOption(
      new Option('--macs-ratio <r>', 'dense MACs / pruned MACs to reach (e.g. the ratio compress reached)')
        .argParser(number('positive'))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--prune-epoch <e>', 'epochs of dense training before pruning (default: half the epochs)').argParser(
        number('non-negative', true),
      ),
    )
    .addOption(options.allocation('which filters go: ', 'uniform'))
    .addOption(options.freeze())
    .addOption(options.trainFrozen())
    .addOption(options.out('save the pruned, fine-tuned model there'))
    .addOption(options.overwrite());

export type PruneOptions = ReturnType<ReturnType<typeof define>['opts']>;

/** The library job the flags describe (no training: unit-tested alone). */
export function pruneJob(o: PruneOptions): MagnitudePruneJob {
  if (!(o.macsRatio > 1)) throw new UsageError(`--macs-ratio must be above 1, got ${o.macsRatio}`);
  if (o.pruneEpoch !== undefined && o.pruneEpoch > o.epochs)
    throw new UsageError(`--prune-epoch ${o.pruneEpoch} is past the last of --epochs ${o.epochs}`);
  return {
    ...trainingSettings(o),
    ...momentumSettings(o),
    ...dataSettings(o),
    model: o.model,
    macsRatio: o.macsRatio,
    pruneEpoch: o.pruneEpoch,
    allocation: o.allocation,
    freeze: o.freeze,
    trainFrozen: o.trainFrozen,
  };
}

export function pruneCommand() {
  return define().action(async (o) => {
    const job = pruneJob(o);
    if (o.out) prepareOutputDir(o.out, { overwrite: o.overwrite });
    await startEngine(o);
    const r = await runMagnitudePruneJob(job, new TerminalProgress(o.epochs, o.quiet));
    const savedTo = o.out ? await saveModel(r.model, o.out) : undefined;
    const { model: _model, ...rest } = r;
    const share = o.allocation === 'uniform' ? 'the same fraction in every layer' : 'ranked across all layers';
    printResult(
      o,
      { ...rest, savedTo: savedTo ?? null },
      () =>
        `\n${formatTable(pruneTable(r))}\n\n${r.removedGroups} groups removed: ${share}, smallest mean |kernel weight| first\n` +
        (savedTo ? `saved ${savedTo}\n` : ''),
    );
  });
}
