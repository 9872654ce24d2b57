/**
 * Training: labelled examples from the warehouse → time-ordered train/validation split → seeded
 * fit with early stopping on the validation log loss → Platt calibration on the validation slice
 * → registered (and activated) version in the file registry, with the validation metrics of the
 * model and of both baselines (category rate, logistic regression) measured in the same run.
 */
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import type { EtaFrame } from '../../features/eta/eta-frame.js';
import { dataEnd, RETURN_WINDOW_DAYS } from '../../features/returns/feature-sql.js';
import { queryReturnsFrame, splitByInstant } from '../../features/returns/returns-frame.js';
import { encodeReturns, fitReturnsSpec, labels, type EncodedReturns, type ReturnsFeatureSpec } from '../../features/returns/encode.js';
import { buildReturnsModel, logitLoss, predictLogits, rowsTensor, setWidePart } from './model.js';
import { calibrateAll, fitPlatt, type PlattCalibration } from './calibration.js';
import { probabilityMetrics, type ProbabilityMetrics } from './metrics.js';
import { fitLogistic, predictLogistic } from './logistic.js';
import { fitCategoryRates, predictCategoryRates } from './baselines.js';
import { writeReturnsBundle } from './bundle.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { createFileModelStore } from '../registry/file-model-store.js';
import { ShipcastError } from '../../errors.js';
import { mulberry32, shuffled } from '../../random.js';

/** One finished epoch (1-based; `epochs` is the cap, early stopping may end sooner). */
export interface ReturnsEpochProgress {
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
}

export interface TrainReturnsDeps {
  warehouse: Warehouse;
  modelsDir: string;
  log: Logger;
  tfBackend?: TfBackendChoice;
  onEpoch?: (e: ReturnsEpochProgress) => void;
}

export interface FitReturnsOptions {
  seed?: number;
  /** Maximum epochs (default `DEFAULT_MAX_EPOCHS`); early stopping usually ends sooner. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  hidden?: [number, number];
  l2?: number;
  onEpoch?: (e: ReturnsEpochProgress) => void;
}

export interface TrainReturnsOptions extends FitReturnsOptions {
  /** Only what was known before this instant is used: labels whose window closed by then (default: the data's end). */
  until?: Date;
  /** Most recent share of the labelled examples held out for early stopping and calibration. */
  validationShare?: number;
  activate?: boolean;
}

/** The fitted model and what scoring with it needs. */
export interface FittedReturns {
  model: tf.LayersModel;
  spec: ReturnsFeatureSpec;
  calibration: PlattCalibration;
  /** The mean encoded training row: the reference of the contributions. */
  reference: Float32Array;
  bestEpoch: number;
  epochs: number;
  timing: { encodeSeconds: number; initSeconds: number; epochSeconds: number };
}

export interface TrainReturnsMetrics {
  rows: { train: number; validation: number };
  labelsKnownBy: string;
  windowDays: number;
  epochs: number;
  bestEpoch: number;
  calibration: PlattCalibration;
  /** On the validation slice, which also fitted the calibration; `eval returns` gives an out-of-sample backtest. */
  validation: { model: ProbabilityMetrics; categoryRate: ProbabilityMetrics; logistic: ProbabilityMetrics };
  seconds: number;
  /** Where the time went: feature query, encoding, the logistic fit starting the wide part, the epochs, the baselines. */
  stages: { featureSeconds: number; encodeSeconds: number; initSeconds: number; epochSeconds: number; baselineSeconds: number };
  backend: string;
}

export interface TrainedReturns {
  version: string;
  metrics: TrainReturnsMetrics;
  fitted: FittedReturns;
}

/** Default epoch cap. */
export const DEFAULT_MAX_EPOCHS = 40;

/** Epochs without a better validation loss before training stops (best weights are kept). */
export const EARLY_STOPPING_PATIENCE = 4;

/**
 * L2 penalty on the deep part's kernels. On the 100k-shipment synthetic backtest (seed 42) the
 * deep part overfit the noise inputs without it: AUC 0.718 at 1e-5, 0.725 at 1e-3, 0.734 at 3e-3,
 * against 0.737 for the planted probabilities (docs/RETURNS.md).
 */
export const DEFAULT_L2 = 3e-3;

/** About 80 steps per epoch, between 64 and 2048 rows per batch. */
export function defaultBatchSize(n: number): number {
  return Math.max(64, Math.min(2048, 2 ** Math.round(Math.log2(Math.max(1, n) / 80))));
}

/** 0.001 at 512 rows per batch, scaled with the square root of the batch size, within [0.0005, 0.002]. */
export function defaultLearningRate(batch: number): number {
  return Math.max(0.0005, Math.min(0.002, 0.001 * Math.sqrt(batch / 512)));
}

/** Fewest labelled examples training accepts. */
export const MIN_TRAINING_EXAMPLES = 200;

