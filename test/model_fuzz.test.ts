// Fuzzing the model readers: any mutation of a valid model.json or weights.bin ends
// in a loaded model or a ModelFileError that names the file, never another
// exception, a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { initEngine } from '../src/engine/index.js';
import { loadModel, ModelFileError, saveModel } from '../src/io/model_files.js';
import { buildZooModel } from '../src/models/zoo.js';

await initEngine({ backend: 'cpu' });
// FUZZ_SEED and FUZZ_RUNS (a multiple of the default count) explore beyond CI's fixed cases
const seed = Number(process.env.FUZZ_SEED ?? 7);
const runs = Number(process.env.FUZZ_RUNS ?? 1);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

function pathsOf(value: Json, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [at];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...children.flatMap(([k, v]) => pathsOf(v, [...at, k]))];
}

function edit(root: Json, path: Path, change: (parent: Record<string | number, Json>, key: string | number) => void): Json {
  if (path.length === 0) return root;
  let parent = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  change(parent, path[path.length - 1]);
  return root;
}

/** values a careless or malicious edit puts where a number, string or list was */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(-1, 0, 1, 0.5, 1e9, 2 ** 31, -1e300, null, true, '', 'x', [], {}, [1, 2, 3], 'float16', 'int32', 'same', 'relu'),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { on: 'json-text'; kind: 'truncate' | 'flip'; at: number; char: string }
  | { on: 'json'; kind: 'replace' | 'delete'; path: number; value: Json }
  | { on: 'weights'; kind: 'truncate' | 'extend' | 'flip'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    on: fc.constant('json-text' as const),
    kind: fc.constantFrom('truncate' as const, 'flip' as const),
    at: fc.nat(),
    char: fc.string({ minLength: 1, maxLength: 1 }),
  }),
  {
    arbitrary: fc.record({
      on: fc.constant('json' as const),
      kind: fc.constantFrom('replace' as const, 'delete' as const),
      path: fc.nat(),
      value: oddValue,
    }),
    weight: 4,
  },
  fc.record({
    on: fc.constant('weights' as const),
    kind: fc.constantFrom('truncate' as const, 'extend' as const, 'flip' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);

function mutate(modelJson: string, weights: Uint8Array, mutations: Mutation[]): { modelJson: string; weights: Uint8Array } {
  for (const m of mutations) {
    if (m.on === 'json-text') {
      const at = m.at % (modelJson.length + 1);
      modelJson = m.kind === 'truncate' ? modelJson.slice(0, at) : modelJson.slice(0, at) + m.char + modelJson.slice(at + 1);
    } else if (m.on === 'json') {
      let root: Json;
      try {
        root = JSON.parse(modelJson) as Json;
      } catch {
        continue; // an earlier text mutation broke it already
      }
      const paths = pathsOf(root);
      const path = paths[m.path % paths.length];
      root =
        path.length === 0
          ? m.value
          : edit(root, path, (parent, key) => {
              if (m.kind === 'delete' && Array.isArray(parent)) parent.splice(key as number, 1);
              else if (m.kind === 'delete') delete parent[key];
              else parent[key] = m.value;
            });
      modelJson = JSON.stringify(root);
    } else {
      const at = m.at % (weights.length + 1);
      if (m.kind === 'truncate') weights = weights.slice(0, at);
      else if (m.kind === 'extend') weights = Uint8Array.from([...weights, ...m.bytes]);
      else {
        weights = weights.slice();
        m.bytes.forEach((b, i) => at + i < weights.length && (weights[at + i] = b));
      }
    }
  }
  return { modelJson, weights };
}

for (const [name, shape] of [
  ['lenet5', [28, 28, 1]],
  ['resnet20', [8, 8, 3]],
] as const) {
  test(`fuzz: mutated ${name} model.json and weights.bin load or fail with ModelFileError`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'slimtrain-fuzz-'));
    const original = buildZooModel(name, { inputShape: [...shape], numClasses: 10, seed: 1 });
    await saveModel(original, join(dir, 'valid'), { dataset: 'mnist' });
    original.dispose();
    const validJson = readFileSync(join(dir, 'valid', 'model.json'), 'utf8');
    const validWeights = new Uint8Array(readFileSync(join(dir, 'valid', 'weights.bin')));
    const outcomes = { loaded: 0, refused: 0 };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const { modelJson, weights } = mutate(validJson, validWeights, mutations);
        const caseDir = join(dir, `case-${run++}`);
        mkdirSync(caseDir);
        writeFileSync(join(caseDir, 'model.json'), modelJson);
        writeFileSync(join(caseDir, 'weights.bin'), weights);
        try {
          const { model } = await loadModel(join(caseDir, 'model.json'));
          model.dispose();
          outcomes.loaded++;
        } catch (e) {
          if (!(e instanceof ModelFileError)) throw new Error(`not a ModelFileError: ${(e as Error).stack}`);
          assert.ok(e.message.includes(caseDir), `the message names the file: ${e.message}`);
          outcomes.refused++;
        }
      }),
      { numRuns: Math.round((name === 'lenet5' ? 400 : 100) * runs), seed },
    );
    // the mutations must reach both outcomes, or the test checks nothing
    assert.ok(outcomes.loaded > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
    t.diagnostic(`${outcomes.loaded} mutated models loaded, ${outcomes.refused} refused with a ModelFileError`);
  });
}
