// Progress for people: a bar per epoch on a terminal, one line per epoch otherwise.
import cliProgress from 'cli-progress';
import type { EpochMetrics, TrainCallbacks } from '../train/metrics.js';
import type { GroupStats } from '../optim/sparse.js';
import { pct } from '../util/format.js';

export function epochLine(m: EpochMetrics & Partial<GroupStats>): string {
  const groups =
    m.zeroGroups === undefined
      ? ''
      : `, zero groups ${m.zeroGroups}/${m.groups} (${pct(m.groupSparsity!)}), sum of group norms ${m.normSum!.toFixed(2)}` +
        (m.lambda === undefined ? '' : `, lambda ${m.lambda.toPrecision(3)}`);
  const measure = m.agreement ? ' agreement' : '';
  return (
    `epoch ${m.epoch}: loss ${m.trainLoss.toFixed(4)}, train${measure} ${pct(m.trainAccuracy)}, ` +
    `test${measure} ${pct(m.testAccuracy)} (loss ${m.testLoss.toFixed(4)})${groups}, ${m.imagesPerSecond.toFixed(0)} img/s, ` +
    `${m.seconds.toFixed(1)} s`
  );
}

/** Callbacks that draw progress on stderr; silent when `quiet`. */
export function progressCallbacks(totalEpochs: number, quiet: boolean): TrainCallbacks {
  if (quiet) return {};
  const stream = process.stderr;
  let bar: cliProgress.SingleBar | undefined;
  return {
    onEpochBegin(epoch, batches) {
      if (!stream.isTTY) return;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `epoch ${epoch}/${totalEpochs} [{bar}] {value}/{total} | {speed} img/s | loss {loss} | acc {acc} | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { speed: '-', loss: '-', acc: '-' });
    },
    onBatchEnd(p) {
      bar?.update(p.batch, {
        speed: (p.images / Math.max(p.seconds, 1e-9)).toFixed(0),
        loss: p.loss.toFixed(4),
        acc: pct(p.accuracy),
      });
    },
    onEpochEnd(m) {
      bar?.stop();
      bar = undefined;
      stream.write(`${epochLine(m)}\n`);
    },
  };
}