function meanLoss(model: tf.LayersModel, enc: EncodedReturns, y: Float32Array): number {
  const z = predictLogits(model, enc);
  let s = 0;
  for (let i = 0; i < enc.n; i++) s += Math.max(z[i], 0) - z[i] * y[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
  return enc.n ? s / enc.n : NaN;
}

/**
 * Rows the logistic fit that starts the wide part reads at most: on 1M shipments (~500k training
 * rows) a fit on all of them costs several seconds per Newton step, while a seeded subset of this
 * size gives nearly the same weights, which training then refines on every row anyway.
 */
export const LOGISTIC_INIT_ROWS = 200_000;

/** At most `max` rows of an encoding and their labels, a seeded uniform subset (in order) when there are more. */
function sampleRows(enc: EncodedReturns, y: Float32Array, max: number, rand: () => number): { enc: EncodedReturns; y: Float32Array } {
  if (enc.n <= max) return { enc, y };
  const idx = shuffled(enc.n, rand).subarray(0, max).sort();
  const x = new Float32Array(max * enc.width);
  idx.forEach((r, k) => x.set(enc.x.subarray(r * enc.width, (r + 1) * enc.width), k * enc.width));
  return { enc: { n: max, width: enc.width, x }, y: Float32Array.from(idx, (r) => y[r]) };
}

/** The column means of an encoding. */
function columnMeans(enc: EncodedReturns): Float32Array {
  const m = new Float64Array(enc.width);
  for (let r = 0; r < enc.n; r++) for (let j = 0; j < enc.width; j++) m[j] += enc.x[r * enc.width + j];
  return Float32Array.from(m, (v) => (enc.n ? v / enc.n : 0));
}

/**
 * Fits the network on `train` with early stopping on `val` (the most recent slice), then Platt's
 * calibration on `val`. The wide part starts at a logistic regression fitted on `train` (the deep
 * part at zero), and that starting point is epoch 0 of the early stopping, so the network is kept
 * only where it does better on `val`. Seeded initializers and shuffles: a seed reproduces the
 * weights. Pure of I/O: used by `trainReturns` and the backtest.
 */
export async function fitReturnsModel(train: EtaFrame, val: EtaFrame, opts: FitReturnsOptions = {}): Promise<FittedReturns> {
  const seed = opts.seed ?? 42;
  let t = performance.now();
  const spec = fitReturnsSpec(train);
  const trEnc = encodeReturns(train, spec);
  const vaEnc = encodeReturns(val, spec);
  const yTr = Float32Array.from(labels(train));
  const yVa = Float32Array.from(labels(val));
  const encodeSeconds = (performance.now() - t) / 1000;
  const epochs = opts.epochs ?? DEFAULT_MAX_EPOCHS;
  const batch = opts.batchSize ?? defaultBatchSize(trEnc.n);
  const model = buildReturnsModel(trEnc.width, { seed, hidden: opts.hidden, l2: opts.l2 ?? DEFAULT_L2 });
  model.compile({ optimizer: tf.train.adam(opts.learningRate ?? defaultLearningRate(batch)), loss: logitLoss });
  const rand = mulberry32(seed);
  t = performance.now();
  const sample = sampleRows(trEnc, yTr, LOGISTIC_INIT_ROWS, rand);
  const logistic = fitLogistic(sample.enc, sample.y);
  setWidePart(model, logistic.weights, logistic.intercept);
  const initSeconds = (performance.now() - t) / 1000;
  // The starting point (the logistic fit) is a candidate too: epoch 0.
  let best = vaEnc.n > 0 ? meanLoss(model, vaEnc, yVa) : Infinity;
  let bestEpoch = 0;
  let bestWeights = model.getWeights().map((w) => w.clone());
  let ran = 0;
  t = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    ran = epoch;
    const order = shuffled(trEnc.n, rand);
    let sum = 0;
    for (let s = 0; s < trEnc.n; s += batch) {
      const idx = order.subarray(s, Math.min(trEnc.n, s + batch));
      const x = rowsTensor(trEnc, idx);
      const y = tf.tensor2d(Float32Array.from(idx, (i) => yTr[i]), [idx.length, 1]);
      sum += ((await model.trainOnBatch(x, y)) as number) * idx.length;
      tf.dispose([x, y]);
    }
    const trainLoss = sum / Math.max(1, trEnc.n);
    const vl = vaEnc.n > 0 ? meanLoss(model, vaEnc, yVa) : trainLoss;
    opts.onEpoch?.({ epoch, epochs, trainLoss, valLoss: vl });
    if (vl < best - 1e-6) {
      best = vl;
      bestEpoch = epoch;
      tf.dispose(bestWeights);
      bestWeights = model.getWeights().map((w) => w.clone());
    } else if (epoch - bestEpoch >= EARLY_STOPPING_PATIENCE) {
      break;
    }
  }
  model.setWeights(bestWeights);
  tf.dispose(bestWeights);
  const epochSeconds = (performance.now() - t) / 1000;
  // Without a validation slice (tiny sets) the calibration is the identity.
  const calibration = vaEnc.n > 0 ? fitPlatt(predictLogits(model, vaEnc), yVa) : { method: 'platt' as const, a: 1, b: 0, n: 0 };
  return { model, spec, calibration, reference: columnMeans(trEnc), bestEpoch, epochs: ran, timing: { encodeSeconds, initSeconds, epochSeconds } };
}

