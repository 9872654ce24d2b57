/**
 * The NBA outcome model: one network on the decision context with a head per action. Each head
 * has four raw outputs: repeat-purchase logit, survey-answer logit, CSAT (score − 3) and
 * support-contact logit. Only the logged action's head is trained on a decision (a masked loss).
 * Each head is a shared baseline (learned from every decision) plus an action offset whose
 * weights are penalized: the outcomes move far more with the context (lateness) than with the
 * action, so the rarely logged actions borrow the baseline instead of relearning it.
 */
import * as tf from '@tensorflow/tfjs';
import { NBA_ACTION_NAMES } from '../../domain/nba.js';
import type { PredictedOutcome } from './reward.js';

/** Raw outputs per action head. */
export const HEAD_WIDTH = 4;
export const ACTION_COUNT = NBA_ACTION_NAMES.length;
export const OUTPUT_WIDTH = HEAD_WIDTH * ACTION_COUNT;
/** Column of each component within a head. */
export const HEAD = { repeat: 0, answer: 1, csat: 2, contact: 3 } as const;

export interface NbaModelOptions {
  seed: number;
  hidden?: [number, number];
}

/** Name of the layer whose kernel `offsetPenalty` penalizes. */
export const OFFSET_LAYER = 'action_offsets';

/** An untrained, seeded network: input [N, inputWidth] → raw heads [N, ACTION_COUNT × HEAD_WIDTH]. */
export function buildNbaModel(inputWidth: number, opts: NbaModelOptions): tf.LayersModel {
  const [h1, h2] = opts.hidden ?? [32, 16];
  let seed = opts.seed * 100;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [inputWidth], name: 'context' });
  const d1 = tf.layers.dense({ units: h1, activation: 'relu', kernelInitializer: init(), name: 'dense_1' }).apply(input) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: h2, activation: 'relu', kernelInitializer: init(), name: 'dense_2' }).apply(d1) as tf.SymbolicTensor;
  const base = tf.layers.dense({ units: HEAD_WIDTH, kernelInitializer: init(), name: 'baseline' }).apply(d2) as tf.SymbolicTensor;
  const tiled = tf.layers.concatenate({ name: 'baseline_per_action' }).apply(Array.from({ length: ACTION_COUNT }, () => base)) as tf.SymbolicTensor;
  const offsets = tf.layers.dense({ units: OUTPUT_WIDTH, kernelInitializer: tf.initializers.zeros(), name: OFFSET_LAYER }).apply(d2) as tf.SymbolicTensor;
  const out = tf.layers.add({ name: 'heads' }).apply([tiled, offsets]) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'nba_outcomes' });
}

/** λ · Σ w² over the action offsets' kernel (their biases, the average action effects, are free). */
export function offsetPenalty(model: tf.LayersModel, lambda: number): tf.Scalar {
  return tf.tidy(() => tf.mul(lambda, tf.sum(tf.square(model.getLayer(OFFSET_LAYER).getWeights()[0]))) as tf.Scalar);
}

/** 1 for the logistic columns of every head, 0 for the CSAT regression column. */
function logisticColumns(): Float32Array {
  const m = new Float32Array(OUTPUT_WIDTH);
  for (let k = 0; k < ACTION_COUNT; k++) {
    m[k * HEAD_WIDTH + HEAD.repeat] = 1;
    m[k * HEAD_WIDTH + HEAD.answer] = 1;
    m[k * HEAD_WIDTH + HEAD.contact] = 1;
  }
  return m;
}
const LOGISTIC = logisticColumns();

/**
 * Targets and mask [n × OUTPUT_WIDTH] for logged decisions: the logged action's head gets the
 * repeat, answer and contact labels, and the CSAT target (score − 3) only when answered.
 */
export function buildTargets(rows: readonly { action: number; repeat: boolean; csat: number | null; contact: boolean }[]): { y: Float32Array; mask: Float32Array } {
  const y = new Float32Array(rows.length * OUTPUT_WIDTH);
  const mask = new Float32Array(rows.length * OUTPUT_WIDTH);
  rows.forEach((r, i) => {
    const at = i * OUTPUT_WIDTH + r.action * HEAD_WIDTH;
    y[at + HEAD.repeat] = Number(r.repeat);
    y[at + HEAD.answer] = Number(r.csat !== null);
    y[at + HEAD.contact] = Number(r.contact);
    mask[at + HEAD.repeat] = 1;
    mask[at + HEAD.answer] = 1;
    mask[at + HEAD.contact] = 1;
    if (r.csat !== null) {
      y[at + HEAD.csat] = r.csat - 3;
      mask[at + HEAD.csat] = 1;
    }
  });
  return { y, mask };
}

/** Mean over rows of the masked loss: cross-entropy on the logistic columns, half squared error on CSAT. */
export function nbaLoss(raw: tf.Tensor2D, y: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const isLogit = tf.tensor2d(LOGISTIC, [1, OUTPUT_WIDTH]);
    const bce = tf.add(tf.sub(tf.relu(raw), tf.mul(raw, y)), tf.log1p(tf.exp(tf.neg(tf.abs(raw)))));
    const se = tf.mul(0.5, tf.square(tf.sub(raw, y)));
    const per = tf.add(tf.mul(isLogit, bce), tf.mul(tf.sub(1, isLogit), se));
    return tf.div(tf.sum(tf.mul(per, mask)), Math.max(1, raw.shape[0])) as tf.Scalar;
  });
}

/** Raw head outputs for encoded contexts, row-major [n × OUTPUT_WIDTH]. */
export function predictRaw(model: tf.LayersModel, x: Float32Array, n: number, inputWidth: number, batchSize = 8192): Float32Array {
  const out = new Float32Array(n * OUTPUT_WIDTH);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const part = tf.tidy(() => (model.predict(tf.tensor2d(x.subarray(s * inputWidth, e * inputWidth), [e - s, inputWidth])) as tf.Tensor).dataSync() as Float32Array);
    out.set(part, s * OUTPUT_WIDTH);
  }
  return out;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The outcome components of action `k` for row `i` of `predictRaw`'s output. */
export function outcomeAt(raw: Float32Array, i: number, k: number): PredictedOutcome {
  const at = i * OUTPUT_WIDTH + k * HEAD_WIDTH;
  return {
    pRepeat: sigmoid(raw[at + HEAD.repeat]),
    pAnswer: sigmoid(raw[at + HEAD.answer]),
    csat: Math.min(5, Math.max(1, 3 + raw[at + HEAD.csat])),
    pContact: sigmoid(raw[at + HEAD.contact]),
  };
}
