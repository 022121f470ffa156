// Resize2D: resizes a map's height and width by linear or nearest interpolation with
// the coordinate modes ONNX names: half_pixel (PyTorch's align_corners=False,
// TensorFlow 2's resize), pytorch_half_pixel, align_corners, asymmetric. TensorFlow.js's
// UpSampling2D repeats by whole factors, and its bilinear kernel's gradient ignores
// half-pixel centres, so this is a class of slimtrain's (docs/DESIGN.md, "Layers of
// slimtrain's own"): each axis is a product with a fixed interpolation matrix, whose
// gradient is the transposed product. Channels pass: an interpolation of a constant is
// that constant. ONNX: Resize with sizes.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxExportError } from '../onnx/builder.js';
import type { LayerRule } from './rule.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

export const RESIZE_COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
export const RESIZE_ROUNDING = ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'] as const;
export type ResizeCoordinates = (typeof RESIZE_COORDINATES)[number];
export type ResizeRounding = (typeof RESIZE_ROUNDING)[number];

export interface Resize2DArgs extends LayerArgs {
  /** output [height, width] */
  size: [number, number];
  /** [height, width] scale factors the coordinates use (default: output over input size) */
  scales?: [number, number];
  interpolation?: 'bilinear' | 'nearest';
  coordinates?: ResizeCoordinates;
  /** how nearest interpolation rounds a coordinate */
  rounding?: ResizeRounding;
}

const ROUND: Record<ResizeRounding, (x: number) => number> = {
  floor: Math.floor,
  ceil: Math.ceil,
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
};

/**
 * The [out, in] matrix that interpolates one axis, as ONNX Runtime computes Resize:
 * output i reads input coordinate x(i), clamped to the axis.
 */
export function interpolationMatrix(
  size: number,
  out: number,
  scale: number,
  interpolation: 'bilinear' | 'nearest',
  coordinates: ResizeCoordinates,
  rounding: ResizeRounding,
): Float32Array {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    let x: number;
    if (coordinates === 'align_corners') x = out === 1 ? 0 : (i * (size - 1)) / (out - 1);
    else if (coordinates === 'asymmetric') x = i / scale;
    else if (coordinates === 'pytorch_half_pixel' && out === 1) x = 0;
    else if (coordinates === 'tf_half_pixel_for_nn') x = (i + 0.5) / scale;
    else x = (i + 0.5) / scale - 0.5;
    if (interpolation === 'nearest') {
      m[i * size + Math.min(Math.max(ROUND[rounding](x), 0), size - 1)] = 1;
      continue;
    }
    x = Math.min(Math.max(x, 0), size - 1);
    const lo = Math.floor(x);
    const hi = Math.min(lo + 1, size - 1);
    const t = x - lo;
    m[i * size + lo] += 1 - t;
    m[i * size + hi] += t;
  }
  return m;
}

const isIdentity = (m: Float32Array, n: number) => m.length === n * n && m.every((v, k) => v === (k % (n + 1) === 0 ? 1 : 0));

export class Resize2D extends tfl.layers.Layer {
  static readonly className = 'Resize2D';
  readonly size: [number, number];
  readonly scales?: [number, number];
  readonly interpolation: 'bilinear' | 'nearest';
  readonly coordinates: ResizeCoordinates;
  readonly rounding: ResizeRounding;
  /** the transposed interpolation matrices of height and width, [in, out]; undefined where the axis is kept */
  private matrices?: (tf.Tensor2D | undefined)[];

  constructor(args: Resize2DArgs) {
    super(args);
    this.size = [args.size[0], args.size[1]];
    this.scales = args.scales && [args.scales[0], args.scales[1]];
    this.interpolation = args.interpolation ?? 'bilinear';
    // TensorFlow.js reads config strings back from a model.json in camelCase (halfPixel)
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    this.coordinates = snake(args.coordinates ?? 'half_pixel') as ResizeCoordinates;
    this.rounding = snake(args.rounding ?? 'round_prefer_floor') as ResizeRounding;
    if (!RESIZE_COORDINATES.includes(this.coordinates) || !RESIZE_ROUNDING.includes(this.rounding)) {
      throw new Error(`Resize2D '${args.name ?? ''}': coordinates must be one of ${RESIZE_COORDINATES.join(', ')}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const [, h, w] = inputShape as tfl.Shape;
    if (h === null || w === null) throw new Error(`Resize2D '${this.name}' needs a fixed input height and width`);
    this.matrices = [h, w].map((n, axis) => {
      const out = this.size[axis];
      const m = interpolationMatrix(n, out, this.scales?.[axis] ?? out / n, this.interpolation, this.coordinates, this.rounding);
      return isIdentity(m, n) ? undefined : tf.keep(tf.transpose(tf.tensor2d(m, [out, n])));
    });
    super.build(inputShape);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, , , c] = inputShape as tfl.Shape;
    return [n, this.size[0], this.size[1], c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [hT, wT] = this.matrices!;
      // width: [N, H, C, W] x [W, W']; height: [N, C, W', H] x [H, H']
      if (wT) {
        const [n, h, w, c] = x.shape;
        const rows = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [n * h * c, w]);
        x = tf.transpose(tf.reshape(tf.matMul(rows, wT), [n, h, c, this.size[1]]), [0, 1, 3, 2]);
      }
      if (hT) {
        const [n, h, w, c] = x.shape;
        const rows = tf.reshape(tf.transpose(x, [0, 3, 2, 1]), [n * c * w, h]);
        x = tf.transpose(tf.reshape(tf.matMul(rows, hT), [n, c, w, this.size[0]]), [0, 3, 2, 1]);
      }
      return x;
    });
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    tf.dispose((this.matrices ?? []).filter((m): m is tf.Tensor2D => m !== undefined));
    return super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...super.getConfig(),
      size: this.size,
      interpolation: this.interpolation,
      coordinates: this.coordinates,
      rounding: this.rounding,
    };
    if (this.scales) config.scales = this.scales;
    return config;
  }
}
tf.serialization.registerClass(Resize2D);

export const resize2d: LayerRule = {
  classes: [Resize2D.className],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    if (!x.nchw) throw new OnnxExportError(`layer '${n.name}' resizes a value that is not an image map`);
    const coordinates = n.config.coordinates as string;
    const attrs: Record<string, string> = {
      mode: n.config.interpolation === 'nearest' ? 'nearest' : 'linear',
      coordinate_transformation_mode: coordinates,
      nearest_mode: n.config.rounding as string,
    };
    if (n.config.scales && coordinates !== 'align_corners') {
      // the coordinates follow the scales given, not the sizes: write scales
      const [sh, sw] = n.config.scales as number[];
      const scales = g.floats(`${n.name}/scales`, [4], Float32Array.of(1, 1, sh, sw));
      return { name: g.node('Resize', [x.name, '', scales], `${n.name}/resize`, attrs), nchw: true };
    }
    // the batch and channels as they come, the size as fixed
    const [h, w] = n.config.size as number[];
    const shape = g.node('Shape', [x.name], `${n.name}/shape`);
    const batchAndChannels = g.node('Slice', [shape, g.ints(`${n.name}/from`, [0]), g.ints(`${n.name}/to`, [2])], `${n.name}/nc`);
    const sizes = g.node('Concat', [batchAndChannels, g.ints(`${n.name}/hw`, [h, w])], `${n.name}/sizes`, { axis: 0 });
    return { name: g.node('Resize', [x.name, '', '', sizes], `${n.name}/resize`, attrs), nchw: true };
  },
};