/** Calibrated probabilities of a fitted model for examples. */
export function scoreFrame(f: Pick<FittedReturns, 'model' | 'spec' | 'calibration'>, frame: EtaFrame): Float64Array {
  return calibrateAll(f.calibration, predictLogits(f.model, encodeReturns(frame, f.spec)));
}

/**
 * The two baselines fitted on `train` and scored on `test`: the category return rate and a
 * logistic regression on the same encoded inputs (spec fitted on `train`).
 */
export function baselineScores(train: EtaFrame, test: EtaFrame, spec: ReturnsFeatureSpec): { categoryRate: Float64Array; logistic: Float64Array; seconds: number } {
  const t = performance.now();
  const y = labels(train);
  const categoryRate = predictCategoryRates(fitCategoryRates(train.text('category'), y), test.text('category'));
  const lr = fitLogistic(encodeReturns(train, spec), y);
  const logistic = predictLogistic(lr, encodeReturns(test, spec));
  return { categoryRate, logistic, seconds: (performance.now() - t) / 1000 };
}

/** Hash of the training examples (order, instant, label), recorded with the model. */
export function fingerprintExamples(frame: EtaFrame): string {
  const h = crypto.createHash('sha256');
  const [id, at, y] = [frame.text('order_id'), frame.number('instant'), frame.number('label')];
  let block = '';
  for (let i = 0; i < frame.n; i++) {
    block += `${id[i]}|${at[i]}|${y[i]}\n`;
    if (block.length > 1 << 16) {
      h.update(block);
      block = '';
    }
  }
  h.update(block);
  return h.digest('hex');
}

function versionName(now: Date, fingerprint: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${fingerprint.slice(0, 8)}`;
}

/**
 * Trains a return-propensity model on the warehouse's labelled orders, registers it in
 * `modelsDir` and (by default) activates it. Used by `shipcast train returns` and `npm start`.
 */
export async function trainReturns(deps: TrainReturnsDeps, opts: TrainReturnsOptions = {}): Promise<TrainedReturns> {
  const t0 = performance.now();
  const backend = await initTf(deps.tfBackend ?? 'auto', deps.log);
  const knownBy = opts.until ?? (await dataEnd(deps.warehouse));
  if (!knownBy) throw new ShipcastError('BAD_INPUT', 'until: the warehouse holds no orders to train on', { field: 'until' });
  const tFeatures = performance.now();
  const examples = await queryReturnsFrame(deps.warehouse, { kind: 'labelled', labelsKnownBy: knownBy });
  const featureSeconds = (performance.now() - tFeatures) / 1000;
  if (examples.n < MIN_TRAINING_EXAMPLES) {
    throw new ShipcastError(
      'BAD_INPUT',
      `until: only ${examples.n} delivered orders whose ${RETURN_WINDOW_DAYS}-day return window closed by ${knownBy.toISOString()}; need at least ${MIN_TRAINING_EXAMPLES}`,
      { field: 'until' },
    );
  }
  const { train, val } = splitByInstant(examples, opts.validationShare ?? 0.15);
  deps.log.info({ train: train.n, validation: val.n, backend }, 'training returns model');
  const fitted = await fitReturnsModel(train, val, { ...opts, onEpoch: opts.onEpoch ?? deps.onEpoch });
  const yVal = labels(val);
  const base = baselineScores(train, val, fitted.spec);
  const metrics: TrainReturnsMetrics = {
    rows: { train: train.n, validation: val.n },
    labelsKnownBy: knownBy.toISOString(),
    windowDays: RETURN_WINDOW_DAYS,
    epochs: fitted.epochs,
    bestEpoch: fitted.bestEpoch,
    calibration: fitted.calibration,
    validation: {
      model: probabilityMetrics(scoreFrame(fitted, val), yVal),
      categoryRate: probabilityMetrics(base.categoryRate, yVal),
      logistic: probabilityMetrics(base.logistic, yVal),
    },
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    stages: {
      featureSeconds: Math.round(featureSeconds * 100) / 100,
      encodeSeconds: Math.round(fitted.timing.encodeSeconds * 100) / 100,
      initSeconds: Math.round(fitted.timing.initSeconds * 100) / 100,
      epochSeconds: Math.round(fitted.timing.epochSeconds * 100) / 100,
      baselineSeconds: Math.round(base.seconds * 100) / 100,
    },
    backend,
  };
  const fingerprint = fingerprintExamples(examples);
  const store = createFileModelStore(deps.modelsDir);
  let version = versionName(new Date(), fingerprint);
  if (await store.get('returns', version)) version = `${version}-${crypto.randomBytes(2).toString('hex')}`;
  await store.register(
    { kind: 'returns', version, createdAt: new Date().toISOString(), dataFingerprint: fingerprint, until: opts.until?.toISOString() ?? null, seed: opts.seed ?? 42 },
    metrics as unknown as Record<string, unknown>,
    (dir) => writeReturnsBundle(dir, fitted),
  );
  if (opts.activate !== false) await store.activate('returns', version);
  deps.log.info({ version, validation: metrics.validation.model }, 'returns model registered');
  return { version, metrics, fitted };
}
