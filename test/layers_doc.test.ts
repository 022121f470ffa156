// The README's "Supported layers" table is what users read: it must list exactly the
// classes the registry knows, with the right ONNX column and rule file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportableLayerClasses, supportedLayerClasses } from '../src/layers/registry.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README support table lists every class of the layer registry, its rule file and whether it exports to ONNX', () => {
  const rows = readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => /^\| [A-Z]\w+ \|/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()));
  const documented = new Map(rows.map((r) => [r[1], { file: r[2], onnx: r[5] }]));
  assert.deepEqual([...documented.keys()].sort(), supportedLayerClasses.filter((c) => c !== 'InputLayer').sort());
  for (const [cls, row] of documented) {
    assert.equal(row.onnx.split(' ')[0], exportableLayerClasses.includes(cls) ? 'yes' : 'no', cls);
    assert.ok(existsSync(join(root, 'src', 'layers', row.file)), `${cls}: src/layers/${row.file}`);
  }
});
