// slimtrain bench: measured latency, throughput and file sizes, a second model beside the first.
import { Option } from '@commander-js/extra-typings';
import { compareSpeeds, measureModelSpeed, type SpeedUps } from '../../metrics/speed.js';
import { resolveModel } from '../../models/resolve.js';
import { speedTable } from '../../report/tables.js';
import { formatTable } from '../../util/table.js';
import { MODEL_HELP, modelSpec, number, options, commonCommand } from '../options.js';
import { printResult, startEngine } from '../run.js';
import { TerminalProgress } from '../progress.js';

const define = () =>
  commonCommand('bench')
    .description(
      'measure latency (batch 1) and throughput (batch 64) in TensorFlow.js and ONNX Runtime, and file sizes; --vs puts a second model (the slim one) beside it',
    )
    .argument('<model>', MODEL_HELP, modelSpec)
    .addOption(new Option('--vs <model>', 'a second model to compare with (typically the slim model of the first)').argParser(modelSpec))
    .addOption(options.input())
    .addOption(options.inputShape())
    .addOption(options.classes())
    .addOption(
      new Option('--repeats <n>', 'timed runs per measurement, after 3 warm-up runs (the median is reported)')
        .argParser(number('positive', true))
        .default(15),
    );

export function benchCommand() {
  return define().action(async (spec, o) => {
    await startEngine(o);
    const progress = new TerminalProgress(0, o.quiet);
    const results = [];
    const models = [];
    try {
      for (const s of o.vs ? [spec, o.vs] : [spec]) {
        const { model } = await resolveModel(
          s,
          { inputShape: o.input, numClasses: o.classes },
          0,
          { modelInputShape: o.inputShape },
          progress.onProgress,
        );
        models.push(model);
        results.push({ model: s, ...(await measureModelSpeed(model, { repeats: o.repeats, onProgress: progress.onProgress })) });
      }
      // the speed-up itself in alternating rounds: two single medians taken apart drift with the machine's load
      const speedUps: SpeedUps | undefined =
        models.length === 2 ? await compareSpeeds(models[0], models[1], { maxSeconds: 60, onProgress: progress.onProgress }) : undefined;
      const [a, b] = results.map((r) => ({ label: r.model, speed: r }));
      printResult(
        o,
        { results, speedUps },
        () =>
          `${formatTable(speedTable(a, b, speedUps))}\n` +
          `median of ${o.repeats} runs after 3 warm-up runs; ratio = first / second (speed-up, or how many times smaller)` +
          (speedUps
            ? `; at batch 64 measured in alternating rounds until they agree within 10% (± half their range; noisy: over 20%)`
            : '') +
          '\n',
      );
    } finally {
      for (const m of models) m.dispose();
    }
  });
}
