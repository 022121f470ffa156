// slimtrain doctor: the compute backend, its native libraries and threads, and a
// check of the native kernels against the cpu backend. Exits 1 when the check fails.
import { diagnose, type Diagnosis } from '../../engine/doctor.js';
import { formatTable } from '../../util/table.js';
import { commonCommand } from '../options.js';
import { printResult } from '../run.js';

const define = () =>
  commonCommand('doctor').description(
    'show the compute backend, its native libraries and threads, and check the native kernels against the cpu backend (exit 1 when they disagree)',
  );

function diagnosisText(d: Diagnosis): string {
  const rows: [string, string][] = [
    ['backend', d.summary],
    ['node', `${d.node} on ${d.platform}`],
    ['cpu', `${d.cpu}, ${d.cores} cores`],
    ['native addon', d.native.loaded ? d.native.addon : `not available: ${d.native.error}`],
  ];
  if (d.native.info) {
    const info = d.native.info;
    rows.push(['oneDNN', info.onednn], ['BLAS', `${info.blas} (${info.blasThreads} threads)`], ['OpenMP threads', String(info.threads)]);
    rows.push([
      'OpenMP wait',
      `${d.openMpWait.policy} (${d.openMpWait.from === 'slimtrain' ? 'set by slimtrain: idle threads sleep' : 'from the environment'})`,
    ]);
  }
  if (d.selfCheck) {
    rows.push([
      'self-check',
      `${d.selfCheck.ok ? 'ok' : 'FAILED'}: native vs cpu max relative difference ${d.selfCheck.maxRelativeDifference.toExponential(1)}`,
    ]);
  } else {
    rows.push(['to enable native', 'apt-get install libopenblas-dev libdnnl-dev g++, then npm run build:native']);
  }
  return `${formatTable({ header: ['check', 'result'], rows })}\n`;
}

export function doctorCommand() {
  return define().action(async (o) => {
    const d = await diagnose({ backend: o.backend });
    if (!o.quiet) printResult(o, d, () => diagnosisText(d));
    if (d.selfCheck && !d.selfCheck.ok) {
      throw new Error(
        `the native kernels disagree with the cpu backend (max relative difference ${d.selfCheck.maxRelativeDifference.toExponential(1)}); use --backend wasm`,
      );
    }
  });
}
