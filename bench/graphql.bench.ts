/**
 * GraphQL serving cost on loopback. A child process serves the API (so the load generator does not
 * share its event loop); autocannon measures `{ __typename }` as the baseline, then
 * `predictedEta`, in the same run; then sequential batches of 1,000 `predictedEtas`.
 *
 * The child process is this file, started with SHIPCAST_GRAPHQL_BENCH_CHILD=1.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { EtaPrediction, EtaPredictor } from '../src/domain/eta.js';
import type { ModelStore } from '../src/domain/models.js';
import { DomainEvents } from '../src/domain/events.js';
import { silentLogger } from '../src/log.js';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { createApiKeyStore } from '../src/auth/api-keys.js';
import { createTrainingJobs } from '../src/graphql/training-jobs.js';
import { createGraphQLServer } from '../src/graphql/server.js';
import { createTrackingIndex } from '../src/graphql/tracking-index.js';
import { listen } from '../src/http/router.js';
import { ShipcastError } from '../src/errors.js';

/** The part of autocannon's API used here (the package ships no types). */
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: { url: string; method: string; connections: number; duration: number; body: string; headers: Record<string, string> }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SHIPMENTS = 5000;
const DAY = 86_400_000;

interface Ready {
  url: string;
  key: string;
  predictor: string;
}

/**
 * The real ETA predictor has not landed yet: this one computes windows arithmetically from the
 * shipment's promise, so the figures measure the API's own cost (auth, parse, loaders, SQL,
 * serialization), not the model's.
 */
function arithmeticPredictor(promises: Map<string, number>): EtaPredictor {
  return {
    async predict(ids, now = new Date()) {
      const out = new Map<string, EtaPrediction>();
      for (const id of ids) {
        const promise = promises.get(id);
        if (promise === undefined) continue;
        out.set(id, {
          shipmentId: id, p10: new Date(promise - DAY), p50: new Date(promise), p90: new Date(promise + DAY),
          confidence: 0.8, modelVersion: 'bench', basis: 'AT_PURCHASE', predictedAt: now,
        });
      }
      return out;
    },
    activeVersion: () => 'bench',
    reload: async () => undefined,
  };
}

