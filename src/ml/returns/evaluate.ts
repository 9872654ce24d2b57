/**
 * Time-based backtest of the return-propensity model: train on what was known at the split (the
 * orders whose return window had closed by then), test on the orders delivered from the split
 * on whose window closed by the data's end. The model, the category-rate baseline and the
 * logistic regression are fitted and measured in the same run; on generator data, the Bayes
 * classifier (the planted return probabilities of `truth_order_returns`) is measured on exactly
 * the same test rows and labels.
 */
import type { Logger } from '../../log.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import { dataEnd, RETURN_WINDOW_DAYS } from '../../features/returns/feature-sql.js';
import { queryReturnsFrame, splitByInstant } from '../../features/returns/returns-frame.js';
import { labels } from '../../features/returns/encode.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { ShipcastError } from '../../errors.js';
import { probabilityMetrics, reliability, type ProbabilityMetrics } from './metrics.js';
import { baselineScores, fitReturnsModel, scoreFrame, type FitReturnsOptions, type ReturnsEpochProgress } from './train.js';

const DAY_MS = 86_400_000;

export interface BacktestReturnsOptions extends FitReturnsOptions {
  /** Train on labels known at this instant; test on deliveries from it on. */
  splitAt: Date;
  /** End of the test period's deliveries (exclusive; default: every test window closed by the data's end). */
  testUntil?: Date;
  validationShare?: number;
}

export interface ReturnsBacktest {
  splitAt: string;
  dataEnd: string;
  windowDays: number;
  rows: { train: number; validation: number; test: number };
  epochs: number;
  bestEpoch: number;
  model: ProbabilityMetrics;
  /** The network's probabilities before Platt scaling, to show what calibration changed. */
  modelUncalibrated: ProbabilityMetrics;
  categoryRate: ProbabilityMetrics;
  logistic: ProbabilityMetrics;
  /** The planted probabilities on the same rows, when the warehouse holds the generator's truth for every test row. */
  bayes?: ProbabilityMetrics;
  /** Reliability of the model on the test rows (the calibration plot's points). */
  reliability: { n: number; meanPredicted: number; observed: number }[];
  seconds: { features: number; fit: number; baselines: number };
}

/** The planted return probability of each order, or undefined when any is missing (not generator data). */
async function truthProbabilities(db: Warehouse, orderIds: readonly (string | null)[]): Promise<Float64Array | undefined> {
  const rows = await db.all<{ order_id: string; p: number }>(
    `SELECT order_id, return_prob AS p FROM truth_order_returns WHERE order_id IN (SELECT unnest(from_json($1, '["VARCHAR"]')))`,
    [JSON.stringify(orderIds)],
  );
  const m = new Map(rows.map((r) => [r.order_id, r.p]));
  const out = new Float64Array(orderIds.length);
  for (let i = 0; i < orderIds.length; i++) {
    const p = m.get(orderIds[i] ?? '');
    if (p === undefined) return undefined;
    out[i] = p;
  }
  return out;
}

