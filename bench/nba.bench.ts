/**
 * Next-best-action benchmark, three parts:
 * - `train`: `shipcast train nba` as it runs on the generator's data (reading the logged decisions,
 *   fitting the outcome model, the off-policy evaluation with 1,000 bootstrap resamples), against
 *   reading the logged decisions alone in the same run; target <= 120 s. The same run also checks
 *   the targets against the ground truth on its held-out decisions.
 * - `targets`: the targets at a realistic size: the DR interval covers the learned
 *   policy's true value, and the learned policy reaches >= 90 % of the oracle's value.
 * - `serve`: `nextBestAction` req/s (each request decides and logs one decision) against the
 *   trivial `{ __typename }` in alternating autocannon rounds, on a `shipcast serve` child process
 *   with a real ETA model (the risk) and an NBA policy (activated by override at this size).
 *
 * Knobs: SHIPCAST_BENCH_NBA_SHIPMENTS (train, default 1,000,000), SHIPCAST_BENCH_NBA_TARGET_SHIPMENTS
 * (targets, default 100,000; 0 skips), SHIPCAST_BENCH_NBA_PARTS (default `train,targets,serve`),
 * BENCH_SECONDS / BENCH_ROUNDS (autocannon, default 4 / 3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { generateSample } from '../src/synth/generate.js';
import { silentLogger } from '../src/log.js';
import { initTf } from '../src/ml/backend.js';
import { readLoggedDecisions } from '../src/ml/nba/data.js';
import { trainNba, type TrainNbaResult } from '../src/ml/nba/train.js';
import { actionValues } from '../src/ml/nba/score.js';
import { actionProbabilities } from '../src/ml/nba/policy.js';
import { oracleValue, readTrueRewards, trueValue } from '../src/ml/nba/synthetic-truth.js';
import { alternatingRounds, graphqlCannon, medianOf, postGraphql, roundSettings, startServer } from './support/http-load.js';
import { createAdminKey, inProcessCli } from './support/warehouse-fixture.js';

const CONNECTIONS = 10;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const AS_OF = new Date('2026-11-27T12:00:00Z');

/** The trained policy's held-out figures against the generator's truth. */
async function truthFigures(wh: Warehouse, r: TrainNbaResult) {
  const all = await readLoggedDecisions(wh);
  const held = all.slice(all.length - r.evaluation.decisions.n);
  const truth = await readTrueRewards(wh, held.map((d) => d.decisionId));
  const values = actionValues(r.scorer, held.map((d) => d.context));
  const deployed = trueValue(truth, values.map((v) => actionProbabilities(v, r.evaluation.policy)));
  const greedy = trueValue(truth, values.map((v) => actionProbabilities(v, { epsilon: 0, controlShare: 0 })));
  const oracle = oracleValue(truth);
  const none = truth.reduce((a, t) => a + t[0]!, 0) / truth.length;
  const logged = held.reduce((a, d, i) => a + truth[i][d.action]!, 0) / held.length;
  const { dr, ips, snips, logging, ess, n } = r.evaluation.report;
  return {
    heldOutDecisions: n,
    ess: round(ess, 1),
    estimates: { logging, ips, snips, dr },
    truth: { policy: round(deployed), greedyPolicy: round(greedy), oracle: round(oracle), loggedActions: round(logged), none: round(none) },
    drCoversTruth: dr.lower <= deployed && deployed <= dr.upper,
    policyShareOfOracle: round(deployed / oracle),
    greedyShareOfOracle: round(greedy / oracle),
    policyShareOfOracleLiftOverNone: round((deployed - none) / (oracle - none)),
    gate: r.gate.reason,
  };
}

