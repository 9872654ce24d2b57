/**
 * GraphQL serving cost on loopback against the real `shipcast serve` child process with the real
 * ETA model: a synthetic warehouse (some shipments re-opened so that a batch of 1,000 is 1,000
 * undelivered shipments), `shipcast train eta`, an admin key without a practical rate limit. Then
 * autocannon runs `{ __typename }` (the baseline) and `predictedEta` in alternating rounds, and
 * sequential requests time a batch of 1,000 `predictedEtas`. Steady-state figures are served by the
 * API's prediction cache; the first (cold) request of each kind is reported separately.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alternatingRounds, type CannonFigures, graphqlCannon, medianOf, percentile, postGraphql, roundSettings, startServer } from './support/http-load.js';
import { prepareFleetWarehouse } from './support/warehouse-fixture.js';

const SHIPMENTS = 10_000;
const OPEN = 1_000;
const CONNECTIONS = 10;

export default async function bench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-gql-bench-'));
  const env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'warn' };
  let server: ChildProcess | undefined;
  try {
    const db = path.join(dir, 'bench.duckdb');
    const { key, open, trainSeconds } = await prepareFleetWarehouse(db, env, { shipments: SHIPMENTS, open: OPEN });
    const started = await startServer(db, { env });
    server = started.child;
    const url = started.url;
    const { seconds, rounds } = roundSettings();
    const baselineBody = JSON.stringify({ query: '{ __typename }' });
    const etaBody = JSON.stringify({
      query: 'query($t: String!) { predictedEta(trackingNumber: $t) { p10 p50 p90 confidence modelVersion basis } }',
      variables: { t: open[0] },
    });
    const tCold = performance.now();
    const check = await postGraphql<{ data?: { predictedEta: { modelVersion: string } | null } }>(url, key, etaBody);
    const etaColdMs = performance.now() - tCold;
    if (!check.data?.predictedEta) throw new Error(`predictedEta returned no prediction: ${JSON.stringify(check)}`);
    const runs = await alternatingRounds(graphqlCannon(key, CONNECTIONS), { baseline: { url, body: baselineBody }, eta: { url, body: etaBody } }, { seconds, rounds });
    const perRound = (r: CannonFigures) => ({ reqPerSec: r.reqPerSec, p99Ms: r.p99Ms });
    const baseline = medianOf(runs.baseline, { perRound });
    const eta = medianOf(runs.eta, { perRound });

    const batchBody = JSON.stringify({ query: 'query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { trackingNumber p10 p50 p90 } }', variables: { t: open } });
    const batchMs: number[] = [];
    let predicted = 0;
    let batchColdMs = 0;
    for (let i = 0; i < 25; i++) {
      const t0 = performance.now();
      const json = await postGraphql<{ data?: { predictedEtas: unknown[] } }>(url, key, batchBody);
      if (json.data?.predictedEtas.length !== open.length) throw new Error(`batch answered ${JSON.stringify(json).slice(0, 300)}`);
      predicted = json.data.predictedEtas.filter((e) => e !== null).length;
      if (i === 0) batchColdMs = performance.now() - t0;
      if (i >= 5) batchMs.push(performance.now() - t0);
    }
    const ratio = eta.reqPerSec / baseline.reqPerSec;
    return {
      predictor: `real ETA model (${check.data.predictedEta.modelVersion}), shipcast serve child process`,
      warehouse: { shipments: SHIPMENTS, undelivered: open.length, trainSeconds: Number(trainSeconds.toFixed(1)) },
      connections: CONNECTIONS,
      seconds,
      rounds,
      baseline,
      predictedEta: { ...eta, ratioToBaseline: Number(ratio.toFixed(3)), coldMs: Number(etaColdMs.toFixed(1)) },
      batch1000: { size: open.length, predicted, requests: batchMs.length, p50Ms: Number(percentile(batchMs, 50).toFixed(1)), p99Ms: Number(percentile(batchMs, 99).toFixed(1)), maxMs: Number(Math.max(...batchMs).toFixed(1)), coldMs: Number(batchColdMs.toFixed(1)) },
      note: 'warm figures are served by the prediction cache (exact until the shipment\'s next event or a model change); coldMs is the first request, which pays the ETA feature query',
      targets: {
        predictedEtaRatioAtLeast50pct: ratio >= 0.5,
        predictedEtaP99AtMost25ms: eta.p99Ms <= 25,
        batch1000P50AtMost50ms: percentile(batchMs, 50) <= 50,
      },
      loadAverage1m: Number(os.loadavg()[0].toFixed(1)),
    };
  } finally {
    server?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
