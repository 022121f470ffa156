// What every command does around its job: start the engine, print results (a table
// for people, JSON for scripts), stop cleanly on a signal.
import { initEngine } from '../engine/backend.js';
import { TrainingStopped } from '../train/loop.js';
import { StopRequested } from '../util/progress.js';
import { closeAllProgress } from './progress.js';

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

/** A run ended by SIGINT or SIGTERM: exits 128 + the signal number. */
export class SignalExit extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const signalCode = (s: NodeJS.Signals): number => (s === 'SIGINT' ? 130 : 143);

/** set while a job that can stop runs (stoppable): what the first signal does */
let askToStop: ((s: NodeJS.Signals) => void) | undefined;

/**
 * How the CLI meets SIGINT and SIGTERM, from `main` on: while a job that can stop
 * runs, the first signal asks it to stop after the current step and a second quits
 * (while `serve` waits, it ends the wait);
 * any other time a signal quits at once. Quitting stops the progress bars first, so
 * that their timers end and the cursor comes back. Returns the function that removes
 * the handlers.
 */
export function handleSignals(): () => void {
  const onSignal = (s: NodeJS.Signals) => {
    if (askToStop) {
      askToStop(s);
      askToStop = undefined;
      return;
    }
    closeAllProgress();
    process.stderr.write(`\nslimtrain: ${s}: quit\n`);
    process.exit(signalCode(s));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Waits for SIGINT or SIGTERM (a server's whole life), which then ends the wait instead of the process. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    askToStop = resolve;
  });
}

/**
 * Runs a job that can stop: the first SIGINT/SIGTERM stops its bars and asks it to
 * stop after the current step (with a checkpoint in `out`, where training had begun);
 * the job then ends with StopRequested, which becomes a SignalExit.
 */
export async function stoppable<T>(run: (shouldStop: () => boolean) => Promise<T>, out: string | undefined): Promise<T> {
  let signal: NodeJS.Signals | undefined;
  askToStop = (s) => {
    signal = s;
    closeAllProgress();
    process.stderr.write(
      `\nslimtrain: ${s}: finishing the current step${out ? ', with a checkpoint where training has begun' : ''} (again to quit at once)\n`,
    );
  };
  try {
    return await run(() => signal !== undefined);
  } catch (e) {
    if (e instanceof StopRequested && signal) {
      const message =
        e instanceof TrainingStopped
          ? out
            ? `stopped by ${signal}; checkpoint written in ${out}. Resume with the same command and --resume`
            : `stopped by ${signal}; nothing saved (without --out there are no checkpoints)`
          : `stopped by ${signal} ${e.message.replace(/^stopped /, '')}`;
      throw new SignalExit(message, signalCode(signal));
    }
    throw e;
  } finally {
    askToStop = undefined;
  }
}