export async function backtestReturns(
  deps: { warehouse: Warehouse; log: Logger; tfBackend?: TfBackendChoice; onEpoch?: (e: ReturnsEpochProgress) => void },
  opts: BacktestReturnsOptions,
): Promise<ReturnsBacktest> {
  await initTf(deps.tfBackend ?? 'auto', deps.log);
  const end = await dataEnd(deps.warehouse);
  if (!end) throw new ShipcastError('BAD_INPUT', 'split: the warehouse holds no orders', { field: 'split' });
  let t = performance.now();
  const trainAll = await queryReturnsFrame(deps.warehouse, { kind: 'labelled', labelsKnownBy: opts.splitAt });
  const test = await queryReturnsFrame(deps.warehouse, { kind: 'labelled', from: opts.splitAt, until: opts.testUntil, labelsKnownBy: end });
  const features = (performance.now() - t) / 1000;
  if (trainAll.n < 200) throw new ShipcastError('BAD_INPUT', `split: only ${trainAll.n} orders with a closed return window before the split; need at least 200`, { field: 'split' });
  if (test.n === 0) {
    throw new ShipcastError('BAD_INPUT', `split: no delivered orders from the split on whose ${RETURN_WINDOW_DAYS}-day window closed by ${end.toISOString()}`, { field: 'split' });
  }
  const { train, val } = splitByInstant(trainAll, opts.validationShare ?? 0.15);
  t = performance.now();
  const fitted = await fitReturnsModel(train, val, { ...opts, onEpoch: opts.onEpoch ?? deps.onEpoch });
  const fit = (performance.now() - t) / 1000;
  const y = labels(test);
  const p = scoreFrame(fitted, test);
  const raw = scoreFrame({ ...fitted, calibration: { method: 'platt', a: 1, b: 0, n: 0 } }, test);
  // The baselines learn from everything the model learned from (train and validation slices).
  const base = baselineScores(trainAll, test, fitted.spec);
  const truth = await truthProbabilities(deps.warehouse, test.text('order_id'));
  fitted.model.dispose();
  return {
    splitAt: opts.splitAt.toISOString(),
    dataEnd: end.toISOString(),
    windowDays: RETURN_WINDOW_DAYS,
    rows: { train: train.n, validation: val.n, test: test.n },
    epochs: fitted.epochs,
    bestEpoch: fitted.bestEpoch,
    model: probabilityMetrics(p, y),
    modelUncalibrated: probabilityMetrics(raw, y),
    categoryRate: probabilityMetrics(base.categoryRate, y),
    logistic: probabilityMetrics(base.logistic, y),
    ...(truth ? { bayes: probabilityMetrics(truth, y) } : {}),
    reliability: reliability(p, y),
    seconds: { features: round(features), fit: round(fit), baselines: round(base.seconds) },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The default split: the day of the 80th percentile of the labelled deliveries' instants, moved back so the test has closed windows. */
export async function defaultSplit(db: Warehouse): Promise<Date | undefined> {
  const end = await dataEnd(db);
  if (!end) return undefined;
  const r = await db.one<{ d: Date | null }>(
    `SELECT date_trunc('day', quantile_disc(d, 0.8)) AS d FROM (
       SELECT max(delivered_at) AS d FROM shipments GROUP BY order_id HAVING count(*) = count(delivered_at)) WHERE d <= $1`,
    [new Date(end.getTime() - RETURN_WINDOW_DAYS * DAY_MS)],
  );
  return r?.d ? new Date(r.d) : undefined;
}

/** The backtest as text lines, one per forecast. */
export function formatBacktest(r: ReturnsBacktest): string[] {
  const line = (name: string, m: ProbabilityMetrics) =>
    `${name.padEnd(22)} AUC ${m.auc.toFixed(4)}  PR-AUC ${m.prAuc.toFixed(4)}  Brier ${m.brier.toFixed(4)}  log loss ${m.logLoss.toFixed(4)}  ECE ${m.ece.toFixed(4)} (equal-width ${m.eceEqualWidth.toFixed(4)})`;
  return [
    `split ${r.splitAt}, data end ${r.dataEnd}, label: return requested within ${r.windowDays} days of delivery`,
    `rows: ${r.rows.train} train, ${r.rows.validation} validation, ${r.rows.test} test (${r.model.positives} returned, ${((100 * r.model.positives) / r.model.n).toFixed(1)} %); best epoch ${r.bestEpoch}/${r.epochs}`,
    line('model (calibrated)', r.model),
    line('model (uncalibrated)', r.modelUncalibrated),
    line('category return rate', r.categoryRate),
    line('logistic regression', r.logistic),
    ...(r.bayes ? [line('Bayes (planted truth)', r.bayes), `AUC gap to Bayes: ${(r.bayes.auc - r.model.auc).toFixed(4)}`] : []),
    `seconds: features ${r.seconds.features}, fit ${r.seconds.fit}, baselines ${r.seconds.baselines}`,
  ];
}
