// ONNX Runtime sessions as slimtrain opens them. ONNX Runtime's warnings are about
// how a file was written (an initializer also listed among the graph's inputs, as
// older PyTorch exporters write every weight; initializers it drops), one line per
// tensor: they would bury a run's output, and they ask nothing of the user. Only its
// errors are logged; a session that cannot be made still throws.
import type { InferenceSession } from 'onnxruntime-node';

const ERRORS_ONLY = 3;

/** An ONNX Runtime session for the model `bytes`, logging only errors. */
export async function createSession(bytes: Uint8Array, options: InferenceSession.SessionOptions = {}): Promise<InferenceSession> {
  const ort = await import('onnxruntime-node');
  return ort.InferenceSession.create(bytes, { logSeverityLevel: ERRORS_ONLY, ...options });
}
