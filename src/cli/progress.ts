// Progress for people, on stderr: on a terminal a bar per epoch and per long step
// (decoding, timing, checking); otherwise a line per epoch, and a line every few
// seconds of a long step. Every bar stops when the run ends, however it ends.
import cliProgress from 'cli-progress';
import type { EpochMetrics, JobCallbacks } from '../train/metrics.js';
import type { GroupStats } from '../optim/sparse.js';
import type { StepProgress } from '../util/progress.js';
import { pct } from '../util/format.js';

/** off a terminal, a long step prints a line this often */
const LINE_EVERY_MS = 5000;

/** images per second as people read them: whole above 10, one decimal below */
export function rate(imagesPerSecond: number): string {
  return imagesPerSecond >= 10 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1);
}

export function seconds(s: number): string {
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

export function epochLine(m: EpochMetrics & Partial<GroupStats>): string {
  const groups =
    m.zeroGroups === undefined
      ? ''
      : `, zero groups ${m.zeroGroups}/${m.groups} (${pct(m.groupSparsity!)}), sum of group norms ${m.normSum!.toFixed(2)}` +
        (m.lambda === undefined ? '' : `, lambda ${m.lambda.toPrecision(3)}`);
  const measure = m.agreement ? ' agreement' : '';
  return (
    `epoch ${m.epoch}: loss ${m.trainLoss.toFixed(4)}, train${measure} ${pct(m.trainAccuracy)}, ` +
    `test${measure} ${pct(m.testAccuracy)} (loss ${m.testLoss.toFixed(4)})${groups}, ${rate(m.imagesPerSecond)} img/s, ` +
    `${m.seconds.toFixed(1)} s`
  );
}

/** A line for a long step off a terminal: count, share and time left. */
export function stepLine(p: StepProgress, elapsedSeconds: number): string {
  const left = p.done > 0 && p.done < p.total ? `, about ${seconds((elapsedSeconds / p.done) * (p.total - p.done))} left` : '';
  return `-- ${p.step}: ${p.done}/${p.total} (${Math.floor((100 * p.done) / p.total)}%)${left}`;
}

const live = new Set<TerminalProgress>();

/** Stops every bar still drawing (a signal ends the run): their timers end and the cursor comes back. */
export function closeAllProgress(): void {
  for (const p of live) p.close();
}

/** The CLI's JobCallbacks: bars on a terminal, lines elsewhere, nothing with `quiet`. */
export class TerminalProgress implements JobCallbacks {
  private bar?: cliProgress.SingleBar;
  private step?: { name: string; start: number; lastLine: number };
  private closed = false;
  private readonly stream = process.stderr;

  constructor(
    private readonly totalEpochs: number,
    private readonly quiet: boolean,
  ) {
    live.add(this);
  }

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  private startBar(format: string, total: number, payload: object): void {
    this.endBar();
    if (this.closed || this.quiet || !this.tty) return;
    this.bar = new cliProgress.SingleBar(
      { stream: this.stream, format, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, payload);
  }

  private endBar(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.step = undefined;
  }

  private write(line: string): void {
    if (!this.quiet && !this.closed) this.stream.write(`${line}\n`);
  }

  onStage = (message: string): void => {
    this.endBar();
    this.write(`-- ${message}`);
  };

  onEpochBegin = (epoch: number, batches: number): void => {
    this.startBar(
      `epoch ${epoch}/${this.totalEpochs} [{bar}] {value}/{total} | {speed} img/s | loss {loss} | acc {acc} | eta {eta_formatted}`,
      batches,
      { speed: '-', loss: '-', acc: '-' },
    );
  };

  onBatchEnd = (p: { batch: number; images: number; seconds: number; loss: number; accuracy: number }): void => {
    this.bar?.update(p.batch, { speed: rate(p.images / Math.max(p.seconds, 1e-9)), loss: p.loss.toFixed(4), acc: pct(p.accuracy) });
  };

  onEpochEnd = (m: EpochMetrics): void => {
    this.endBar();
    this.write(epochLine(m));
  };

  onProgress = (p: StepProgress): void => {
    if (this.quiet || this.closed) return;
    const now = performance.now();
    if (this.step?.name !== p.step) {
      this.startBar(`${p.step} [{bar}] {value}/{total} | eta {eta_formatted}`, p.total, {});
      this.step = { name: p.step, start: now, lastLine: now };
    }
    const step = this.step!;
    if (this.bar) {
      this.bar.setTotal(p.total);
      this.bar.update(p.done);
    } else if (now - step.lastLine >= LINE_EVERY_MS || (p.done === p.total && step.lastLine > step.start)) {
      // off a terminal: a line every few seconds, and the last one of a step that printed any
      this.write(stepLine(p, (now - step.start) / 1000));
      step.lastLine = now;
    }
    if (p.done >= p.total) this.endBar();
  };

  /** Stops the bar and every later line; the run is over. */
  close(): void {
    this.endBar();
    this.closed = true;
    live.delete(this);
  }
}
