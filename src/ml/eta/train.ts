/**
 * Training: features from the warehouse → time-ordered train/validation split → seeded fit with
 * early stopping on validation pinball loss → split-conformal calibration on the validation
 * slice → registered (and activated) version in the file registry.
 */
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import type { EncodedEta, EtaFeatureSpec } from '../../features/eta/feature-spec.js';
import { asFrame, queryEtaFeatureFrame, splitFrameByTime, type EtaExamples, type EtaFrame } from '../../features/eta/eta-frame.js';
import { concatEncoded, encodeFrame, fitFeatureSpecFrame, residualTargets } from '../../features/eta/encode-columns.js';
import { buildEtaModel, inputTensors, pinballLoss, predictDays, QUANTILES, stackTowers } from './model.js';
import { applyCalibration, fitTailAdjustment, MIN_STAGE_ROWS, tailScores, type EtaCalibration, type TailAdjustment } from './calibration.js';
import { DEFAULT_ACI_RATE, summarizeScores, type AdaptiveCalibration } from './adaptive-calibration.js';
import { windowMetrics, type WindowMetrics } from './metrics.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { createFileModelStore } from '../registry/file-model-store.js';
import { writeEtaBundle } from './bundle.js';
import { ShipcastError } from '../../errors.js';
import { mulberry32, shuffled } from '../../random.js';

/** One finished epoch of one ensemble member (1-based counters; `epochs` is the cap, early stopping may end sooner). */
export interface EpochProgress {
  member: number;
  members: number;
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
}

/** `epoch 3/30`, or `member 2/5 epoch 3/30` for an ensemble: the prefix of progress lines. */
export function epochLabel(e: EpochProgress): string {
  return `${e.members > 1 ? `member ${e.member}/${e.members} ` : ''}epoch ${e.epoch}/${e.epochs}`;
}

export interface TrainEtaDeps {
  warehouse: Warehouse;
  modelsDir: string;
  log: Logger;
  /** Backend to initialize if tfjs is not yet initialized (default `auto`). */
  tfBackend?: TfBackendChoice;
  /** Called after every epoch (for progress bars). */
  onEpoch?: (e: EpochProgress) => void;
}

export interface TrainEtaOptions {
  /** Only shipments purchased before this instant are used (default: all delivered). */
  until?: Date;
  from?: Date;
  /** Only these orders' shipments are used, as examples and as rolling history (e.g. one Olist extract's). */
  orderIds?: readonly string[];
  seed?: number;
  /** Maximum epochs; early stopping usually ends sooner (default `DEFAULT_MAX_EPOCHS`, `SUBSAMPLED_MAX_EPOCHS` on very large sets). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Most recent share of the training period held out for early stopping and calibration. */
  validationShare?: number;
  hidden?: [number, number];
  /**
   * Networks trained independently (own seed, own early stopping, own refit) and averaged as the
   * towers of one saved model (default 1).
   */
  members?: number;
  /** L2 penalty on embeddings and dense kernels. */
  l2?: number;
  /** Examples per epoch at most (default MAX_EXAMPLES_PER_EPOCH); larger sets train on a fresh seeded subset each epoch. */
  maxExamplesPerEpoch?: number;
  /** In-flight examples sampled per delivered shipment from its tracking events (default: `IN_FLIGHT_DEFAULT`, by the number of delivered shipments). */
  inFlightPerShipment?: number;
  /** Nominal P10–P90 coverage. */
  coverage?: number;
  /**
   * Rate of the online (adaptive conformal) updates of the at-purchase tails: the step per
   * outcome is this divided by the validation rows (default `DEFAULT_ACI_RATE`); 0 turns them off.
   */
  adaptiveRate?: number;
  /** Retrain on train + validation for the chosen epochs after early stopping (default: below LARGE_TRAINING_SET examples). */
  refit?: boolean;
  /** Activate the new version (default true). */
  activate?: boolean;
  /** Register the version at all (default true; backtests may skip). */
  register?: boolean;
}

