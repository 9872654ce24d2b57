/**
 * Time-based backtest: train on shipments purchased before `splitAt` (hyperparameters and
 * calibration chosen on the most recent slice of that period only), then score delivered
 * shipments purchased from `splitAt` on, against the promise and a per-lane quantile baseline.
 */
import { queryEtaFeatures, type RawEtaRow } from '../../features/eta/feature-sql.js';
import { encodeRows } from '../../features/eta/feature-spec.js';
import { predictDays } from './model.js';
import { applyCalibration } from './calibration.js';
import { replayStream } from './adaptive-scoring.js';
import { groupQuantileBaseline, windowMetrics, type WindowMetrics } from './metrics.js';
import { fitEtaModel, type TrainEtaDeps, type TrainEtaOptions } from './train.js';
import { queryEtaFeatureFrame, splitFrameByTime } from '../../features/eta/eta-frame.js';
import { initTf } from '../backend.js';
import { ShipcastError } from '../../errors.js';

export interface EtaBacktestOptions extends TrainEtaOptions {
  /** Train on purchases before this instant, test on delivered purchases from it on. */
  splitAt: Date;
  /** End of the test period (exclusive; default: everything after splitAt). */
  testUntil?: Date;
  /** How many lanes (by test volume) to break the figures down for. */
  topLanes?: number;
  /**
   * When the test predictions are made: at purchase (default), or at the carrier hand-off, where
   * every figure is about the remaining days from hand-off to delivery.
   */
  moment?: 'purchase' | 'handoff';
  /** Include every test prediction in the report (for comparisons with a generator's truth). */
  keepPredictions?: boolean;
}

/** One scored test shipment, in days since purchase (or since hand-off, for `moment: handoff`). */
export interface EtaTestPrediction {
  shipmentId: string;
  actual: number;
  p10: number;
  p50: number;
  p90: number;
}

export interface EtaBacktestReport {
  split: { trainUntil: string; testFrom: string; testUntil: string | null };
  rows: { train: number; validation: number; test: number };
  model: WindowMetrics;
  baselines: { promise: WindowMetrics; laneMedian: WindowMetrics };
  perLane: { lane: string; model: WindowMetrics; promise: WindowMetrics; laneMedian: WindowMetrics }[];
  perCarrier: { carrier: string; model: WindowMetrics; promise: WindowMetrics; laneMedian: WindowMetrics }[];
  /** Best and last epoch of the first member, of every member, and the time taken. */
  training: { bestEpoch: number; epochs: number; members: { bestEpoch: number; epochs: number }[]; seconds: number };
  /** The online updates of the at-purchase tails over the test period (absent at hand-off or when off). */
  adaptive?: { gamma: number; shipments: number; outcomes: number; finalMissLevels: { lower: number; upper: number } };
  predictions?: EtaTestPrediction[];
}

interface Scored {
  rows: RawEtaRow[];
  y: number[];
  model: { p10: number[]; p50: number[]; p90: number[] };
  promise: { p10: number[]; p50: number[]; p90: number[] };
  lane: { p10: number[]; p50: number[]; p90: number[] };
}

function subsetMetrics(s: Scored, keep: (r: RawEtaRow) => boolean) {
  const ix = s.rows.map((r, i) => (keep(r) ? i : -1)).filter((i) => i >= 0);
  const pick = (w: Scored['model']) => ({ p10: ix.map((i) => w.p10[i]), p50: ix.map((i) => w.p50[i]), p90: ix.map((i) => w.p90[i]) });
  const y = ix.map((i) => s.y[i]);
  return { model: windowMetrics(pick(s.model), y), promise: windowMetrics(pick(s.promise), y), laneMedian: windowMetrics(pick(s.lane), y) };
}

