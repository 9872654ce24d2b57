/**
 * The ETA network: embeddings for categoricals, concatenated with the standardized numerics, two
 * dense layers, and three raw outputs turned into non-crossing quantiles of the residual over the
 * baseline: P50 = r0, P10 = r0 − softplus(r1), P90 = r0 + softplus(r2). An ensemble's members,
 * trained apart, are saved as the towers of one such model and averaged.
 *
 * The quantile head is applied outside the saved graph (in `quantileHead`), so `model.json` holds
 * only standard layers and loads in any tfjs runtime without custom classes.
 */
import * as tf from '@tensorflow/tfjs';
import { fromResidual, numericWidth, type EncodedEta, type EtaFeatureSpec } from '../../features/eta/feature-spec.js';

/** The quantile levels of the three heads. */
export const QUANTILES = [0.1, 0.5, 0.9] as const;

export interface EtaModelOptions {
  seed: number;
  hidden?: [number, number];
  /** Networks side by side in one graph, averaged (default 1; `stackTowers` fills them with trained members). */
  towers?: number;
  /** L2 penalty on embeddings and dense kernels (default 1e-4). */
  l2?: number;
}

function embeddingDim(vocabularySize: number): number {
  return Math.max(2, Math.min(12, Math.ceil(1.6 * Math.pow(vocabularySize, 0.56))));
}

/**
 * Builds an untrained model for a feature spec: `towers` independent networks side by side in
 * one graph (each tower has its own embeddings and dense layers), outputting [N, 3 × towers] raw
 * values. Weights are seeded, so builds are reproducible.
 */
export function buildEtaModel(spec: EtaFeatureSpec, opts: EtaModelOptions): tf.LayersModel {
  const [h1, h2] = opts.hidden ?? [64, 32];
  const towers = opts.towers ?? 1;
  let seed = opts.seed * 1000;
  const reg = () => (opts.l2 ?? 1e-4) > 0 ? tf.regularizers.l2({ l2: opts.l2 ?? 1e-4 }) : undefined;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const numericIn = tf.input({ shape: [numericWidth(spec)], name: 'numeric' });
  const catIns = spec.categorical.map((c) => tf.input({ shape: [1], name: `cat_${c.name}`, dtype: 'int32' }));
  const outs: tf.SymbolicTensor[] = [];
  for (let t = 0; t < towers; t++) {
    const embedded = spec.categorical.map((c, i) => {
      const e = tf.layers
        .embedding({
          inputDim: c.vocabulary.length,
          outputDim: embeddingDim(c.vocabulary.length),
          embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed++ }),
          embeddingsRegularizer: reg(),
          name: `t${t}_emb_${c.name}`,
        })
        .apply(catIns[i]) as tf.SymbolicTensor;
      return tf.layers.flatten({ name: `t${t}_flat_${c.name}` }).apply(e) as tf.SymbolicTensor;
    });
    const concat = tf.layers.concatenate({ name: `t${t}_concat` }).apply([numericIn, ...embedded]) as tf.SymbolicTensor;
    const d1 = tf.layers.dense({ units: h1, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg(), name: `t${t}_dense_1` }).apply(concat) as tf.SymbolicTensor;
    const d2 = tf.layers.dense({ units: h2, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg(), name: `t${t}_dense_2` }).apply(d1) as tf.SymbolicTensor;
    outs.push(
      tf.layers
        .dense({ units: 3, kernelInitializer: tf.initializers.zeros(), biasInitializer: tf.initializers.constant({ value: 0.5 }), name: `t${t}_raw` })
        .apply(d2) as tf.SymbolicTensor,
    );
  }
  const out = towers === 1 ? outs[0] : (tf.layers.concatenate({ name: 'raw_quantiles' }).apply(outs) as tf.SymbolicTensor);
  return tf.model({ inputs: [numericIn, ...catIns], outputs: out, name: 'eta' });
}

/**
 * One model whose towers are `members` (single-tower models of the same spec and sizes, trained
 * apart): the saved graph stays one standard `model.json`, and the quantile head averages the
 * members. The members are disposed; a single member is returned as it is.
 */
export function stackTowers(spec: EtaFeatureSpec, members: tf.LayersModel[], hidden?: [number, number]): tf.LayersModel {
  if (members.length === 1) return members[0];
  const stacked = buildEtaModel(spec, { seed: 0, hidden, towers: members.length, l2: 0 });
  members.forEach((m, k) => {
    for (const layer of m.layers) {
      if (layer.countParams() === 0) continue;
      stacked.getLayer(layer.name.replace(/^t0_/, `t${k}_`)).setWeights(layer.getWeights());
    }
    m.dispose();
  });
  return stacked;
}