/** The calibration as metrics report it: the online updates' settings without their score arrays. */
export type CalibrationSummary = Omit<EtaCalibration, 'adaptive'> & { adaptive?: Omit<AdaptiveCalibration, 'lower' | 'upper'> & { scorePoints: number } };

export interface TrainEtaMetrics {
  rows: { train: number; validation: number; shipments: number };
  epochs: number;
  bestEpoch: number;
  /** Best and last epoch of every ensemble member (the first is `bestEpoch` / `epochs`). */
  members: { bestEpoch: number; epochs: number }[];
  validation: WindowMetrics;
  validationInFlight?: WindowMetrics;
  calibration: CalibrationSummary;
  seconds: number;
  /** Where the time went: feature query (SQL and columnar read), encoding, the epochs (incl. the refit), in seconds. */
  stages: { featureSeconds: number; encodeSeconds: number; epochSeconds: number; exampleEpochs: number };
  backend: string;
}

export interface TrainedEta {
  version: string;
  metrics: TrainEtaMetrics;
  model: tf.LayersModel;
  spec: EtaFeatureSpec;
  calibration: EtaCalibration;
}

/** Training examples from which the large-set defaults apply (learning rate, L2, refit). */
export const LARGE_TRAINING_SET = 50_000;

/**
 * Default cap on examples per epoch. At ~26 µs per example-epoch on wasm, 2M examples (1M
 * shipments with their in-flight examples) would cost ~52 s per epoch; half a million keeps an
 * epoch near 14 s, and early stopping decides how many such epochs are needed. Sets below the cap
 * (every bench and test size here) train exactly as before.
 */
export const MAX_EXAMPLES_PER_EPOCH = 524_288;

/**
 * Epochs without a better validation loss before training stops. With 3, Olist trainings ending
 * in a period of drifting delivery times stopped at their 2nd epoch; 6 lowered the P50 MAE of
 * the Olist pseudo-tests (4.847 → 4.779 d, 12 runs) and of the synthetic backtest (docs/ETA.md).
 */
export const EARLY_STOPPING_PATIENCE = 6;

/**
 * Default ensemble size by training examples (after the validation slice is held out): the
 * first tier whose `below` exceeds the count, else one network.
 * - Below 25,000 (a 15k-order Olist extract: 20k), five. A small extract's single network
 *   depends on its seed (Olist split 2018-06-01, seeds 1–5, 7, 42: P50 MAE 3.23–3.43 d); five
 *   lowered the mean P50 MAE of the 12 Olist pseudo-tests (4.779 → 4.728 d; lower in 11) at 5× a
 *   training of ~8 s.
 * - Below 200,000 (`npm start`'s 33k; the 100k synthetic backtest's ~185k), two: MAE over the
 *   irreducible error 1.085 / 1.100 / 1.097 → 1.078 / 1.082 / 1.087 (seeds 1 / 2 / 3) at twice
 *   the training time (55 → 110 s on that backtest, 25 → ~50 s at `npm start`).
 * - From 200,000 on (100k shipments trained on whole: ~247k; 1M: 2.5M), one: a second network
 *   would take training past about two minutes on 2 cores, and at 1M past the 120 s allowed.
 */
export const ENSEMBLE_DEFAULT = [
  { below: 25_000, members: 5 },
  { below: 200_000, members: 2 },
] as const;

/** The default number of ensemble members for a training set of `trainExamples` examples. */
export function defaultMembers(trainExamples: number): number {
  return ENSEMBLE_DEFAULT.find((t) => trainExamples < t.below)?.members ?? 1;
}

/** Default epoch cap; early stopping usually ends sooner. */
export const DEFAULT_MAX_EPOCHS = 30;

/**
 * Default epoch cap when epochs are subsampled (more than `maxExamplesPerEpoch` training
 * examples): 8 × 524,288 examples is about 1.4 passes over the 2.9M examples of 1M shipments and
 * keeps their training within ~100 s on 2 cores with wasm. More epochs kept lowering the
 * validation loss there (14 epochs: 0.1002 at the 6th → 0.0979), for the in-flight windows rather
 * than the at-purchase ones (docs/ETA.md, "Speed"); `epochs` raises the cap.
 */
export const SUBSAMPLED_MAX_EPOCHS = 8;