async function trainPart(dir: string, shipments: number, label: string) {
  const wh = await openWarehouse(path.join(dir, `${label}.duckdb`));
  try {
    let t = performance.now();
    await generateSample(wh, { seed: 42, shipments, asOf: AS_OF });
    const generateSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const decisions = await readLoggedDecisions(wh);
    const readSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const r = await trainNba({ warehouse: wh, modelsDir: path.join(dir, `models-${label}`), log: silentLogger() }, { seed: 42, noActivate: true });
    const trainSeconds = (performance.now() - t) / 1000;
    const figures = await truthFigures(wh, r);
    r.scorer.model.dispose();
    return {
      shipments,
      generateSeconds: round(generateSeconds, 1),
      loggedDecisionsWithOutcome: decisions.length,
      baselineReadDecisionsSeconds: round(readSeconds, 2),
      trainSeconds: round(trainSeconds, 1),
      fitSeconds: r.metrics.fitSeconds,
      ratioToBaseline: round(trainSeconds / readSeconds, 1),
      epochs: (r.metrics.loss as { epochs: number }).epochs,
      ...figures,
    };
  } finally {
    await wh.close();
  }
}

async function servePart(dir: string) {
  const db = path.join(dir, 'serve.duckdb');
  const env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models-serve'), SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'warn' };
  const wh = await openWarehouse(db);
  let open: string;
  try {
    await generateSample(wh, { seed: 42, shipments: 20_000 });
    open = (await wh.one<{ t: string }>('SELECT tracking_number AS t FROM shipments WHERE delivered_at IS NULL AND shipped_at IS NOT NULL AND promised_at IS NOT NULL ORDER BY 1 LIMIT 1'))!.t;
  } finally {
    await wh.close();
  }
  const cli = inProcessCli(env);
  await cli(['train', 'eta', '--db', db, '--epochs', '3']);
  await cli(['train', 'nba', '--db', db, '--override']);
  const key = await createAdminKey(cli, db);
  const { child, url } = await startServer(db, { env });
  try {
    const { seconds, rounds } = roundSettings();
    const baselineBody = JSON.stringify({ query: '{ __typename }' });
    const nbaBody = JSON.stringify({ query: 'query($t: ID!) { nextBestAction(trackingNumber: $t) { action propensity expectedValue policyVersion control topFactors { name contribution } } }', variables: { t: open } });
    const check = await postGraphql<{ data?: { nextBestAction: unknown } }>(url, key, nbaBody);
    if (!check.data?.nextBestAction) throw new Error(`nextBestAction answered ${JSON.stringify(check).slice(0, 300)}`);
    const runs = await alternatingRounds(graphqlCannon(key, CONNECTIONS), { base: { url, body: baselineBody }, nba: { url, body: nbaBody } }, { seconds, rounds });
    // The upper middle for an even BENCH_ROUNDS, as this bench has always reported.
    const b = medianOf(runs.base, { rank: 'above' });
    const n = medianOf(runs.nba, { rank: 'above' });
    return { connections: CONNECTIONS, seconds, rounds, baseline: b, nextBestAction: { ...n, ratioToBaseline: round(n.reqPerSec / b.reqPerSec) }, note: 'every nextBestAction request builds the point-in-time context, scores five actions, explains the choice and INSERTs its decision' };
  } finally {
    // Wait for the server to close its warehouse before the folder is removed.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export default async function nbaBench(): Promise<Record<string, unknown>> {
  const parts = new Set((process.env.SHIPCAST_BENCH_NBA_PARTS ?? 'train,targets,serve').split(',').map((p) => p.trim()).filter(Boolean));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-nba-bench-'));
  const backend = await initTf('auto', silentLogger());
  const out: Record<string, unknown> = { backend };
  try {
    if (parts.has('train')) {
      const train = await trainPart(dir, Number(process.env.SHIPCAST_BENCH_NBA_SHIPMENTS ?? 1_000_000), 'train');
      out.train = { ...train, targets: { trainAtMost120s: train.trainSeconds <= 120 } };
    }
    const targetShipments = Number(process.env.SHIPCAST_BENCH_NBA_TARGET_SHIPMENTS ?? 100_000);
    if (parts.has('targets') && targetShipments > 0) {
      const t = await trainPart(dir, targetShipments, 'targets');
      out.targets = { ...t, targets: { drCoversTruth: t.drCoversTruth, policyAtLeast90pctOfOracle: t.policyShareOfOracle >= 0.9 } };
    }
    if (parts.has('serve')) out.serve = await servePart(dir);
    out.loadAverage1m = round(os.loadavg()[0], 1);
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
