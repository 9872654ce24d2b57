/**
 * Fitting the NBA outcome model on logged decisions. A direct fit (no importance weights): the
 * model conditions on the whole context the logging policy saw, so the logged action is
 * ignorable given the inputs, and weighting by 1/propensity would only add variance. The most
 * recent `validationShare` of the decisions (time order) drives early stopping; the best epoch's
 * weights are kept. Pure of I/O.
 */
import * as tf from '@tensorflow/tfjs';
import { encodeContexts, featureWidth, fitNbaFeatureSpec, type NbaExample, type NbaFeatureSpec } from './data.js';
import { buildNbaModel, buildTargets, nbaLoss, offsetPenalty, OUTPUT_WIDTH } from './model.js';
import { mulberry32 } from '../../random.js';
import { ShipcastError } from '../../errors.js';

export interface FitNbaOptions {
  seed?: number;
  /** Epoch cap (default 60); early stopping usually ends sooner. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  validationShare?: number;
  hidden?: [number, number];
  /** Penalty on the action offsets (default 1e-3). */
  offsetL2?: number;
  onEpoch?: (e: { epoch: number; epochs: number; trainLoss: number; valLoss: number }) => void;
}

export interface FittedNbaModel {
  model: tf.LayersModel;
  spec: NbaFeatureSpec;
  bestEpoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
  rows: { train: number; validation: number };
  seconds: number;
}

export const DEFAULT_NBA_EPOCHS = 60;
const PATIENCE = 6;

function lossOf(model: tf.LayersModel, x: Float32Array, y: Float32Array, m: Float32Array, n: number, w: number): number {
  if (n === 0) return NaN;
  return tf.tidy(() => {
    const raw = model.predict(tf.tensor2d(x, [n, w])) as tf.Tensor2D;
    return nbaLoss(raw, tf.tensor2d(y, [n, OUTPUT_WIDTH]), tf.tensor2d(m, [n, OUTPUT_WIDTH])).dataSync()[0];
  });
}

/** Rows `idx` of a row-major matrix of width `w`. */
function gather(src: Float32Array, idx: ArrayLike<number>, w: number): Float32Array {
  const out = new Float32Array(idx.length * w);
  for (let k = 0; k < idx.length; k++) out.set(src.subarray(idx[k] * w, (idx[k] + 1) * w), k * w);
  return out;
}

/** Fits a model on `examples` (oldest first). */
export async function fitNbaModel(examples: readonly NbaExample[], opts: FitNbaOptions = {}): Promise<FittedNbaModel> {
  const t0 = performance.now();
  const seed = opts.seed ?? 42;
  const nVal = Math.floor(examples.length * (opts.validationShare ?? 0.2));
  const nTr = examples.length - nVal;
  if (nTr < 20) throw new ShipcastError('BAD_INPUT', `nba_decisions: ${nTr} logged decisions with known outcomes to train on; at least 20 are needed`, { field: 'nba_decisions' });
  const spec = fitNbaFeatureSpec(examples.slice(0, nTr).map((e) => e.context));
  const w = featureWidth(spec);
  const x = encodeContexts(spec, examples.map((e) => e.context));
  const { y, mask } = buildTargets(examples.map((e) => ({ action: e.action, repeat: e.outcome.repeat_purchase, csat: e.outcome.csat, contact: e.outcome.support_contact })));
  const valIdx = Int32Array.from({ length: nVal }, (_, k) => nTr + k);
  const [xVa, yVa, mVa] = [gather(x, valIdx, w), gather(y, valIdx, OUTPUT_WIDTH), gather(mask, valIdx, OUTPUT_WIDTH)];
  const model = buildNbaModel(w, { seed, hidden: opts.hidden });
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const optimizer = tf.train.adam(opts.learningRate ?? 0.003);
  const batch = opts.batchSize ?? Math.max(64, Math.min(2048, 2 ** Math.round(Math.log2(nTr / 30))));
  const epochs = opts.epochs ?? DEFAULT_NBA_EPOCHS;
  const lambda = opts.offsetL2 ?? 1e-3;
  const rand = mulberry32(seed);
  const order = Int32Array.from({ length: nTr }, (_, i) => i);
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | undefined;
  let lastTrain = NaN;
  let ran = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    ran = epoch;
    for (let i = nTr - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let sum = 0;
    for (let s = 0; s < nTr; s += batch) {
      const idx = order.subarray(s, Math.min(nTr, s + batch));
      const xb = tf.tensor2d(gather(x, idx, w), [idx.length, w]);
      const yb = tf.tensor2d(gather(y, idx, OUTPUT_WIDTH), [idx.length, OUTPUT_WIDTH]);
      const mb = tf.tensor2d(gather(mask, idx, OUTPUT_WIDTH), [idx.length, OUTPUT_WIDTH]);
      const loss = optimizer.minimize(() => tf.add(nbaLoss(model.apply(xb, { training: true }) as tf.Tensor2D, yb, mb), offsetPenalty(model, lambda)) as tf.Scalar, true, vars);
      sum += (loss?.dataSync()[0] ?? 0) * idx.length;
      tf.dispose([xb, yb, mb, loss as tf.Tensor]);
    }
    lastTrain = sum / nTr;
    const vl = nVal > 0 ? lossOf(model, xVa, yVa, mVa, nVal, w) : lastTrain;
    opts.onEpoch?.({ epoch, epochs, trainLoss: lastTrain, valLoss: vl });
    if (vl < best - 1e-5) {
      best = vl;
      bestEpoch = epoch;
      tf.dispose(bestWeights ?? []);
      bestWeights = model.getWeights().map((t) => t.clone());
    } else if (epoch - bestEpoch >= PATIENCE) {
      break;
    }
    // Yield so a long fit does not starve the event loop (signals, progress output).
    await new Promise((r) => setImmediate(r));
  }
  if (bestWeights) {
    model.setWeights(bestWeights);
    tf.dispose(bestWeights);
  }
  optimizer.dispose();
  return { model, spec, bestEpoch, epochs: ran, trainLoss: lastTrain, valLoss: best, rows: { train: nTr, validation: nVal }, seconds: (performance.now() - t0) / 1000 };
}