async function child(): Promise<void> {
  const warehouse = await openWarehouse(':memory:');
  const now = Date.now();
  await warehouse.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, shipped_at, promised_at, status)
     SELECT printf('S%05d', i), printf('O%05d', i), printf('TN%05d', i), 'ups', 'ground',
            CAST($1 AS TIMESTAMPTZ), CAST($2 AS TIMESTAMPTZ) + to_days(CAST(i % 7 AS INTEGER)), 'in_transit'
     FROM range(${SHIPMENTS}) t(i)`,
    [new Date(now - 2 * DAY), new Date(now + 3 * DAY)],
  );
  const promises = new Map(
    (await warehouse.all<{ shipment_id: string; promised_at: Date }>('SELECT shipment_id, promised_at FROM shipments')).map((r) => [r.shipment_id, r.promised_at.getTime()]),
  );
  const log = silentLogger();
  const predictor = arithmeticPredictor(promises);
  const models: ModelStore = {
    list: async () => [],
    get: async () => undefined,
    activeVersion: async () => undefined,
    activate: async (kind, version) => {
      throw new ShipcastError('NOT_FOUND', `version: no ${kind} model ${version}`);
    },
  };
  const jobs = await createTrainingJobs({ warehouse, log, train: async () => { throw new ShipcastError('BAD_INPUT', 'kind: training is not part of this benchmark'); } });
  const apiKeys = createApiKeyStore(warehouse);
  const { key } = await apiKeys.create({ role: 'admin', label: 'bench', ratePerSecond: 1_000_000 });
  const server = createGraphQLServer(
    { services: { warehouse, log, events: new DomainEvents(), predictor: () => predictor, models, jobs, trackingIndex: createTrackingIndex(warehouse) }, apiKeys, log },
    { graphiql: false, persistedOnly: false },
  );
  const srv = await listen(server.handler, { host: '127.0.0.1', port: 0 });
  const ready: Ready = { url: `${srv.url}/graphql`, key, predictor: 'arithmetic in-bench EtaPredictor (real model not wired yet)' };
  process.send!(ready);
}

async function cannon(url: string, key: string, body: string, seconds: number) {
  const r = await autocannon({
    url, method: 'POST', connections: 10, duration: seconds, body,
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
  });
  return { reqPerSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

type CannonFigures = Awaited<ReturnType<typeof cannon>>;

function medianOf(runs: CannonFigures[]) {
  const med = (f: (r: CannonFigures) => number) => pct(runs.map(f), 50);
  return {
    reqPerSec: med((r) => r.reqPerSec), p50Ms: med((r) => r.p50Ms), p99Ms: med((r) => r.p99Ms),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0), errors: runs.reduce((n, r) => n + r.errors, 0),
    rounds: runs.map((r) => ({ reqPerSec: r.reqPerSec, p99Ms: r.p99Ms })),
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

export default async function bench(): Promise<Record<string, unknown>> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SHIPCAST_GRAPHQL_BENCH_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      proc.once('message', (m) => resolve(m as Ready));
      proc.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const seconds = Number(process.env.BENCH_SECONDS ?? 4);
    // Warm-up, so JIT and DuckDB caches do not count against either side.
    await cannon(ready.url, ready.key, JSON.stringify({ query: '{ __typename }' }), 2);
    await cannon(ready.url, ready.key, JSON.stringify({ query: '{ predictedEta(trackingNumber: "TN00042") { p10 p50 p90 confidence modelVersion basis } }' }), 2);
    // Alternating short rounds, medians reported: the machine is shared, and load drifts.
    const baselineBody = JSON.stringify({ query: '{ __typename }' });
    const etaBody = JSON.stringify({
      query: 'query($t: String!) { predictedEta(trackingNumber: $t) { p10 p50 p90 confidence modelVersion basis } }',
      variables: { t: 'TN00042' },
    });
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const baselineRuns: CannonFigures[] = [];
    const etaRuns: CannonFigures[] = [];
    for (let i = 0; i < rounds; i++) {
      baselineRuns.push(await cannon(ready.url, ready.key, baselineBody, seconds));
      etaRuns.push(await cannon(ready.url, ready.key, etaBody, seconds));
    }
    const baseline = medianOf(baselineRuns);
    const eta = medianOf(etaRuns);

    const batchBody = JSON.stringify({
      query: 'query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { trackingNumber p10 p50 p90 } }',
      variables: { t: Array.from({ length: 1000 }, (_, i) => `TN${String((i * 7) % SHIPMENTS).padStart(5, '0')}`) },
    });
    const batchMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const res = await fetch(ready.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ready.key}` }, body: batchBody });
      const json = (await res.json()) as { data?: { predictedEtas: unknown[] } };
      if (json.data?.predictedEtas.length !== 1000) throw new Error('batch of 1,000 did not return 1,000 predictions');
      if (i >= 5) batchMs.push(performance.now() - t0);
    }
    const ratio = eta.reqPerSec / baseline.reqPerSec;
    return {
      predictor: ready.predictor,
      connections: 10,
      seconds,
      rounds,
      baseline,
      predictedEta: { ...eta, ratioToBaseline: Number(ratio.toFixed(3)) },
      batch1000: { requests: batchMs.length, p50Ms: Number(pct(batchMs, 50).toFixed(1)), p99Ms: Number(pct(batchMs, 99).toFixed(1)), maxMs: Number(Math.max(...batchMs).toFixed(1)) },
      targets: {
        predictedEtaRatioAtLeast50pct: ratio >= 0.5,
        predictedEtaP99AtMost25ms: eta.p99Ms <= 25,
        batch1000P50AtMost50ms: pct(batchMs, 50) <= 50,
      },
    };
  } finally {
    proc.kill('SIGTERM');
  }
}

if (process.env.SHIPCAST_GRAPHQL_BENCH_CHILD === '1') await child();