function towerQuantiles(raw: tf.Tensor2D): tf.Tensor2D[] {
  const towers = raw.shape[1] / 3;
  // tf.split into one part has a broken gradient in tfjs 4.22, so skip it for a single tower.
  return (towers === 1 ? [raw] : tf.split(raw, towers, 1)).map((t) => {
    const [r0, r1, r2] = tf.split(t, 3, 1);
    return tf.concat([r0.sub(tf.softplus(r1)), r0, r0.add(tf.softplus(r2))], 1) as tf.Tensor2D;
  });
}

/**
 * Raw [N, 3 × towers] outputs → [N,3] residual quantiles (P10, P50, P90): per tower P50 = r0,
 * P10 = r0 − softplus(r1), P90 = r0 + softplus(r2), averaged over towers. Each tower's quantiles
 * are ordered, and so is their mean: the heads never cross.
 */
export function quantileHead(raw: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const qs = towerQuantiles(raw);
    return (qs.length === 1 ? qs[0] : tf.addN(qs).div(qs.length)) as tf.Tensor2D;
  });
}

/** Mean pinball loss of the model's three quantiles (its towers' average); every column of `yTrue` holds the residual target. */
export function pinballLoss(yTrue: tf.Tensor, raw: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const taus = tf.tensor2d([QUANTILES as unknown as number[]]);
    const diff = yTrue.slice([0, 0], [-1, 3]).sub(quantileHead(raw as tf.Tensor2D));
    return tf.maximum(diff.mul(taus), diff.mul(taus.sub(1))).mean() as tf.Scalar;
  });
}

/** Slices rows `idx` of an encoding into model input tensors (caller disposes). */
export function inputTensors(enc: EncodedEta, spec: EtaFeatureSpec, idx?: Int32Array | readonly number[]): tf.Tensor[] {
  const width = numericWidth(spec);
  if (!idx) {
    return [tf.tensor2d(enc.numeric, [enc.n, width]), ...enc.categorical.map((c) => tf.tensor2d(c, [enc.n, 1], 'int32'))];
  }
  const m = idx.length;
  const num = new Float32Array(m * width);
  const cats = enc.categorical.map(() => new Int32Array(m));
  for (let k = 0; k < m; k++) {
    const r = idx[k];
    num.set(enc.numeric.subarray(r * width, (r + 1) * width), k * width);
    for (let j = 0; j < cats.length; j++) cats[j][k] = enc.categorical[j][r];
  }
  return [tf.tensor2d(num, [m, width]), ...cats.map((c) => tf.tensor2d(c, [m, 1], 'int32'))];
}

/** Residual quantiles → days since purchase (monotone, so order is kept), never before the elapsed time. */
export function toDays(resid: Float32Array, enc: EncodedEta, spec: EtaFeatureSpec, offset = 0): Float32Array {
  const out = new Float32Array(resid.length);
  const n = resid.length / 3;
  for (let i = 0; i < n; i++) {
    const r = offset + i;
    const floor = enc.elapsed[r];
    for (let q = 0; q < 3; q++) out[i * 3 + q] = Math.max(floor, fromResidual(resid[i * 3 + q], enc.baseline[r], spec));
  }
  return out;
}

/**
 * Predicts raw (uncalibrated) quantiles in days since purchase for all rows, in batches of
 * `batchSize` rows per model call. Returns row-major [n, 3] (P10, P50, P90).
 */
export function predictDays(model: tf.LayersModel, enc: EncodedEta, spec: EtaFeatureSpec, batchSize = 16384): Float32Array {
  const out = new Float32Array(enc.n * 3);
  for (let start = 0; start < enc.n; start += batchSize) {
    const end = Math.min(enc.n, start + batchSize);
    const idx = Int32Array.from({ length: end - start }, (_, k) => start + k);
    const resid = tf.tidy(() => {
      const ins = inputTensors(enc, spec, idx);
      return quantileHead(model.predict(ins, { batchSize: end - start }) as tf.Tensor2D);
    });
    out.set(toDays(resid.dataSync() as Float32Array, enc, spec, start), start * 3);
    resid.dispose();
  }
  return out;
}
