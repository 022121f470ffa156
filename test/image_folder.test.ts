// A folder of the user's own images, one subfolder per class: decoded with sharp,
// resized, split, normalised, cached; broken input is a clear error or a reported skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { IMAGENET_NORMALIZATION } from '../src/data/datasets.js';
import { loadImageFolder } from '../src/data/folder.js';
import { DataError } from '../src/data/errors.js';

const COLOURS = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255] } as const;

/** DIR/<colour>/<i>.<ext>: solid images of each colour, in every format and several sizes */
async function colourFolder(perClass = 5): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-images-'));
  for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
    mkdirSync(join(dir, name));
    for (let i = 0; i < perClass; i++) {
      const image = sharp({ create: { width: 6 + i, height: 4 + 2 * i, channels: 3, background: { r, g, b } } });
      const format = (['png', 'jpeg', 'webp'] as const)[i % 3];
      await image[format](format === 'png' ? {} : { quality: 100 }).toFile(join(dir, name, `${i}.${format === 'jpeg' ? 'jpg' : format}`));
    }
  }
  return dir;
}

test('an image folder: classes from subfolders, images resized to the shape, a seeded split per class', async () => {
  const dir = await colourFolder();
  const data = await loadImageFolder(dir, { shape: [8, 8, 3], valSplit: 0.2, seed: 1, cacheDir: false });
  assert.deepEqual(data.classes, ['blue', 'green', 'red']);
  assert.equal(data.train.count + data.test.count, 15);
  // one image of each class held out
  assert.deepEqual([...data.test.labels].sort(), [0, 1, 2]);
  assert.deepEqual(data.train.shape, [8, 8, 3]);
  assert.equal(data.train.numClasses, 3);
  // every pixel of a red image is red, whatever its format and size (JPEG and WebP within a few levels)
  const size = 8 * 8 * 3;
  for (let i = 0; i < data.train.count; i++) {
    const want = COLOURS[data.classes[data.train.labels[i]] as keyof typeof COLOURS];
    const pixels = data.train.images.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < size; p++)
      assert.ok(Math.abs(pixels[p] - want[p % 3]) <= 3, `image ${i} pixel ${p}: ${pixels[p]} vs ${want[p % 3]}`);
  }
  // the training images' statistics by default, or the ImageNet preset
  assert.equal(data.normalization.mean.length, 3);
  const imagenet = await loadImageFolder(dir, { shape: [8, 8, 3], normalization: 'imagenet', cacheDir: false });
  assert.deepEqual(imagenet.normalization, IMAGENET_NORMALIZATION);
  const grey = await loadImageFolder(dir, { shape: [5, 7, 1], cacheDir: false });
  assert.deepEqual(grey.train.shape, [5, 7, 1]);
  assert.equal(grey.train.images.length, grey.train.count * 35);
});

test('decoded images are cached: the second load reads them back, a changed file decodes again; decoding reports its count', async () => {
  const dir = await colourFolder(3);
  const cacheDir = mkdtempSync(join(tmpdir(), 'slimtrain-image-cache-'));
  const decoded: number[] = [];
  const first = await loadImageFolder(dir, { shape: [8, 8, 3], cacheDir, onProgress: (p) => decoded.push(p.done) });
  assert.equal(first.cached, false);
  assert.deepEqual(
    decoded,
    [...Array(first.train.count + first.test.count).keys()].map((i) => i + 1),
    'decoding tells its count, image by image',
  );
  assert.equal(readdirSync(cacheDir).length, 1);
  const second = await loadImageFolder(dir, { shape: [8, 8, 3], cacheDir, onProgress: (p) => decoded.push(p.done) });
  assert.equal(second.cached, true);
  assert.equal(decoded.length, first.train.count + first.test.count, 'nothing is decoded when the cache has the images');
  assert.deepEqual(second.train.images, first.train.images);
  assert.deepEqual(second.test.labels, first.test.labels);
  // another shape, or a touched file, is another cache entry
  assert.equal((await loadImageFolder(dir, { shape: [4, 4, 3], cacheDir })).cached, false);
  utimesSync(join(dir, 'red', '0.png'), new Date(), new Date(Date.now() + 5000));
  assert.equal((await loadImageFolder(dir, { shape: [8, 8, 3], cacheDir })).cached, false);
  // an unwritable cache folder costs a decode, never the run
  const blocked = join(cacheDir, 'file');
  writeFileSync(blocked, '');
  assert.equal((await loadImageFolder(dir, { shape: [8, 8, 3], cacheDir: join(blocked, 'sub') })).cached, false);
});

