// slimtrain export: a model written as ONNX, checked in ONNX Runtime before it is written.
import { Option } from '@commander-js/extra-typings';
import { exportOnnx, OnnxExportError } from '../../export/onnx.js';
import { checkOnnx } from '../../onnx/check.js';
import { writeFileAtomic } from '../../util/files.js';
import { resolveModel } from '../../models/resolve.js';
import { thousands } from '../../util/format.js';
import { MODEL_HELP, modelSpec, options, commonCommand } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { TerminalProgress } from '../progress.js';

const define = () =>
  commonCommand('export')
    .description(
      'write a model as ONNX (opset 13; NHWC input as in TensorFlow.js, or the interface of the ONNX file it came from), checked in ONNX Runtime before it is written',
    )
    .argument('<model>', MODEL_HELP, modelSpec)
    .addOption(new Option('--onnx <file>', 'the .onnx file to write').makeOptionMandatory())
    .addOption(options.input())
    .addOption(options.inputShape())
    .addOption(options.classes())
    .addOption(new Option('--no-fold-batchnorm', 'keep BatchNormalization nodes instead of folding them into the convolutions'));

export function exportCommand() {
  return define().action(async (spec, o) => {
    await startEngine(o);
    const { model, metadata } = await resolveModel(
      spec,
      { inputShape: o.input, numClasses: o.classes },
      0,
      { modelInputShape: o.inputShape },
      new TerminalProgress(0, o.quiet).onProgress,
    );
    // a model imported from ONNX keeps that file's input and output names and NCHW layout
    const bytes = exportOnnx(model, { foldBatchNorm: o.foldBatchnorm, interface: metadata.onnx });
    const check = await checkOnnx(model, bytes, { interface: metadata.onnx }).catch((e: Error) => {
      throw new OnnxExportError(`${e.message}: the export is wrong, nothing was written (please report it with the model)`);
    });
    writeFileAtomic(o.onnx, bytes);
    printResult(
      o,
      { model: spec, onnx: o.onnx, bytes: bytes.length, foldBatchNorm: o.foldBatchnorm, check },
      () =>
        `wrote ${o.onnx} (${thousands(bytes.length)} bytes, opset 13${o.foldBatchnorm ? ', batch norm folded' : ''}); ` +
        `ONNX Runtime vs TensorFlow.js on ${check.samples} inputs: max |diff| ${check.maxAbsDiff.toExponential(2)} (bound ${check.bound.toExponential(2)})\n`,
    );
  });
}
