/**
 * The return-propensity network: a wide-and-deep binary classifier over the dense encoded row.
 * Its logit is a linear (wide) term of the inputs plus a small ReLU network (deep) of them.
 * Training starts the wide term at a logistic regression's fit and the deep term at zero, so the
 * linear effects are there from the first step and the network only has to learn what is not
 * linear (e.g. lateness whose effect levels off). The output is the logit;
 * the loss is the sigmoid cross-entropy on it, and probabilities come after calibration.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedReturns } from '../../features/returns/encode.js';

export interface ReturnsModelOptions {
  seed: number;
  hidden?: [number, number];
  /** L2 penalty on the deep part's kernels (default 0; training passes `DEFAULT_L2`). */
  l2?: number;
}

/** Builds an untrained model for `width` inputs; weights are seeded, so builds are reproducible. */
export function buildReturnsModel(width: number, opts: ReturnsModelOptions): tf.LayersModel {
  const [h1, h2] = opts.hidden ?? [32, 16];
  let seed = opts.seed * 1000;
  const l2 = opts.l2 ?? 0;
  const reg = () => (l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined);
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [width], name: 'features' });
  const wide = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.zeros(), name: 'wide' }).apply(input) as tf.SymbolicTensor;
  const d1 = tf.layers.dense({ units: h1, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg(), name: 'deep_1' }).apply(input) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: h2, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg(), name: 'deep_2' }).apply(d1) as tf.SymbolicTensor;
  // Zero, so an untrained network is its wide part alone (training starts it at a logistic fit).
  const deep = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.zeros(), useBias: false, name: 'deep_out' }).apply(d2) as tf.SymbolicTensor;
  const logit = tf.layers.add({ name: 'logit' }).apply([wide, deep]) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logit, name: 'returns' });
}

/** Sets the wide (linear) part to a logistic regression's weights and intercept. */
export function setWidePart(model: tf.LayersModel, weights: ArrayLike<number>, intercept: number): void {
  const wide = model.getLayer('wide');
  const next = [tf.tensor2d(Float32Array.from(weights), [weights.length, 1]), tf.tensor1d([intercept])];
  wide.setWeights(next);
  tf.dispose(next);
}

/** Mean sigmoid cross-entropy of logits against 0/1 targets. */
export function logitLoss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(yTrue, logits) as tf.Scalar;
}

/** Rows `idx` of an encoding as an input tensor (caller disposes). */
export function rowsTensor(enc: EncodedReturns, idx?: Int32Array): tf.Tensor2D {
  if (!idx) return tf.tensor2d(enc.x, [enc.n, enc.width]);
  const out = new Float32Array(idx.length * enc.width);
  for (let k = 0; k < idx.length; k++) out.set(enc.x.subarray(idx[k] * enc.width, (idx[k] + 1) * enc.width), k * enc.width);
  return tf.tensor2d(out, [idx.length, enc.width]);
}

/** The network's logits for every row, in batches of `batchSize` rows per model call. */
export function predictLogits(model: tf.LayersModel, enc: EncodedReturns, batchSize = 16384): Float32Array {
  const out = new Float32Array(enc.n);
  for (let s = 0; s < enc.n; s += batchSize) {
    const e = Math.min(enc.n, s + batchSize);
    const z = tf.tidy(() => {
      const x = tf.tensor2d(enc.x.subarray(s * enc.width, e * enc.width), [e - s, enc.width]);
      return model.predict(x, { batchSize: e - s }) as tf.Tensor;
    });
    out.set(z.dataSync() as Float32Array, s);
    z.dispose();
  }
  return out;
}

/**
 * Per row and input column, gradient × (input − reference): the first-order share of each input in
 * the logit's distance from the reference row's logit. Exact for the wide (linear) term; for the
 * deep term a local, first-order attribution. Row-major [n, width].
 */
export function inputContributions(model: tf.LayersModel, enc: EncodedReturns, reference: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = rowsTensor(enc);
    const grad = tf.grad((t: tf.Tensor) => (model.apply(t, { training: false }) as tf.Tensor).sum())(x);
    const ref = tf.tensor2d(reference, [1, enc.width]);
    return grad.mul(x.sub(ref)).dataSync() as Float32Array;
  });
}
