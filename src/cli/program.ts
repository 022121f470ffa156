// The `slimtrain` command: one file per command in commands/, each a pure function
// from its typed flags to the library's job and an action that runs it and prints.
// Usage errors exit with 2, failures of the job with 1, a signal with 128 + its number.
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
import { SignalExit } from './run.js';

const USAGE_ERROR = 2;

export function buildProgram(): Command {
  const program = new Command()
    .name('slimtrain')
    .description('Train, compress and evaluate TensorFlow.js and ONNX models by group-sparse optimisation.')
    .showHelpAfterError('(run with --help for usage)')
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
  for (const make of commands) program.addCommand(make().exitOverride().showHelpAfterError('(run with --help for usage)'));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
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
  }
}
