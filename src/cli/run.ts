// What every command does around its job: start the engine, print results (a table
// for people, JSON for scripts), report stages, stop cleanly on a signal.
import { initEngine } from '../engine/backend.js';
import { TrainingStopped } from '../train/loop.js';

/** The flags every command takes. */
export interface CommonFlags {
  json: boolean;
  quiet: boolean;
  backend?: string;
}

/** Starts the compute backend; its line goes to stderr unless --quiet. */
export async function startEngine(o: CommonFlags, fallback?: string): Promise<void> {
  await initEngine({ backend: o.backend ?? fallback, announce: !o.quiet });
}

/** JSON on stdout with --json, else the text `human` gives. */
export function printResult(o: Pick<CommonFlags, 'json'>, value: unknown, human: () => string): void {
  process.stdout.write(o.json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** A stage line on stderr, unless --quiet. */
export function stageReporter(o: Pick<CommonFlags, 'quiet'>): (stage: string) => void {
  return (stage) => {
    if (!o.quiet) process.stderr.write(`-- ${stage}\n`);
  };
}

/** A run ended by SIGINT or SIGTERM after saving its checkpoint: exits 128 + the signal number. */
export class SignalExit extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Until `run` settles, SIGINT/SIGTERM ask it to stop after the current step (with a
 * checkpoint in `out`) instead of killing the process; a second signal quits at once.
 */
export async function stoppable<T>(run: (shouldStop: () => boolean) => Promise<T>, out: string | undefined): Promise<T> {
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) process.exit(s === 'SIGINT' ? 130 : 143);
    signal = s;
    process.stderr.write(`\nslimtrain: ${s}: finishing the current step and writing a checkpoint (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(() => signal !== undefined);
  } catch (e) {
    if (e instanceof TrainingStopped && signal) {
      const message = out
        ? `stopped by ${signal}; checkpoint written in ${out}. Resume with the same command and --resume`
        : `stopped by ${signal}; nothing saved (without --out there are no checkpoints)`;
      throw new SignalExit(message, signal === 'SIGINT' ? 130 : 143);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
