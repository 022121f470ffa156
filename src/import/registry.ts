// The ONNX operators slimtrain imports, one converter each (ops/*.ts); adding an
// operator is adding its converter to one of those tables.
import type { OpConverter } from './context.js';
import { activationOps } from './ops/activation.js';
import { arithmeticOps } from './ops/arithmetic.js';
import { channelOps } from './ops/channels.js';
import { convOps } from './ops/conv.js';
import { denseOps } from './ops/dense.js';
import { normalizationOps } from './ops/normalization.js';
import { poolingOps } from './ops/pooling.js';
import { resizeOps } from './ops/resize.js';
import { shapeOps } from './ops/shape.js';

export const OP_CONVERTERS: Record<string, OpConverter> = {
  ...convOps,
  ...normalizationOps,
  ...activationOps,
  ...arithmeticOps,
  ...poolingOps,
  ...resizeOps,
  ...denseOps,
  ...shapeOps,
  ...channelOps,
};

/** What to tell a user whose model uses an operator slimtrain does not import. */
export const UNSUPPORTED_HINTS: Record<string, string> = {
  LSTM: 'recurrent layers are not imported; slimtrain compresses CNNs and MLPs',
  GRU: 'recurrent layers are not imported; slimtrain compresses CNNs and MLPs',
  Loop: 'control flow is not imported: export with a fixed input size and without data-dependent branches',
  If: 'control flow is not imported: export with a fixed input size and without data-dependent branches',
  InstanceNormalization: 'use BatchNorm2d, or remove it',
};

export const supportedOnnxOps = Object.keys(OP_CONVERTERS).sort();
