/**
 * Return-propensity benchmark on the synthetic generator's data: training time as `shipcast train
 * returns` runs it (feature query, encoding, the logistic start, the epochs, the baselines for the
 * metrics), against the feature SQL alone measured in the same run, and optionally the time-based
 * backtest against both baselines and the planted truth (Bayes AUC on the same rows).
 *
 * Knobs:
 * - SHIPCAST_BENCH_RETURNS_SHIPMENTS: size of the generated sample (default 1,000,000; the
 *   generation is not part of the timed training).
 * - SHIPCAST_BENCH_RETURNS_DB: use this existing warehouse instead of generating one (it is only read).
 * - SHIPCAST_BENCH_RETURNS_EPOCHS: epoch cap of the timed training (default: the trainer's own).
 * - SHIPCAST_BENCH_RETURNS_PARTS: comma-separated subset of `backtest` to run after training (default `backtest`; empty for none).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../src/synth/generate.js';
import { silentLogger } from '../src/log.js';
import { initTf } from '../src/ml/backend.js';
import { dataEnd } from '../src/features/returns/feature-sql.js';
import { queryReturnsFrame } from '../src/features/returns/returns-frame.js';
import { trainReturns } from '../src/ml/returns/train.js';
import { backtestReturns, defaultSplit } from '../src/ml/returns/evaluate.js';

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export default async function returnsBench(): Promise<Record<string, unknown>> {
  const existing = process.env.SHIPCAST_BENCH_RETURNS_DB;
  const parts = new Set((process.env.SHIPCAST_BENCH_RETURNS_PARTS ?? 'backtest').split(',').map((p) => p.trim()).filter(Boolean));
  const epochs = process.env.SHIPCAST_BENCH_RETURNS_EPOCHS === undefined ? undefined : Number(process.env.SHIPCAST_BENCH_RETURNS_EPOCHS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-returns-bench-'));
  const log = silentLogger();
  const backend = await initTf('auto', log);
  const wh = await openWarehouse(existing ?? path.join(dir, 'bench.duckdb'));
  try {
    let t = performance.now();
    let generateSeconds: number | null = null;
    if (!existing) {
      await generateSample(wh, { seed: 7, shipments: Number(process.env.SHIPCAST_BENCH_RETURNS_SHIPMENTS ?? 1_000_000) });
      await wh.checkpoint();
      generateSeconds = round((performance.now() - t) / 1000, 1);
    }
    const shipments = (await wh.one<{ n: number }>('SELECT count(*) AS n FROM shipments'))!.n;

    // Baseline of the same run: the training's feature query alone (SQL and columnar read).
    const end = (await dataEnd(wh))!;
    t = performance.now();
    const frame = await queryReturnsFrame(wh, { kind: 'labelled', labelsKnownBy: end });
    const featureSqlSeconds = (performance.now() - t) / 1000;

    const cpu = process.cpuUsage();
    t = performance.now();
    const trained = await trainReturns({ warehouse: wh, modelsDir: path.join(dir, 'models'), log }, { seed: 1, epochs });
    const trainSeconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    trained.fitted.model.dispose();
    const s = trained.metrics.stages;
    const examples = trained.metrics.rows.train + trained.metrics.rows.validation;
    const training = {
      examples,
      seconds: round(trainSeconds, 1),
      cpuSeconds: round((used.user + used.system) / 1e6, 1),
      targetSeconds: 120,
      stages: s,
      // What the model itself costs beyond reading its features: encoding, the logistic start and the epochs.
      fitSeconds: round(s.encodeSeconds + s.initSeconds + s.epochSeconds, 2),
      epochs: trained.metrics.epochs,
      bestEpoch: trained.metrics.bestEpoch,
      microsPerExampleEpoch: round((s.epochSeconds * 1e6) / (trained.metrics.rows.train * trained.metrics.epochs), 2),
      validation: trained.metrics.validation,
    };
    const out: Record<string, unknown> = {
      backend, shipments, generateSeconds,
      featureSql: { rows: frame.n, seconds: round(featureSqlSeconds, 2) },
      training,
      ratios: { trainingOverFeatureSql: round(trainSeconds / featureSqlSeconds, 2) },
    };
    if (parts.has('backtest')) {
      const splitAt = (await defaultSplit(wh))!;
      t = performance.now();
      const r = await backtestReturns({ warehouse: wh, log }, { splitAt, seed: 1, epochs });
      out.syntheticBacktest = {
        seconds: round((performance.now() - t) / 1000, 1),
        splitAt: r.splitAt, rows: r.rows, bestEpoch: r.bestEpoch, epochs: r.epochs,
        model: r.model, categoryRate: r.categoryRate, logistic: r.logistic, bayes: r.bayes,
        aucGapToBayes: r.bayes ? round(r.bayes.auc - r.model.auc, 4) : null,
      };
    }
    return out;
  } finally {
    await wh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
