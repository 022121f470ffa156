// npm run bench:onnx [-- --models resnet18,...,segmentation.fcn_resnet50] [--sizes 224,32] [--seed 1]
// torchvision's models (random weights; a segmentation model's 'out') exported by
// torch.onnx.export with default settings, imported, and checked: per model and size, the import time and its
// largest difference from ONNX Runtime, the groups found, the MACs, and the slim
// model's check with a seeded half of the prunable groups removed, written back to
// ONNX with the original interface and run in ONNX Runtime. Needs Debian's
// python3-torch and python3-torchvision (under /usr/bin/python3); without them it
// says so and stops.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { exportOnnx } from '../src/export/onnx.js';
import { checkOnnx } from '../src/onnx/check.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { importOnnx } from '../src/import/onnx_import.js';
import { countModel } from '../src/layers/count.js';
import { constructSlimModel } from '../src/slim/construct.js';
import { zeroOutGroups } from '../src/slim/zero.js';
import { Rng } from '../src/util/random.js';
import { formatTable } from '../src/util/table.js';
import { thousands, times } from '../src/util/format.js';

const { values } = parseArgs({
  options: {
    models: {
      type: 'string',
      default:
        'resnet18,mobilenet_v2,squeezenet1_0,densenet121,efficientnet_b0,shufflenet_v2_x1_0,resnext50_32x4d,segmentation.fcn_resnet50',
    },
    sizes: { type: 'string', default: '224,32' },
    seed: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});

const EXPORT = `
import sys, torch, torchvision
name, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
module = torchvision.models
for part in name.split('.')[:-1]:
    module = getattr(module, part)
build = getattr(module, name.split('.')[-1])
# a segmentation model: no pretrained backbone (nothing is downloaded), its 'out' map
model = (build(weights_backbone=None) if '.' in name else build()).eval()
class Out(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m
    def forward(self, x):
        y = self.m(x)
        return y['out'] if isinstance(y, dict) else y
torch.onnx.export(Out(model), torch.randn(1, 3, size, size), path)
print(torch.__version__, torchvision.__version__)
`;

function exportTorchvision(name: string, size: number, path: string): string {
  return execFileSync(values.python, ['-c', EXPORT, name, String(size), path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

try {
  execFileSync(values.python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
} catch {
  console.error(`bench:onnx needs PyTorch and torchvision under ${values.python}: apt-get install python3-torch python3-torchvision`);
  process.exit(1);
}

const engine = await initEngine({ announce: false });
const dir = mkdtempSync(join(tmpdir(), 'slimtrain-bench-onnx-'));
const rows: string[][] = [];
let versions = '';
try {
  for (const name of values.models.split(',')) {
    for (const size of values.sizes.split(',').map(Number)) {
      const path = join(dir, `${name}-${size}.onnx`);
      versions = exportTorchvision(name, size, path);
      const start = performance.now();
      const imported = await importOnnx(path);
      const importSeconds = (performance.now() - start) / 1000;
      const { model } = imported;
      const partition = zeroInvariantGroups(model);
      const prunable = partition.groups.filter((g) => g.prunable);
      const rng = new Rng(Number(values.seed));
      zeroOutGroups(
        model,
        prunable.filter(() => rng.next() < 0.5),
      );
      const slim = await constructSlimModel(model, { partition });
      const onnx = await checkOnnx(slim.model, exportOnnx(slim.model, { interface: imported.interface }), {
        interface: imported.interface,
      });
      rows.push([
        name,
        `${size}x${size}`,
        `${importSeconds.toFixed(1)} s`,
        imported.check.maxAbsDiff.toExponential(1),
        thousands(partition.groups.length),
        thousands(prunable.length),
        `${(countModel(model).macs / 1e6).toFixed(1)} M`,
        times(slim.before.macs / slim.after.macs),
        slim.check.maxAbsDiff.toExponential(1),
        onnx.maxAbsDiff.toExponential(1),
      ]);
      console.error(`${name} ${size}: done`);
      slim.model.dispose();
      model.dispose();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`torch, torchvision ${versions}; ${describeBackend(engine)}; seed ${values.seed}; half of the prunable groups zeroed`);
console.log(
  formatTable({
    header: [
      'model',
      'input',
      'import',
      'max |diff| vs ORT',
      'groups',
      'prunable',
      'MACs',
      'slim MACs /',
      'slim vs sparse',
      'slim.onnx vs sparse (ORT)',
    ],
    rows,
  }),
);
