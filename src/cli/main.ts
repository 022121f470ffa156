#!/usr/bin/env node
import { main } from './program.js';

// output piped into a program that closes early (`slimtrain analyze resnet20 --json | head`):
// the reader wants no more, so stop quietly instead of crashing on EPIPE
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
