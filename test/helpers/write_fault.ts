// Preloaded into the CLI by tests (node --import): makes the write whose path ends
// with SLIMTRAIN_TEST_WRITE_FAULT's path fail with its code, as a full disk would,
// e.g. "ENOSPC slim/weights.bin".
import { injectWriteFault } from '../../src/util/files.js';

const [code, suffix] = (process.env.SLIMTRAIN_TEST_WRITE_FAULT ?? '').split(' ');
if (code && suffix)
  injectWriteFault((path, operation) =>
    operation === 'write' && path.endsWith(suffix) ? Object.assign(new Error(`${code}: failed, ${operation}`), { code }) : undefined,
  );
