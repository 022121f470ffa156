// The flags more than one command takes, each defined once with its parser, and
// the checks of their values. Options are typed (@commander-js/extra-typings): a
// command's action sees each flag with the type its parser gives.
import { existsSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { compressDefaults } from '../compress/defaults.js';
import { backendNames } from '../engine/backend.js';
import { datasetNames } from '../data/datasets.js';
import { resizeModes, type Resize } from '../data/folder.js';
import { zooNames } from '../models/zoo.js';
import { namesModelFile } from '../models/resolve.js';
import { scheduleNames } from '../train/schedules.js';
import { allocations } from '../optim/allocation.js';

/** A combination of flags that is wrong; exits with 2 like commander's own errors. */
export class UsageError extends Error {}

export function number(kind: 'positive' | 'non-negative' | 'fraction', integer = false) {
  return (value: string): number => {
    const x = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(x) &&
      (!integer || Number.isInteger(x)) &&
      (kind === 'positive' ? x > 0 : kind === 'non-negative' ? x >= 0 : x >= 0 && x < 1);
    if (!ok) {
      const want = kind === 'fraction' ? 'a number in [0, 1)' : `a ${kind} ${integer ? 'integer' : 'number'}`;
      throw new InvalidArgumentError(`expected ${want}, got '${value}'.`);
    }
    return x;
  };
}

function epochList(value: string): number[] {
  return value.split(',').map((s) => number('positive', true)(s.trim()));
}

/** A zoo name, or something that names a model file (a .json or .onnx path, or a folder). */
export function modelSpec(value: string): string {
  if ((zooNames as readonly string[]).includes(value) || namesModelFile(value)) return value;
  throw new InvalidArgumentError(`'${value}' is neither a zoo model (${zooNames.join(', ')}) nor a path to a model.json or .onnx file.`);
}

/** A data set's name, or an existing folder (of class subfolders; the reader checks those). */
function dataSpec(value: string): string {
  if ((datasetNames as readonly string[]).includes(value)) return value;
  if (existsSync(value) && statSync(value).isDirectory()) return value;
  throw new InvalidArgumentError(`'${value}' is neither a data set (${datasetNames.join(', ')}) nor a folder of images.`);
}

const numberList =
  (kind: 'positive' | 'non-negative') =>
  (value: string): number[] =>
    value.split(',').map((s) => number(kind)(s.trim()));

function shape3(value: string): [number, number, number] {
  const dims = value.split('x').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new InvalidArgumentError(`expected HEIGHTxWIDTHxCHANNELS such as 28x28x1, got '${value}'.`);
  }
  return dims as [number, number, number];
}