/** Feature-query columns training never reads; not fetching them saves decoding their strings. */
const TRAINING_UNUSED_COLUMNS = ['order_id', 'promised_at', 'delivered_at', 'event_id', 'event_source'];

/** The seed of ensemble member `k`: member 0 is the run's own seed, so one member trains exactly as a single network. */
export function memberSeed(seed: number, k: number): number {
  return seed + 7919 * k;
}

/** Seeded PRNG so shuffles (and hence training) are reproducible per seed. */
export const seededRandom = mulberry32;

/** Hash of the training examples (shipment, moment, target), recorded with the model. */
export function fingerprintExamples(frame: EtaFrame): string {
  const h = crypto.createHash('sha256');
  const [id, asOf, total] = [frame.text('shipment_id'), frame.number('as_of'), frame.number('total_days')];
  // Hashed in blocks of lines: one update per example would cost more than the hash itself.
  let block = '';
  for (let i = 0; i < frame.n; i++) {
    block += `${id[i]}|${asOf[i]}|${Number.isNaN(total[i]) ? null : total[i]}\n`;
    if (block.length > 1 << 16) {
      h.update(block);
      block = '';
    }
  }
  h.update(block);
  return h.digest('hex');
}

/** Targets per example: the residual tiled to the width of one network's output (tfjs wants matching shapes). */
const TARGET_WIDTH = QUANTILES.length;

function valLoss(model: tf.LayersModel, enc: EncodedEta, spec: EtaFeatureSpec, y: Float32Array, batch: number): number {
  const width = TARGET_WIDTH;
  let total = 0;
  for (let s = 0; s < enc.n; s += batch) {
    const e = Math.min(enc.n, s + batch);
    const idx = Int32Array.from({ length: e - s }, (_, k) => s + k);
    total += tf.tidy(() => {
      const out = model.predict(inputTensors(enc, spec, idx), { batchSize: e - s }) as tf.Tensor;
      return pinballLoss(tf.tensor2d(y.subarray(s * width, e * width), [e - s, width]), out).dataSync()[0] * (e - s);
    });
  }
  return total / Math.max(1, enc.n);
}

/**
 * One pass over a seeded shuffle, cut at `cap` examples: on very large sets an "epoch" is a fresh
 * random subset, so early stopping checks in time and the cost per epoch stays bounded.
 */
async function runEpoch(
  model: tf.LayersModel, enc: EncodedEta, spec: EtaFeatureSpec, y: Float32Array, batch: number, rand: () => number, cap: number,
): Promise<{ loss: number; examples: number }> {
  const width = TARGET_WIDTH;
  const order = shuffled(enc.n, rand);
  const n = Math.min(enc.n, cap);
  let sum = 0;
  for (let s = 0; s < n; s += batch) {
    const idx = order.subarray(s, Math.min(n, s + batch));
    const yb = new Float32Array(idx.length * width);
    for (let k = 0; k < idx.length; k++) yb.set(y.subarray(idx[k] * width, (idx[k] + 1) * width), k * width);
    const ins = inputTensors(enc, spec, idx);
    const yt = tf.tensor2d(yb, [idx.length, width]);
    sum += ((await model.trainOnBatch(ins, yt)) as number) * idx.length;
    tf.dispose([...ins, yt]);
  }
  return { loss: sum / Math.max(1, n), examples: n };
}

/**
 * The online-update settings for the at-purchase tails: the validation scores and the training
 * cutoff (`until`, else just after the latest purchase trained or validated on), from which on
 * outcomes feed the updates. None without validation rows or with `adaptiveRate: 0`.
 */
function adaptiveCalibration(pred: Float32Array, y: readonly number[], opts: TrainEtaOptions, frames: EtaFrame[]): AdaptiveCalibration | undefined {
  const rate = opts.adaptiveRate ?? DEFAULT_ACI_RATE;
  if (rate <= 0 || y.length === 0) return undefined;
  const gamma = rate / y.length;
  let since = opts.until?.getTime();
  if (since === undefined) {
    let last = -Infinity;
    for (const f of frames) for (const t of f.number('purchased_at')) if (t > last) last = t;
    since = last + 1;
  }
  const { lower, upper } = tailScores(pred, y);
  return { gamma, since: new Date(since).toISOString(), lower: summarizeScores(lower), upper: summarizeScores(upper), n: y.length };
}

