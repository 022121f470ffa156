// slimtrain slim: the slim model of a sparse model.json, checked against it and saved.
import { Option } from '@commander-js/extra-typings';
import { saveModel } from '../../io/model_files.js';
import { loadModelFile } from '../../models/resolve.js';
import { prepareOutputDir } from '../../io/output.js';
import { constructSlimModel } from '../../slim/construct.js';
import { thousands } from '../../util/format.js';
import { modelSpec, options, commonCommand } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { gridsOf } from '../../io/quantize.js';

const define = () =>
  commonCommand('slim')
    .description('build the slim model of a sparse model.json: remove its exactly-zero groups, check the outputs are unchanged, save it')
    .argument('<model>', 'a model.json (or folder) or .onnx file whose weights have exactly-zero groups', modelSpec)
    .addOption(new Option('--out <dir>', 'write DIR/model.json + DIR/weights.bin').makeOptionMandatory())
    .addOption(options.overwrite())
    .addOption(options.roundChannels())
    .addOption(options.freeze())
    .addOption(options.inputShape());

export function slimCommand() {
  return define().action(async (spec, o) => {
    prepareOutputDir(o.out, { overwrite: o.overwrite });
    await startEngine(o);
    const { model, metadata } = await loadModelFile(spec, { modelInputShape: o.inputShape });
    const slim = await constructSlimModel(model, { freeze: o.freeze, roundTo: o.roundChannels });
    // stored as the sparse file stored each weight, on its grids: the kept values as they were
    const plan = new Map(Object.entries(metadata.weights?.quantization ?? {}));
    const quantized = plan.size > 0 ? { quantize: plan, grids: gridsOf(model, plan) } : {};
    const path = await saveModel(slim.model, o.out, metadata, quantized);
    printResult(
      o,
      { model: spec, out: path, removedGroups: slim.removed.length, before: slim.before, after: slim.after, check: slim.check },
      () =>
        `removed ${slim.removed.length} zero groups: params ${thousands(slim.before.params)} -> ${thousands(slim.after.params)}, ` +
        `MACs ${thousands(slim.before.macs)} -> ${thousands(slim.after.macs)} (${(slim.before.macs / slim.after.macs).toFixed(2)}x); ` +
        `outputs unchanged (max |diff| ${slim.check.maxAbsDiff.toExponential(2)}); wrote ${path}\n`,
    );
  });
}
