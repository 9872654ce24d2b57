/**
 * ETA benchmark on the synthetic generator's data: training time (features + fit), batch
 * prediction throughput, and accuracy against the generator's ground truth (P50 MAE vs the
 * irreducible E|Y − median Y|, P10–P90 coverage) in a time-ordered backtest.
 *
 * Size: SHIPCAST_ETA_BENCH_SHIPMENTS (default 100,000; the target is stated for 1M, which
 * takes this machine far longer to generate than to train, so the figures include per-row rates).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../src/synth/generate.js';
import { silentLogger } from '../src/log.js';
import { initTf } from '../src/ml/backend.js';
import { trainEta } from '../src/ml/eta/train.js';
import { backtestEta } from '../src/ml/eta/evaluate.js';
import { queryEtaFeatures } from '../src/features/eta/feature-sql.js';
import { encodeRows } from '../src/features/eta/feature-spec.js';
import { predictDays } from '../src/ml/eta/model.js';
import { loadEtaBundle } from '../src/ml/eta/bundle.js';
import { createFileModelStore } from '../src/ml/registry/file-model-store.js';
import { createEtaPredictor } from '../src/ml/eta/predictor.js';

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export default async function etaBench(): Promise<Record<string, unknown>> {
  const shipments = Number(process.env.SHIPCAST_ETA_BENCH_SHIPMENTS ?? 100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-bench-'));
  const log = silentLogger();
  const backend = await initTf('auto', log);
  const wh = await openWarehouse(path.join(dir, 'bench.duckdb'));
  try {
    let t = performance.now();
    await generateSample(wh, { seed: 7, shipments, asOf: new Date('2026-06-01T00:00:00Z') });
    const generateSeconds = (performance.now() - t) / 1000;

    // Training as `shipcast train eta` runs it (features, fit with early stopping, calibration, registry).
    t = performance.now();
    const trained = await trainEta({ warehouse: wh, modelsDir: path.join(dir, 'models'), log }, { seed: 1, epochs: 6 });
    const trainSeconds = (performance.now() - t) / 1000;
    const examples = trained.metrics.rows.train + trained.metrics.rows.validation;
    const stages = trained.metrics.stages;
    trained.model.dispose();

    // Serving: `EtaPredictor.predict` as the API and webhooks call it, for 1 and 1,000 shipments
    // still in flight a week before the data ends (median of repeated calls, after a warm-up).
    const predictor = await createEtaPredictor({ warehouse: wh, modelsDir: path.join(dir, 'models'), log });
    const now = new Date('2026-05-25T00:00:00Z');
    const inFlight = (
      await wh.all<{ id: string }>(
        `SELECT s.shipment_id AS id FROM shipments s JOIN orders o USING (order_id)
         WHERE o.purchased_at <= $1::TIMESTAMPTZ AND (s.delivered_at IS NULL OR s.delivered_at > $1::TIMESTAMPTZ) ORDER BY hash(s.shipment_id) LIMIT 1000`,
        [now.toISOString()],
      )
    ).map((r) => r.id);
    const latency = async (ids: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < 12; i++) {
        const t0 = performance.now();
        await predictor.predict(ids, now);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return { shipments: ids.length, medianMs: round(ms[6], 1), minMs: round(ms[1], 1), maxMs: round(ms[11], 1) };
    };
    const serving = { one: await latency(inFlight.slice(0, 1)), thousand: await latency(inFlight) };

    // Batch prediction: one model call per 16k rows over every shipment, features already built.
    const bundle = await loadEtaBundle(createFileModelStore(path.join(dir, 'models')));
    t = performance.now();
    const rows = await queryEtaFeatures(wh, { kind: 'purchase' });
    const featureSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const enc = encodeRows(rows, bundle.spec);
    const encodeSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    predictDays(bundle.model, enc, bundle.spec);
    const predictSeconds = (performance.now() - t) / 1000;
    bundle.model.dispose();

    // Accuracy against the planted truth: train on the first 75 % of purchases, test on the rest,
    // predicting at hand-off because the truth's Y (and its irreducible error) starts there.
    const split = await wh.one<{ d: Date }>(
      'SELECT quantile_disc(o.purchased_at, 0.75) AS d FROM shipments s JOIN orders o USING (order_id) WHERE s.delivered_at IS NOT NULL',
    );
    const report = await backtestEta({ warehouse: wh, modelsDir: path.join(dir, 'models'), log }, { splitAt: new Date(split!.d), seed: 1, epochs: 15, keepPredictions: true, moment: 'handoff' });
    const truth = new Map(
      (await wh.all<{ shipment_id: string; e: number }>('SELECT shipment_id, expected_abs_dev_from_median_days AS e FROM truth_shipment_transit')).map((r) => [r.shipment_id, r.e]),
    );
    let n = 0;
    let irreducible = 0;
    let mae = 0;
    let covered = 0;
    for (const p of report.predictions ?? []) {
      const e = truth.get(p.shipmentId);
      if (e === undefined) continue;
      n++;
      irreducible += e;
      mae += Math.abs(p.actual - p.p50);
      if (p.actual >= p.p10 && p.actual <= p.p90) covered++;
    }
    return {
      backend,
      shipments,
      generateSeconds: round(generateSeconds, 1),
      training: {
        examples,
        seconds: round(trainSeconds, 1),
        microsPerExample: round((trainSeconds * 1e6) / examples, 1),
        // Per stage: the feature query per example row, encoding per row, one example through one epoch.
        featureSeconds: stages.featureSeconds,
        featureMicrosPerRow: round((stages.featureSeconds * 1e6) / examples, 1),
        encodeMicrosPerRow: round((stages.encodeSeconds * 1e6) / examples, 1),
        epochSeconds: stages.epochSeconds,
        microsPerExampleEpoch: round((stages.epochSeconds * 1e6) / stages.exampleEpochs, 1),
        epochs: trained.metrics.epochs,
        bestEpoch: trained.metrics.bestEpoch,
        validation: trained.metrics.validation,
      },
      serving,
      prediction: {
        rows: rows.length,
        featureSqlSeconds: round(featureSeconds, 2),
        encodeSeconds: round(encodeSeconds, 2),
        modelSeconds: round(predictSeconds, 2),
        modelShipmentsPerSecond: Math.round(rows.length / predictSeconds),
        endToEndShipmentsPerSecond: Math.round(rows.length / (featureSeconds + encodeSeconds + predictSeconds)),
      },
      syntheticBacktest: {
        test: n,
        p50Mae: round(mae / n),
        irreducibleMae: round(irreducible / n),
        maeOverIrreducible: round(mae / irreducible),
        coverage: round(covered / n),
        meanWidth: report.model.meanWidth,
        laneMedianMae: report.baselines.laneMedian.mae,
        promiseMae: report.baselines.promise.mae,
      },
    };
  } finally {
    await wh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