/**
 * Fits each ensemble member on `train` with early stopping on `val` (the most recent slice),
 * fits the conformal calibration on `val` to the members' averaged predictions, then (unless
 * `refit` is false) retrains every member afresh with its seed on train + validation for its
 * chosen number of epochs, so the newest weeks are learned from too; the members are returned
 * as the towers of one model. Pure of I/O: used by `trainEta` and by the backtest.
 */
export async function fitEtaModel(
  trainExamples: EtaExamples,
  valExamples: EtaExamples,
  opts: TrainEtaOptions & { onEpoch?: TrainEtaDeps['onEpoch'] } = {},
): Promise<{
  model: tf.LayersModel; spec: EtaFeatureSpec; calibration: EtaCalibration; bestEpoch: number; epochs: number;
  memberEpochs: { bestEpoch: number; epochs: number }[]; valPred: Float32Array; valEnc: EncodedEta;
  timing: { encodeSeconds: number; epochSeconds: number; exampleEpochs: number };
}> {
  const seed = opts.seed ?? 42;
  let t = performance.now();
  const train = asFrame(trainExamples);
  const val = asFrame(valExamples);
  const spec = fitFeatureSpecFrame(train);
  const trEnc = encodeFrame(train, spec);
  const vaEnc = encodeFrame(val, spec);
  const yTr = residualTargets(train, trEnc, spec, TARGET_WIDTH);
  const yVa = residualTargets(val, vaEnc, spec, TARGET_WIDTH);
  let encodeSeconds = (performance.now() - t) / 1000;
  let epochSeconds = 0;
  let exampleEpochs = 0;
  const cap = opts.maxExamplesPerEpoch ?? MAX_EXAMPLES_PER_EPOCH;
  const epochs = opts.epochs ?? (trEnc.n > cap ? SUBSAMPLED_MAX_EPOCHS : DEFAULT_MAX_EPOCHS);
  const batch = opts.batchSize ?? Math.max(64, Math.min(4096, 2 ** Math.round(Math.log2(trEnc.n / 40))));
  // Large sets: bigger steps and no weight penalty converge within a few epochs; small sets
  // (e.g. a 15k-order Olist extract) need the gentler, regularized default.
  const large = trEnc.n >= LARGE_TRAINING_SET;
  const members = opts.members ?? defaultMembers(trEnc.n);
  if (!Number.isInteger(members) || members < 1) throw new ShipcastError('BAD_INPUT', `members: expected a positive integer, got ${members}`, { field: 'members' });
  const build = (memberSeed: number) => {
    const m = buildEtaModel(spec, { seed: memberSeed, hidden: opts.hidden, l2: opts.l2 ?? (large ? 0 : 1e-4) });
    m.compile({ optimizer: tf.train.adam(opts.learningRate ?? (large ? 0.003 : 0.001)), loss: pinballLoss });
    return m;
  };
  const memberSeeds = Array.from({ length: members }, (_, k) => memberSeed(seed, k));
  const fitted: { model: tf.LayersModel; bestEpoch: number; epochs: number }[] = [];
  for (const [k, s] of memberSeeds.entries()) {
    const model = build(s);
    const rand = seededRandom(s);
    let best = Infinity;
    let bestEpoch = 0;
    let bestWeights: tf.Tensor[] | undefined;
    let ran = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      ran = epoch;
      t = performance.now();
      const { loss: trainLoss, examples } = await runEpoch(model, trEnc, spec, yTr, batch, rand, cap);
      epochSeconds += (performance.now() - t) / 1000;
      exampleEpochs += examples;
      const vl = vaEnc.n > 0 ? valLoss(model, vaEnc, spec, yVa, 16384) : trainLoss;
      opts.onEpoch?.({ member: k + 1, members, epoch, epochs, trainLoss, valLoss: vl });
      if (vl < best - 1e-5) {
        best = vl;
        bestEpoch = epoch;
        tf.dispose(bestWeights ?? []);
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (epoch - bestEpoch >= EARLY_STOPPING_PATIENCE) {
        break;
      }
    }
    if (bestWeights) {
      model.setWeights(bestWeights);
      tf.dispose(bestWeights);
    }
    fitted.push({ model, bestEpoch, epochs: ran });
  }
  let model = stackTowers(spec, fitted.map((f) => f.model), opts.hidden);
  const valPred = predictDays(model, vaEnc, spec);
  const coverage = opts.coverage ?? 0.8;
  const inflightIdx: number[] = [];
  const purchaseIdx: number[] = [];
  const valStage = val.text('stage');
  const valY = val.number('total_days');
  valStage.forEach((stage, i) => (stage === 'none' ? purchaseIdx : inflightIdx).push(i));
  const pick = (ix: number[]) => {
    const p = new Float32Array(ix.length * 3);
    ix.forEach((i, k) => p.set(valPred.subarray(i * 3, i * 3 + 3), k * 3));
    return { p, y: ix.map((i) => valY[i]) };
  };
  const a = pick(purchaseIdx);
  const atPurchase = fitTailAdjustment(a.p, a.y, coverage);
  const adaptive = adaptiveCalibration(a.p, a.y, opts, [train, val]);
  const b = pick(inflightIdx);
  // Without in-flight validation rows, in-flight windows reuse the at-purchase adjustment.
  const inFlight = inflightIdx.length >= 30 ? fitTailAdjustment(b.p, b.y, coverage) : atPurchase;
  // Statuses differ a lot in how much is left to chance (out for delivery vs just handed over).
  const byStage: Record<string, TailAdjustment> = {};
  const stages = new Map<string, number[]>();
  for (const i of inflightIdx) {
    const stage = valStage[i] ?? '';
    const ix = stages.get(stage);
    if (ix) ix.push(i);
    else stages.set(stage, [i]);
  }
  for (const [stage, ix] of [...stages].sort((x, y) => x[0].localeCompare(y[0]))) {
    if (ix.length < MIN_STAGE_ROWS) continue;
    const c = pick(ix);
    byStage[stage] = fitTailAdjustment(c.p, c.y, coverage);
  }
  // Refitting doubles the cost; on large sets the held-out slice adds little, so skip it there.
  if ((opts.refit ?? !large) && vaEnc.n > 0 && fitted.every((f) => f.bestEpoch > 0)) {
    t = performance.now();
    const allEnc = concatEncoded(trEnc, vaEnc);
    const yAll = new Float32Array(yTr.length + yVa.length);
    yAll.set(yTr);
    yAll.set(yVa, yTr.length);
    encodeSeconds += (performance.now() - t) / 1000;
    model.dispose();
    const refitted: tf.LayersModel[] = [];
    for (const [k, s] of memberSeeds.entries()) {
      const m = build(s);
      const rand = seededRandom(s);
      t = performance.now();
      for (let epoch = 1; epoch <= fitted[k].bestEpoch; epoch++) exampleEpochs += (await runEpoch(m, allEnc, spec, yAll, batch, rand, cap)).examples;
      epochSeconds += (performance.now() - t) / 1000;
      refitted.push(m);
    }
    model = stackTowers(spec, refitted, opts.hidden);
  }
  const bestEpoch = fitted[0].bestEpoch;
  const ran = fitted[0].epochs;
  const memberEpochs = fitted.map((f) => ({ bestEpoch: f.bestEpoch, epochs: f.epochs }));
  return {
    model, spec, calibration: { coverage, atPurchase, inFlight, byStage, ...(adaptive ? { adaptive } : {}) }, bestEpoch, epochs: ran, memberEpochs, valPred, valEnc: vaEnc,
    timing: { encodeSeconds, epochSeconds, exampleEpochs },
  };
}