/** Runs the backtest; nothing is registered. */
export async function backtestEta(deps: TrainEtaDeps, opts: EtaBacktestOptions): Promise<EtaBacktestReport> {
  const t0 = performance.now();
  await initTf(deps.tfBackend ?? 'auto', deps.log);
  // Training examples are read column by column (no row objects); the test rows are few and used whole.
  const trainFrame = await queryEtaFeatureFrame(deps.warehouse, {
    kind: 'training', from: opts.from, until: opts.splitAt, orderIds: opts.orderIds, inFlightPerShipment: opts.inFlightPerShipment, seed: opts.seed ?? 42,
  });
  const testRows = await queryEtaFeatures(
    deps.warehouse,
    opts.moment === 'handoff'
      ? { kind: 'handoff', from: opts.splitAt, until: opts.testUntil, orderIds: opts.orderIds }
      : { kind: 'purchase', from: opts.splitAt, until: opts.testUntil, deliveredOnly: true, orderIds: opts.orderIds },
  );
  if (testRows.length === 0) throw new ShipcastError('BAD_INPUT', `from: no delivered shipments purchased on or after ${opts.splitAt.toISOString()}`, { field: 'from' });
  const { train, val } = splitFrameByTime(trainFrame, opts.validationShare ?? 0.15);
  const fit = await fitEtaModel(train, val, { ...opts, until: opts.splitAt, onEpoch: deps.onEpoch });
  const enc = encodeRows(testRows, fit.spec);
  const pred = predictDays(fit.model, enc, fit.spec);
  applyCalibration(pred, enc.elapsed, testRows.map((r) => r.stage), fit.calibration);
  // At purchase, the test period is served as it would be live: each window from the online
  // updates with the outcomes known at its purchase (every shipment since the split, not only the
  // delivered ones scored here).
  const replay = opts.moment === 'handoff' ? undefined : await replayStream(deps.warehouse, fit, { until: opts.testUntil, orderIds: opts.orderIds });
  if (replay) {
    testRows.forEach((r, i) => {
      const w = replay.windows.get(r.shipment_id);
      if (w) pred.set(w, i * 3);
    });
  }
  fit.model.dispose();

  // Baselines see the whole training period (train + validation): they need no held-out slice.
  const [stage, origin, dest, total] = [trainFrame.text('stage'), trainFrame.text('origin_region'), trainFrame.text('dest_region'), trainFrame.number('total_days')];
  const history = stage.flatMap((s, i) => (s === 'none' ? [i] : []));
  const laneOf = (r: RawEtaRow) => `${r.origin_region}>${r.dest_region}`;
  const laneQ = groupQuantileBaseline(history.map((i) => `${origin[i]}>${dest[i]}`), history.map((i) => total[i]));
  const n = testRows.length;
  // At hand-off every figure is about the remaining days: shift actuals and forecasts by the elapsed time.
  const shift = (i: number) => (opts.moment === 'handoff' ? enc.elapsed[i] : 0);
  const scored: Scored = {
    rows: testRows,
    y: testRows.map((r, i) => (r.total_days as number) - shift(i)),
    model: { p10: [], p50: [], p90: [] },
    promise: { p10: [], p50: [], p90: [] },
    lane: { p10: [], p50: [], p90: [] },
  };
  for (let i = 0; i < n; i++) {
    const d = shift(i);
    scored.model.p10.push(pred[i * 3] - d);
    scored.model.p50.push(pred[i * 3 + 1] - d);
    scored.model.p90.push(pred[i * 3 + 2] - d);
    // The promise is a single date: it is the point forecast and the upper bound of its "window".
    const promise = typeof testRows[i].promise_days === 'number' ? (testRows[i].promise_days as number) - d : NaN;
    scored.promise.p10.push(0);
    scored.promise.p50.push(promise);
    scored.promise.p90.push(promise);
    const q = laneQ(laneOf(testRows[i]));
    scored.lane.p10.push(Math.max(0, q[0] - d));
    scored.lane.p50.push(Math.max(0, q[1] - d));
    scored.lane.p90.push(Math.max(0, q[2] - d));
  }
  const all = subsetMetrics(scored, () => true);
  const count = (key: (r: RawEtaRow) => string) => {
    const m = new Map<string, number>();
    for (const r of testRows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };
  const perLane = count(laneOf).slice(0, opts.topLanes ?? 10).map(([lane]) => ({ lane, ...subsetMetrics(scored, (r) => laneOf(r) === lane) }));
  const perCarrier = count((r) => String(r.carrier_service)).map(([carrier]) => ({ carrier, ...subsetMetrics(scored, (r) => r.carrier_service === carrier) }));
  return {
    split: { trainUntil: opts.splitAt.toISOString(), testFrom: opts.splitAt.toISOString(), testUntil: opts.testUntil?.toISOString() ?? null },
    rows: { train: train.n, validation: val.n, test: n },
    model: all.model,
    baselines: { promise: all.promise, laneMedian: all.laneMedian },
    perLane,
    perCarrier,
    training: { bestEpoch: fit.bestEpoch, epochs: fit.epochs, members: fit.memberEpochs, seconds: Math.round((performance.now() - t0) / 100) / 10 },
    adaptive:
      replay && fit.calibration.adaptive
        ? { gamma: fit.calibration.adaptive.gamma, shipments: replay.n, outcomes: replay.levels.updates, finalMissLevels: { lower: replay.levels.lower, upper: replay.levels.upper } }
        : undefined,
    predictions: opts.keepPredictions
      ? testRows.map((r, i) => ({ shipmentId: r.shipment_id, actual: scored.y[i], p10: scored.model.p10[i], p50: scored.model.p50[i], p90: scored.model.p90[i] }))
      : undefined,
  };
}

/** Human-readable table of a backtest report. */
export function formatBacktest(r: EtaBacktestReport): string[] {
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
  const line = (name: string, m: WindowMetrics) =>
    `${name.padEnd(24)} ${String(m.n).padStart(6)} ${f(m.mae).padStart(7)} ${f(m.medianAe).padStart(7)} ${f(m.pinball).padStart(8)} ${pct(m.coverage).padStart(8)} ${f(m.meanWidth).padStart(7)} ${pct(m.lateRate).padStart(7)}`;
  const header = `${'model'.padEnd(24)} ${'n'.padStart(6)} ${'MAE'.padStart(7)} ${'MedAE'.padStart(7)} ${'pinball'.padStart(8)} ${'P10-P90'.padStart(8)} ${'width'.padStart(7)} ${'late'.padStart(7)}`;
  const out = [
    `ETA backtest: train < ${r.split.trainUntil.slice(0, 10)} (${r.rows.train} train + ${r.rows.validation} validation examples), test >= ${r.split.testFrom.slice(0, 10)}: ${r.rows.test} delivered`,
    `late = share delivered after P90; promise baseline: P50 = P90 = promised date`,
    header,
    line('shipcast ETA', r.model),
    line('promise', r.baselines.promise),
    line('lane median', r.baselines.laneMedian),
  ];
  if (r.adaptive) {
    const a = r.adaptive;
    out.push(
      `online tail updates (gamma ${a.gamma}): ${a.outcomes} outcomes of ${a.shipments} shipments since the split; miss levels at the end: lower ${pct(a.finalMissLevels.lower)}, upper ${pct(a.finalMissLevels.upper)}`,
    );
  }
  for (const c of r.perCarrier) out.push('', `carrier ${c.carrier}`, header, line('shipcast ETA', c.model), line('promise', c.promise), line('lane median', c.laneMedian));
  out.push('', 'top lanes by test volume', header);
  for (const l of r.perLane) out.push(line(`${l.lane} model`, l.model), line(`${l.lane} promise`, l.promise), line(`${l.lane} lane median`, l.laneMedian));
  return out;
}