function sizes(value: string): number[] {
  const dims = value.split('x').map(Number);
  if (dims.length < 1 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new InvalidArgumentError(`expected sizes joined by x, such as 3x640x640, got '${value}'.`);
  }
  return dims;
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

export const MODEL_HELP = `zoo model (${zooNames.join(', ')}), a model.json or a .onnx file`;

export const options = {
  json: () => new Option('--json', 'print the results as JSON on stdout').default(false),
  // progress, stage lines and the backend line go to stderr, results to stdout (also with --json)
  quiet: () => new Option('--quiet', 'print only the results: no progress, stages or backend line on stderr').default(false),
  backend: () =>
    new Option('--backend <name>', 'compute backend (default: $SLIMTRAIN_BACKEND, else native where its addon loads, else wasm)').choices(
      backendNames,
    ),
  data: () =>
    new Option('--data <name|dir>', `data set (${datasetNames.join(', ')}) or a folder with one subfolder of images per class`)
      .argParser(dataSpec)
      .makeOptionMandatory(),
  val: () => new Option('--val <dir>', 'image folders: a separate validation folder with the same class subfolders'),
  valSplit: () =>
    new Option('--val-split <f>', 'image folders without --val: the share of each class held out for validation (default 0.2)').argParser(
      number('fraction'),
    ),
  normalize: () =>
    new Option(
      '--normalize <how>',
      "'dataset' (the training images' statistics, default), 'imagenet', or 'none' (pixels in [0, 1])",
    ).choices(['dataset', 'imagenet', 'none'] as const),
  mean: () =>
    new Option('--mean <m>', 'per-channel means of [0, 1] pixels, as torchvision Normalize takes them (with --std)').argParser(
      numberList('non-negative'),
    ),
  std: () => new Option('--std <s>', 'per-channel standard deviations (with --mean)').argParser(numberList('positive')),
  resize: () =>
    new Option(
      '--resize <how>',
      "image folders: 'fill' stretches to the input size (default), 'cover' crops the centre and keeps the aspect",
    ).choices(resizeModes),
  inputShape: () =>
    new Option(
      '--input-shape <dims>',
      "a model file whose input leaves sizes free: one sample's sizes to work at, in the file's order (ONNX CxHxW such as 3x640x640, TensorFlow.js HxWxC)",
    ).argParser(sizes),
  imageSize: () =>
    new Option(
      '--input <HxWxC>',
      "a zoo model on an image folder: the size images are read at (default: an ImageNet architecture's own, else 32x32x3 colour)",
    ).argParser(shape3),
  subset: (what = 'each split') =>
    new Option('--subset <n>', `use only the first N images of ${what} (smoke runs)`).argParser(number('positive', true)),
  freeze: () =>
    new Option('--freeze <layers>', 'keep these layers whole and untrained, as trainable: false does (comma-separated, repeatable)')
      .argParser(collect)
      .default([] as string[]),
  trainFrozen: () =>
    new Option('--train-frozen', 'train the layers the model marks trainable: false too, and let their channels go').default(false),
  allocation: (who: string, byDefault: 'global' | 'uniform') =>
    new Option('--allocation <a>', `${who}'global' ranks all groups together, 'uniform' removes the same fraction of every layer`)
      .choices(allocations)
      .default(byDefault),
  out: (what: string) => new Option('--out <dir>', what),
  overwrite: () => new Option('--overwrite', 'replace the files of an earlier run in --out DIR').default(false),
  resume: () =>
    new Option('--resume', 'continue the run whose checkpoints are in --out DIR (run the same command with --resume added)').default(false),
  input: () =>
    new Option(
      '--input <HxWxC>',
      'input shape for a zoo model (default: the one it was designed for: 28x28x1 for mlp and lenet5, 32x32x3 for the CIFAR models, 224x224x3 or 299x299x3 for the ImageNet ones)',
    ).argParser(shape3),
  classes: () => new Option('--classes <n>', 'classes for a zoo model').argParser(number('positive', true)).default(10),
  roundChannels: () =>
    new Option('--round-channels <n>', 'keep a multiple of N channels per layer (zero ones kept to fill), for SIMD-friendly widths')
      .argParser(number('positive', true))
      .default(1),
  /** --round-channels that also takes 'auto': the multiple measured fastest */
  roundChannelsOrAuto: () =>
    new Option(
      '--round-channels <n>',
      "keep a multiple of N channels per layer (zero ones kept to fill), for SIMD-friendly widths; 'auto' (the default with --target-speedup): the multiple that runs fastest in --runtime at --speed-batch, measured",
    ).argParser((value: string): number | 'auto' => (value === 'auto' ? 'auto' : number('positive', true)(value))),
};

/** A command with --json, --quiet and --backend: every command takes them. */
export function commonCommand(name: string) {
  return new Command(name).addOption(options.json()).addOption(options.quiet()).addOption(options.backend());
}

/** A command that reads data: a data set or an image folder, its validation split and normalisation. */
export function dataCommand(name: string) {
  return commonCommand(name)
    .addOption(options.data())
    .addOption(options.val())
    .addOption(options.valSplit())
    .addOption(options.normalize())
    .addOption(options.mean())
    .addOption(options.std())
    .addOption(options.resize())
    .addOption(options.imageSize())
    .addOption(options.inputShape());
}

export interface DataFlags {
  data: string;
  val?: string;
  valSplit?: number;
  normalize?: 'dataset' | 'imagenet' | 'none';
  mean?: number[];
  std?: number[];
  resize?: Resize;
  input?: [number, number, number];
  inputShape?: number[];
}

/** What the data flags say, as the library's data settings. */
export function dataSettings(o: DataFlags) {
  if ((o.mean === undefined) !== (o.std === undefined)) throw new UsageError('--mean and --std go together: give both');
  if (o.mean && o.normalize) throw new UsageError('give --normalize or --mean/--std, not both');
  return {
    data: o.data,
    val: o.val,
    valSplit: o.valSplit,
    normalization: o.mean && o.std ? { mean: o.mean, std: o.std } : o.normalize,
    resize: o.resize,
    inputShape: o.input,
    modelInputShape: o.inputShape,
  };
}

/** A command with the flags `train`, `compress` and `prune` share: data, epochs, learning rate and its schedule, seeds. */
export function trainingCommand(name: string) {
  return dataCommand(name)
    .addOption(new Option('--epochs <n>', 'training epochs').argParser(number('positive', true)).default(compressDefaults.epochs))
    .addOption(new Option('--batch-size <n>', 'mini-batch size').argParser(number('positive', true)).default(compressDefaults.batchSize))
    .addOption(new Option('--lr <rate>', 'base learning rate').argParser(number('positive')).default(compressDefaults.lr))
    .addOption(new Option('--momentum <m>', 'SGD momentum').argParser(number('fraction')).default(compressDefaults.momentum))
    .addOption(new Option('--no-nesterov', 'plain heavy-ball momentum instead of Nesterov'))
    .addOption(
      new Option('--weight-decay <wd>', 'L2 weight decay (decoupled for adamw)')
        .argParser(number('non-negative'))
        .default(compressDefaults.weightDecay),
    )
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(scheduleNames).default(compressDefaults.schedule))
    .addOption(
      new Option('--warmup-epochs <n>', 'linear learning-rate warm-up (epochs, may be fractional)')
        .argParser(number('non-negative'))
        .default(compressDefaults.warmupEpochs),
    )
    .addOption(new Option('--milestones <epochs>', "'step' schedule: comma-separated epochs").argParser(epochList).default([] as number[]))
    .addOption(
      new Option('--gamma <g>', "'step' schedule: factor at each milestone").argParser(number('positive')).default(compressDefaults.gamma),
    )
    .addOption(new Option('--augment', 'random crop (pad 4) and horizontal flip; for 32x32 natural images').default(false))
    .addOption(options.subset())
    .addOption(
      new Option('--seed <n>', 'seed for weights, shuffling and augmentation')
        .argParser(number('non-negative', true))
        .default(compressDefaults.seed),
    );
}

/** What the training flags say, as the library's training settings. */
export interface TrainingFlags {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: (typeof scheduleNames)[number];
  warmupEpochs: number;
  milestones: number[];
  gamma: number;
  augment: boolean;
  subset?: number;
  seed: number;
}

export function trainingSettings(o: TrainingFlags) {
  return {
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    lr: o.lr,
    schedule: o.schedule,
    warmupEpochs: o.warmupEpochs,
    milestones: o.milestones,
    gamma: o.gamma,
    augmentation: o.augment ? { cropPadding: 4, horizontalFlip: true } : undefined,
    subset: o.subset,
  };
}

/** SGD momentum as the flags give it: Nesterov only where there is momentum. */
export function momentumSettings(o: Pick<TrainingFlags, 'momentum' | 'nesterov' | 'weightDecay'>) {
  return { momentum: o.momentum, nesterov: o.nesterov && o.momentum > 0, weightDecay: o.weightDecay };
}

export function checkResume(o: { resume?: boolean; out?: string }): void {
  if (o.resume && !o.out) throw new UsageError('--resume continues the run saved in --out DIR: give --out');
}
