// slimtrain import: an ONNX file (as torch.onnx.export writes it) as a trainable
// TensorFlow.js model, checked against ONNX Runtime before it is saved.
import { Option } from '@commander-js/extra-typings';
import { analyzeModel } from '../../graph/analyze.js';
import { importOnnx } from '../../import/onnx_import.js';
import { saveModel } from '../../io/model_files.js';
import { prepareOutputDir } from '../../io/output.js';
import { thousands } from '../../util/format.js';
import { commonCommand, options } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { TerminalProgress } from '../progress.js';

const define = () =>
  commonCommand('import')
    .description(
      'import an ONNX model (opsets 7-21, as torch.onnx.export and other exporters write it) as a trainable TensorFlow.js model; ' +
        'it is run in ONNX Runtime and TensorFlow.js on seeded inputs and refused unless the two agree',
    )
    .argument('<model.onnx>', 'the ONNX file')
    .addOption(new Option('--out <dir>', 'write DIR/model.json + DIR/weights.bin').makeOptionMandatory())
    .addOption(options.overwrite())
    .addOption(options.inputShape());

export function importCommand() {
  return define().action(async (file, o) => {
    prepareOutputDir(o.out, { overwrite: o.overwrite });
    await startEngine(o);
    const start = performance.now();
    const imported = await importOnnx(file, { inputShape: o.inputShape, onProgress: new TerminalProgress(0, o.quiet).onProgress });
    const seconds = (performance.now() - start) / 1000;
    const { totals } = analyzeModel(imported.model);
    const path = await saveModel(imported.model, o.out, { source: file, onnx: imported.interface });
    const io = (specs: typeof imported.interface.inputs) =>
      specs.map((s) => `${s.name} [${s.shape.map((d, i) => (d >= 0 ? d : i === 0 ? 'N' : '?'))}]`).join(', ');
    printResult(
      o,
      {
        model: file,
        out: path,
        opset: imported.opset,
        producer: imported.producer,
        interface: imported.interface,
        check: imported.check,
        totals,
      },
      () =>
        `imported ${file} (opset ${imported.opset}${imported.producer ? `, ${imported.producer}` : ''}) in ${seconds.toFixed(1)} s: ` +
        `${imported.model.layers.length} layers, ${thousands(totals.params)} parameters, ${thousands(totals.macs)} MACs; ` +
        `${totals.groups} groups, ${totals.prunable} prunable\n` +
        `inputs ${io(imported.interface.inputs)} -> outputs ${io(imported.interface.outputs)}\n` +
        `ONNX Runtime vs TensorFlow.js on ${imported.check.samples} seeded inputs: max |diff| ${imported.check.maxAbsDiff.toExponential(2)} ` +
        `(bound ${imported.check.bound.toExponential(2)})${imported.trainingMode ? ', the file run in inference mode (it was exported in training mode)' : ''}\n` +
        `wrote ${path}\n`,
    );
  });
}
