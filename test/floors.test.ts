import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorViolations, sources } from '../bench/floors.js';

test("src's folders import only from lower floors, and an import up a floor is named", () => {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
  assert.deepEqual(floorViolations(sources(src)), []);
  const upward = new Map([
    ['layers/conv.ts', "import { GraphNode } from '../graph/groups.js';\nimport { pair } from '../onnx/builder.js';"],
    ['graph/groups.ts', "import { ruleFor } from '../layers/registry.js';"],
    ['export/onnx.ts', "import { x } from '../import/onnx_import.js';"],
    ['nowhere/a.ts', "import { x } from '../util/format.js';"],
  ]);
  assert.deepEqual(floorViolations(upward), [
    'layers/conv.ts imports ../graph/groups.js: layers (floor 2) may not import graph (floor 3)',
    'export/onnx.ts imports ../import/onnx_import.js: export (floor 3) may not import import (floor 3)',
    'nowhere/a.ts: folder nowhere is on no floor (bench/floors.ts)',
  ]);
});