test("--resize cover keeps the aspect and crops the centre (torchvision's Resize + CenterCrop); fill stretches; each has its own cache", async () => {
  // one 30x10 image: red, green and blue thirds from left to right
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-images-'));
  mkdirSync(join(dir, 'stripes'));
  const raw = Buffer.alloc(30 * 10 * 3);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 30; x++) raw[(y * 30 + x) * 3 + Math.floor(x / 10)] = 255;
  await sharp(raw, { raw: { width: 30, height: 10, channels: 3 } })
    .png()
    .toFile(join(dir, 'stripes', 'a.png'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'slimtrain-image-cache-'));
  const read = async (resize: 'fill' | 'cover') => {
    const data = await loadImageFolder(dir, { shape: [6, 6, 3], valSplit: 0.5, resize, cacheDir });
    return { pixels: data.train.images, cached: data.cached };
  };
  const pixel = (img: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, x: number) =>
    Array.from(img.subarray((3 * 6 + x) * 3, (3 * 6 + x) * 3 + 3));
  // within the blur resampling leaves at an edge
  const near = (got: number[], want: number[], what: string) =>
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 40, `${what}: [${got}]`));
  const cover = await read('cover');
  for (let x = 0; x < 6; x++) near(pixel(cover.pixels, x), [0, 255, 0], `cover, column ${x}`);
  const fill = await read('fill');
  assert.equal(fill.cached, false);
  near(pixel(fill.pixels, 0), [255, 0, 0], 'fill, column 0');
  near(pixel(fill.pixels, 5), [0, 0, 255], 'fill, column 5');
  assert.equal((await read('cover')).cached, true);
});

test('a separate validation folder must have the same classes', async () => {
  const train = await colourFolder(3);
  const val = await colourFolder(2);
  const data = await loadImageFolder(train, { shape: [8, 8, 3], val, cacheDir: false });
  assert.equal(data.train.count, 9);
  assert.equal(data.test.count, 6);
  mkdirSync(join(val, 'yellow'));
  writeFileSync(
    join(val, 'yellow', 'x.png'),
    await sharp({ create: { width: 2, height: 2, channels: 3, background: 'yellow' } })
      .png()
      .toBuffer(),
  );
  await assert.rejects(
    () => loadImageFolder(train, { shape: [8, 8, 3], val, cacheDir: false }),
    /validation folder .* has classes blue, green, red, yellow, the training folder blue, green, red/,
  );
});

test('a corrupt image is skipped and reported with its path; an empty class or an empty folder is an error; images without class subfolders are unlabelled', async () => {
  const dir = await colourFolder(3);
  writeFileSync(join(dir, 'red', 'broken.png'), Buffer.from('this is not a png'));
  const data = await loadImageFolder(dir, { shape: [8, 8, 3], cacheDir: false });
  assert.equal(data.skipped.length, 1);
  assert.equal(data.skipped[0].path, join(dir, 'red', 'broken.png'));
  assert.match(data.skipped[0].reason, /unsupported image format|corrupt|Input/i);
  assert.equal(data.train.count + data.test.count, 9);
  mkdirSync(join(dir, 'empty'));
  await assert.rejects(
    () => loadImageFolder(dir, { shape: [8, 8, 3], cacheDir: false }),
    (e: Error) => e instanceof DataError && /class folder .*empty has no images/.test(e.message),
  );
  const flat = mkdtempSync(join(tmpdir(), 'slimtrain-flat-'));
  writeFileSync(
    join(flat, 'a.png'),
    await sharp({ create: { width: 2, height: 2, channels: 3, background: 'red' } })
      .png()
      .toBuffer(),
  );
  // images without class subfolders are unlabelled data (for --distill-only)
  const unlabelled = await loadImageFolder(flat, { shape: [8, 8, 3], cacheDir: false, valSplit: 0.5 });
  assert.deepEqual([unlabelled.classes, unlabelled.train.numClasses, unlabelled.train.count + unlabelled.test.count], [[], 0, 1]);
  const empty = mkdtempSync(join(tmpdir(), 'slimtrain-empty-'));
  await assert.rejects(
    () => loadImageFolder(empty, { shape: [8, 8, 3], cacheDir: false }),
    /has no class subfolders and no images: put each class's images in a subfolder/,
  );
  rmSync(empty, { recursive: true });
  await assert.rejects(
    () => loadImageFolder(join(flat, 'missing'), { shape: [8, 8, 3], cacheDir: false }),
    /cannot read image folder .*missing/,
  );
  assert.ok(!existsSync(join(flat, '.slimtrain-cache')), 'nothing is written into the image folder');
});
