// The `slimtrain` command: one file per command in commands/, each a pure function
// from its typed flags to the library's job and an action that runs it and prints.
// Usage errors exit with 2, failures of the job with 1, a signal with 128 + its number.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { analyzeCommand } from './commands/analyze.js';
import { benchCommand } from './commands/bench.js';
import { compressCommand } from './commands/compress.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { pruneCommand } from './commands/prune.js';
import { serveCommand } from './commands/serve.js';
import { slimCommand } from './commands/slim.js';
import { trainCommand } from './commands/train.js';
import { engineFailure } from '../engine/index.js';
import { UsageError } from './options.js';
import { handleSignals, SignalExit } from './run.js';
import { closeAllProgress } from './progress.js';

const USAGE_ERROR = 2;

/** the installed package's version, from its package.json; a copy of dist/ without it still runs */
function version(): string {
  const file = fileURLToPath(new URL('../../../package.json', import.meta.url));
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return `unknown (no ${file})`;
  }
}

/** commander's usage errors as slimtrain's other errors read: one line, named, with where to look */
const usageOutput = {
  outputError: (message: string, write: (s: string) => void) =>
    write(
      `slimtrain: ${message
        .trim()
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\.$/, '')} (run with --help for usage)\n`,
    ),
};

export function buildProgram(): Command {
  const program = new Command()
    .name('slimtrain')
    .description('Train, compress and evaluate TensorFlow.js and ONNX models by group-sparse optimisation.')
    .version(version(), '-V, --version', 'print the version of slimtrain')
    .configureOutput(usageOutput)
    .exitOverride();
  const commands = [
    trainCommand,
    doctorCommand,
    importCommand,
    evalCommand,
    compressCommand,
    pruneCommand,
    exportCommand,
    slimCommand,
    benchCommand,
    analyzeCommand,
    serveCommand,
  ];
  for (const make of commands) program.addCommand(make().exitOverride().configureOutput(usageOutput));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const unhandle = handleSignals();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    closeAllProgress();
    if (e instanceof CommanderError) {
      // commander has printed the message (or the help) already
      return e.exitCode === 0 ? 0 : USAGE_ERROR;
    }
    if (e instanceof SignalExit) {
      process.stderr.write(`slimtrain: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`slimtrain: error: ${e.message} (run with --help for usage)\n`);
      return USAGE_ERROR;
    }
    process.stderr.write(`slimtrain: error: ${engineFailure(e) ?? (e as Error).message}\n`);
    if (process.env.SLIMTRAIN_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    closeAllProgress();
    unhandle();
  }
}