function withoutScores(c: EtaCalibration): CalibrationSummary {
  const { adaptive, ...rest } = c;
  if (!adaptive) return rest;
  const { lower, upper, ...settings } = adaptive;
  return { ...rest, adaptive: { ...settings, scorePoints: lower.length + upper.length } };
}

function versionName(now: Date, fingerprint: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${fingerprint.slice(0, 8)}`;
}

/**
 * Trains an ETA model on delivered shipments in the warehouse, registers it in `modelsDir` and
 * (by default) activates it. Used by `shipcast train eta`, the GraphQL `trainModel` job and
 * `npm start`.
 */
export async function trainEta(deps: TrainEtaDeps, opts: TrainEtaOptions = {}): Promise<TrainedEta> {
  const t0 = performance.now();
  const backend = await initTf(deps.tfBackend ?? 'auto', deps.log);
  const tFeatures = performance.now();
  const examples = await queryEtaFeatureFrame(
    deps.warehouse,
    { kind: 'training', from: opts.from, until: opts.until, orderIds: opts.orderIds, inFlightPerShipment: opts.inFlightPerShipment, seed: opts.seed ?? 42 },
    TRAINING_UNUSED_COLUMNS,
  );
  const featureSeconds = (performance.now() - tFeatures) / 1000;
  const shipments = examples.text('stage').filter((s) => s === 'none').length;
  if (shipments < 50) {
    throw new ShipcastError('BAD_INPUT', `until: only ${shipments} delivered shipments to train on; need at least 50`, { field: 'until' });
  }
  const { train, val } = splitFrameByTime(examples, opts.validationShare ?? 0.15);
  deps.log.info({ train: train.n, validation: val.n, backend }, 'training ETA model');
  const fit = await fitEtaModel(train, val, { ...opts, onEpoch: deps.onEpoch });
  const calibrated = Float32Array.from(fit.valPred);
  const valStage = val.text('stage').map((s) => s ?? '');
  const valY = val.number('total_days');
  applyCalibration(calibrated, fit.valEnc.elapsed, valStage, fit.calibration);
  const anyInFlight = valStage.some((s) => s !== 'none');
  const metricsFor = (keep: (stage: string) => boolean) => {
    const ix = valStage.map((s, i) => (keep(s) ? i : -1)).filter((i) => i >= 0);
    return windowMetrics(
      { p10: ix.map((i) => calibrated[i * 3]), p50: ix.map((i) => calibrated[i * 3 + 1]), p90: ix.map((i) => calibrated[i * 3 + 2]) },
      ix.map((i) => valY[i]),
    );
  };
  const metrics: TrainEtaMetrics = {
    rows: { train: train.n, validation: val.n, shipments },
    epochs: fit.epochs,
    bestEpoch: fit.bestEpoch,
    members: fit.memberEpochs,
    validation: metricsFor((s) => s === 'none'),
    validationInFlight: anyInFlight ? metricsFor((s) => s !== 'none') : undefined,
    // The score arrays of the online updates live in feature-spec.json; the metrics keep their settings.
    calibration: withoutScores(fit.calibration),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    stages: {
      featureSeconds: Math.round(featureSeconds * 100) / 100,
      encodeSeconds: Math.round(fit.timing.encodeSeconds * 100) / 100,
      epochSeconds: Math.round(fit.timing.epochSeconds * 100) / 100,
      exampleEpochs: fit.timing.exampleEpochs,
    },
    backend,
  };
  const fingerprint = fingerprintExamples(examples);
  let version = versionName(new Date(), fingerprint);
  if (opts.register !== false) {
    const store = createFileModelStore(deps.modelsDir);
    if (await store.get('eta', version)) version = `${version}-${crypto.randomBytes(2).toString('hex')}`;
    await store.register(
      { kind: 'eta', version, createdAt: new Date().toISOString(), dataFingerprint: fingerprint, until: opts.until?.toISOString() ?? null, seed: opts.seed ?? 42 },
      metrics as unknown as Record<string, unknown>,
      (dir) => writeEtaBundle(dir, { model: fit.model, spec: fit.spec, calibration: fit.calibration }),
    );
    if (opts.activate !== false) await store.activate('eta', version);
    deps.log.info({ version, validation: metrics.validation }, 'ETA model registered');
  }
  return { version, metrics, model: fit.model, spec: fit.spec, calibration: fit.calibration };
}
