// slimtrain analyze: the zero-invariant groups of a model, per layer, and why some cannot be removed.
import { Option } from '@commander-js/extra-typings';
import { analyzeModel, type ModelAnalysis } from '../../graph/analyze.js';
import { writeFileAtomic } from '../../util/files.js';
import { resolveModel } from '../../models/resolve.js';
import { analysisToDot } from '../../report/dot.js';
import { thousands } from '../../util/format.js';
import { formatTable } from '../../util/table.js';
import { MODEL_HELP, modelSpec, options, commonCommand } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { applyFreeze } from '../../train/frozen.js';
import { TerminalProgress } from '../progress.js';

const define = () =>
  commonCommand('analyze')
    .description('show the zero-invariant groups of a model: per-layer params, MACs, groups, and why some cannot be removed')
    .argument('<model>', MODEL_HELP, modelSpec)
    .addOption(options.input())
    .addOption(options.inputShape())
    .addOption(options.classes())
    .addOption(options.freeze())
    .addOption(options.trainFrozen())
    .addOption(new Option('--dot <file>', 'write a Graphviz picture of the graph and its groups'));

function analysisJson(name: string, analysis: ModelAnalysis) {
  const groups = analysis.partition.groups.map((g) => ({
    id: g.id,
    prunable: g.prunable,
    reasons: g.reasons,
    channels: g.channels,
    size: g.size,
    savings: g.savings,
    slices: g.slices,
    statSlices: g.statSlices,
    resetSlices: g.resetSlices,
    consumerSlices: g.consumerSlices,
  }));
  return { model: name, layers: analysis.layers, totals: analysis.totals, groups };
}

function analysisText(name: string, input: string, analysis: ModelAnalysis): string {
  const t = analysis.totals;
  const layers = analysis.layers.map((l) => [
    l.name,
    l.className,
    l.outputShape.join('x'),
    thousands(l.params),
    thousands(l.macs),
    l.groups,
    l.prunable,
    l.reasons.join('; '),
  ]);
  return (
    `${formatTable({ header: ['layer', 'class', 'output', 'params', 'MACs', 'groups', 'prunable', 'why not'], rows: layers })}\n\n` +
    `${name} at input ${input}: ${thousands(t.params)} parameters${t.frozenParams ? `, ${thousands(t.frozenParams)} of them in frozen layers` : ''} ` +
    `(+${thousands(t.nonTrainableParams)} batch-norm statistics and other non-trainable), ` +
    `${thousands(t.macs)} MACs (convolutions and dense layers); ${t.groups} groups, ${t.prunable} prunable, ` +
    `${t.tiedGroups} of them tied across layers by joins\n`
  );
}

export function analyzeCommand() {
  return define().action(async (spec, o) => {
    // the analysis computes nothing heavy: the cpu backend serves unless another is asked for
    await startEngine(o, 'cpu');
    const { model } = await resolveModel(
      spec,
      { inputShape: o.input, numClasses: o.classes },
      0,
      { modelInputShape: o.inputShape },
      new TerminalProgress(0, o.quiet).onProgress,
    );
    applyFreeze(model, o);
    const analysis = analyzeModel(model, { freeze: o.freeze });
    if (o.dot) writeFileAtomic(o.dot, analysisToDot(analysis, model.name));
    const input = model.inputs[0].shape
      .slice(1)
      .map((d) => d ?? '?')
      .join('x');
    printResult(
      o,
      { ...analysisJson(model.name, analysis), input: model.inputs[0].shape.slice(1) },
      () => analysisText(model.name, input, analysis) + (o.dot ? `wrote ${o.dot}\n` : ''),
    );
  });
}
