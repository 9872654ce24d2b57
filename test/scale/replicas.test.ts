/**
 * Stateless API replicas (docs/SCALE.md, section 4) against the real thing: a DuckDB file with a
 * trained ETA model (and a tiny returns model and NBA policy, trained on a generated sample into the
 * same registry), a snapshot published from the open writer, and two `shipcast serve --replica`
 * processes on 127.0.0.1 sharing that one read-only file and the model registry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { publishSnapshot } from '../../src/warehouse/snapshot.js';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { trainEta } from '../../src/ml/eta/train.js';
import { trainReturns } from '../../src/ml/returns/train.js';
import { createReturnsPredictor } from '../../src/ml/returns/predictor.js';
import { trainNba } from '../../src/ml/nba/train.js';
import { generateSample } from '../../src/synth/generate.js';
import { silentLogger } from '../../src/log.js';
import { loadEtaFixture, FIXTURE_START } from '../ml/eta-fixture.js';
import { startReplica, waitUntil, type ReplicaProcess } from './replica-processes.js';

const DAY = 86_400_000;
const DAYS = 60;
const WRITER_URL = 'http://writer.internal:4000';
const ETA_FIELDS = 'trackingNumber p10 p50 p90 confidence modelVersion basis latestEvent { eventId status occurredAt }';

let dir: string;
let writer: Warehouse;
let snapshot: string;
let modelsDir: string;
let firstVersion: string;
let returnsVersion: string;
let nbaVersion: { version: string; decisions: number; activated: boolean };
let keys: { reader: string; admin: string; scientist: string; leadership: string; slow: string };
let open: string[];
let replicas: ReplicaProcess[] = [];
const log = silentLogger();

// The fixture ends today, so open shipments are predicted around now, as in production.
const startDay = () => Math.floor((Date.now() - FIXTURE_START) / DAY) - DAYS;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-replicas-'));
  modelsDir = path.join(dir, 'models');
  snapshot = path.join(dir, 'published', 'shipcast.duckdb');
  writer = await openWarehouse(path.join(dir, 'writer.duckdb'));
  await loadEtaFixture(writer, { shipments: 500, days: DAYS, openDays: 6, seed: 7, startDay: startDay() });
  const trained = await trainEta({ warehouse: writer, modelsDir, log }, { seed: 1, epochs: 2, members: 1, batchSize: 256, refit: false });
  trained.model.dispose();
  firstVersion = trained.version;
  // The returns model and NBA policy learn from a generated sample (the ETA fixture has no returns or
  // logged decisions); the returns model then scores the fixture's orders like any others.
  const sample = await openWarehouse(':memory:');
  try {
    await generateSample(sample, { seed: 9, shipments: 3000, asOf: new Date(Date.now() - DAY) });
    const returns = await trainReturns({ warehouse: sample, modelsDir, log }, { seed: 1, epochs: 3 });
    returns.fitted.model.dispose();
    returnsVersion = returns.version;
    const nba = await trainNba({ warehouse: sample, modelsDir, log }, { epochs: 3, bootstrap: 100 });
    nba.scorer.model.dispose();
    nbaVersion = { version: nba.version, decisions: nba.evaluation.decisions.n, activated: nba.activated };
  } finally {
    await sample.close();
  }
  const store = createApiKeyStore(writer);
  const key = async (role: string) => (await store.create({ role, ratePerSecond: 10_000 })).key;
  keys = { reader: await key('email-system'), admin: await key('admin'), scientist: await key('data-scientist'), leadership: await key('leadership'), slow: (await store.create({ role: 'email-system', ratePerSecond: 1 })).key };
  // The most recent open shipments: their windows lie ahead, so they do not depend on the instant asked.
  open = (await writer.all<{ tracking_number: string }>('SELECT tracking_number FROM shipments WHERE delivered_at IS NULL ORDER BY shipment_id DESC LIMIT 12')).map((r) => r.tracking_number);
  // Published while the writer stays open, as `shipcast serve --snapshot` does.
  await publishSnapshot(writer, snapshot);
  const env = {
    SHIPCAST_MODELS_DIR: modelsDir, SHIPCAST_DATA_DIR: path.join(dir, 'replica-data'), SHIPCAST_LINK_SECRET: 'replica-test-link-secret',
    SHIPCAST_ENV: 'test', SHIPCAST_LOG_LEVEL: 'warn', SHIPCAST_WRITER_URL: WRITER_URL,
  };
  // The first follows the writer on SIGHUP only, the second by polling.
  replicas = await Promise.all([startReplica(snapshot, { ...env, SHIPCAST_REPLICA_POLL_SECONDS: '0' }), startReplica(snapshot, { ...env, SHIPCAST_REPLICA_POLL_SECONDS: '0.3' })]);
}, 180_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await writer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function etasOn(r: ReplicaProcess): Promise<Array<Record<string, unknown>>> {
  const { body } = await r.gql(keys.reader, `query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { ${ETA_FIELDS} } }`, { t: open });
  expect(body.errors, r.stderr()).toBeUndefined();
  return body.data.predictedEtas;
}

describe('two API replicas over one read-only snapshot', () => {
  it('answer the same predictedEta and the same shipment list', async () => {
    const [a, b] = replicas;
    expect(a.url).not.toBe(b.url);
    const asked = Date.now();
    const [ea, eb] = await Promise.all([etasOn(a), etasOn(b)]);
    expect(ea).toHaveLength(open.length);
    expect(ea.every((p) => p !== null && p.modelVersion === firstVersion)).toBe(true);
    // Windows still ahead of the request: conditioning on "not delivered yet" did not move them.
    expect(ea.every((p) => Date.parse(p.p10 as string) > asked)).toBe(true);
    expect(eb).toEqual(ea);
    const single = `query($t: String!) { predictedEta(trackingNumber: $t) { ${ETA_FIELDS} } }`;
    const [sa, sb] = await Promise.all([a.gql(keys.reader, single, { t: open[0] }), b.gql(keys.reader, single, { t: open[0] })]);
    expect(sa.body.data.predictedEta).toEqual(ea[0]);
    expect(sb.body.data.predictedEta).toEqual(ea[0]);

    const list = '{ shipments(first: 100, filter: { status: [IN_TRANSIT] }) { pageInfo { hasNextPage endCursor } edges { cursor node { trackingNumber status carrier } } } }';
    const [la, lb] = await Promise.all([a.gql(keys.reader, list), b.gql(keys.reader, list)]);
    expect(lb.body.data).toEqual(la.body.data);
    const inTransit = (await writer.one<{ n: number }>("SELECT count(*) AS n FROM shipments WHERE status = 'in_transit'"))!.n;
    expect(inTransit).toBeGreaterThan(0);
    expect(la.body.data.shipments.edges).toHaveLength(Math.min(100, inTransit));
  });

  it('serve reports, readiness and metrics; keys are checked against the snapshot', async () => {
    const [a, b] = replicas;
    for (const r of replicas) expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
    const report = await fetch(`${a.url}/reports/delivery-kpis.json`, { headers: { authorization: `Bearer ${keys.leadership}` } });
    expect(report.status).toBe(200);
    const again = await fetch(`${b.url}/reports/delivery-kpis.json`, { headers: { authorization: `Bearer ${keys.leadership}` } });
    // The same figures; only the instants of computing them differ.
    expect(((await again.json()) as { report: unknown }).report).toEqual(((await report.json()) as { report: unknown }).report);
    expect((await fetch(`${a.url}/reports/delivery-kpis.json`, { headers: { authorization: `Bearer ${keys.reader}` } })).status).toBe(403);
    const bogus = await a.gql('sck_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '{ __typename }');
    expect(bogus.status).toBe(401);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/shipcast_replica_snapshot_mtime_seconds \d/);
    const listed = await a.gql(keys.admin, '{ apiKeys { id role } }');
    expect(listed.body.data.apiKeys).toHaveLength(5);
    // The per-key rate limit holds on a replica, in its own memory: a budget of 1/s (bursts of 2) per process.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await a.gql(keys.slow, '{ __typename }')).status);
    expect(statuses.filter((st) => st === 429).length).toBeGreaterThan(0);
    expect((await b.gql(keys.slow, '{ __typename }')).status).toBe(200);
  });

  it('refuses mutations and subscriptions with READ_ONLY_REPLICA, after the permission check', async () => {
    const [a] = replicas;
    const created = await a.gql(keys.admin, 'mutation { createApiKey(role: LEADERSHIP) { key } }');
    expect(created.body.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REPLICA', writer: WRITER_URL });
    expect(created.body.errors?.[0].message).toContain(WRITER_URL);
    const train = await a.gql(keys.scientist, 'mutation { trainModel(kind: ETA) { id } }');
    expect(train.body.errors?.[0].extensions?.code).toBe('READ_ONLY_REPLICA');
    const activate = await a.gql(keys.admin, `mutation { activateModel(kind: ETA, version: "${firstVersion}") { version } }`);
    expect(activate.body.errors?.[0].extensions?.code).toBe('READ_ONLY_REPLICA');
    const forbidden = await a.gql(keys.reader, 'mutation { createApiKey(role: ADMIN) { key } }');
    expect(forbidden.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const sub = await fetch(`${a.url}/graphql?query=${encodeURIComponent(`subscription { shipmentUpdated(trackingNumber: "${open[0]}") { trackingNumber } }`)}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${keys.reader}` },
    });
    expect(await sub.text()).toContain('READ_ONLY_REPLICA');
    const jobs = await writer.one<{ n: number }>('SELECT count(*) AS n FROM model_training_jobs');
    expect(jobs?.n).toBe(0);
  });

  it('answers webhooks 503 with Retry-After naming the writer, and stores nothing', async () => {
    const [a, b] = replicas;
    const event = JSON.stringify({ type: 'tracking.event', data: { event_id: 'r1', tracking_number: open[0], status: 'delivered', occurred_at: new Date().toISOString() } });
    for (const [r, p] of [[a, '/webhooks/tracking'], [b, '/webhooks/mailgun'], [a, '/webhooks/tracking/aftership']] as const) {
      const res = await fetch(`${r.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(await res.json()).toMatchObject({ error: { code: 'READ_ONLY_REPLICA', writer: WRITER_URL } });
    }
    expect((await fetch(`${a.url}/email/unsubscribe?t=x`, { method: 'POST' })).status).toBe(503);
    // A third reader of the same file sees what the writer published, and nothing more.
    const ro = await openWarehouse(snapshot, { readOnly: true });
    try {
      const count = (wh: Warehouse) => wh.one<{ n: number }>("SELECT count(*) AS n FROM tracking_events WHERE event_id = 'r1'");
      expect((await count(ro))?.n).toBe(0);
      await expect(ro.run('DELETE FROM tracking_events')).rejects.toMatchObject({ code: 'READ_ONLY_REPLICA' });
      const all = await ro.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events');
      expect(all?.n).toBe((await writer.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events'))?.n);
    } finally {
      await ro.close();
    }
  });

  it('follow the writer: a new active model and a new snapshot, by polling or on SIGHUP', async () => {
    const [a, b] = replicas;
    const next = await trainEta({ warehouse: writer, modelsDir, log }, { seed: 2, epochs: 1, members: 1, batchSize: 256, refit: false });
    next.model.dispose();
    expect(next.version).not.toBe(firstVersion);
    await waitUntil(async () => (await etasOn(b))[0]?.modelVersion === next.version, 15_000, `the polling replica to serve ${next.version}`);
    expect((await etasOn(a))[0]?.modelVersion).toBe(firstVersion);

    // The writer takes a new shipment, then publishes; the replicas had never seen it.
    await loadEtaFixture(writer, { shipments: 3, days: 1, seed: 9, startDay: startDay() + DAYS - 1, idPrefix: 'late' });
    const fresh = (await writer.one<{ t: string }>("SELECT tracking_number AS t FROM shipments WHERE shipment_id LIKE 'late%' ORDER BY shipment_id LIMIT 1"))!.t;
    const shipment = `{ shipment(trackingNumber: "${fresh}") { trackingNumber } }`;
    expect((await a.gql(keys.reader, shipment)).body.data.shipment).toBeNull();
    await publishSnapshot(writer, snapshot);
    a.child.kill('SIGHUP');
    for (const r of replicas) {
      await waitUntil(async () => (await r.gql(keys.reader, shipment)).body.data?.shipment?.trackingNumber === fresh, 15_000, `replica ${r.url} to reopen the snapshot`);
    }
    const [ea, eb] = await Promise.all([etasOn(a), etasOn(b)]);
    expect(ea[0]?.modelVersion).toBe(next.version);
    expect(eb).toEqual(ea);
    expect(a.stderr()).not.toMatch(/"level":(50|60)/);
    expect(b.stderr()).not.toMatch(/"level":(50|60)/);
  }, 60_000);
});

describe('the returns and NBA models on a replica', () => {
  const RISK = 'query($o: ID!) { returnRisk(orderId: $o) { orderId probability modelVersion windowDays predictedAt delivered topFactors { name contribution } } }';

  it('returnRisk answers what the writer scores in process, on both replicas', async () => {
    const orders = (await writer.all<{ order_id: string }>('SELECT order_id FROM shipments WHERE delivered_at IS NOT NULL ORDER BY order_id LIMIT 4')).map((r) => r.order_id);
    expect(orders).toHaveLength(4);
    const predictor = await createReturnsPredictor({ warehouse: writer, modelsDir, log });
    const expected = await predictor.predict(orders);
    expect(expected.size).toBe(orders.length);
    for (const o of orders) {
      const e = expected.get(o)!;
      expect(e.modelVersion).toBe(returnsVersion);
      expect(e.probability).toBeGreaterThan(0);
      expect(e.probability).toBeLessThan(1);
      for (const r of replicas) {
        const { body } = await r.gql(keys.reader, RISK, { o });
        expect(body.errors, r.stderr()).toBeUndefined();
        expect(body.data.returnRisk).toEqual({ ...e, predictedAt: e.predictedAt.toISOString() });
      }
    }
    const unknown = await replicas[0].gql(keys.reader, RISK, { o: 'no-such-order' });
    expect(unknown.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('nextBestAction is refused with READ_ONLY_REPLICA naming the writer (it logs each decision); nbaPolicyEvaluation answers', async () => {
    const [a, b] = replicas;
    const decide = `query($t: ID!) { nextBestAction(trackingNumber: $t) { decisionId action } }`;
    const refused = await a.gql(keys.reader, decide, { t: open[0] });
    expect(refused.body.data?.nextBestAction ?? null).toBeNull();
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REPLICA', writer: WRITER_URL });
    expect(refused.body.errors?.[0].message).toContain(WRITER_URL);
    // The permission check comes first.
    expect((await a.gql(keys.leadership, decide, { t: open[0] })).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const evaluation = '{ nbaPolicyEvaluation { policyVersion active decisions gatePassed dr { value lower upper } } }';
    const [ea, eb] = await Promise.all([a.gql(keys.admin, evaluation), b.gql(keys.admin, evaluation)]);
    expect(ea.body.errors, a.stderr()).toBeUndefined();
    // Active or not (at this size the gate's verdict depends on the day's sample), it is the one the writer evaluated.
    expect(ea.body.data.nbaPolicyEvaluation).toMatchObject({ policyVersion: nbaVersion.version, active: nbaVersion.activated, decisions: nbaVersion.decisions, gatePassed: nbaVersion.activated });
    expect(eb.body.data).toEqual(ea.body.data);
    expect((await a.gql(keys.reader, evaluation)).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the read-only open', () => {
  it('refuses a missing file and a file older than this build, naming the migrations', async () => {
    await expect(openWarehouse(path.join(dir, 'absent.duckdb'), { readOnly: true })).rejects.toMatchObject({ code: 'BAD_CONFIG', field: 'db' });
    const old = path.join(dir, 'old.duckdb');
    const wh = await openWarehouse(old);
    await wh.run('DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)');
    await wh.close();
    await expect(openWarehouse(old, { readOnly: true })).rejects.toThrow(/older than this build \(missing migrations \d{3}_/);
  });

  it('a replica refuses the file a writer process holds, pointing at the snapshot; publishing kept the lock', async () => {
    // File locks are per process: only another process sees the writer's. The writer has published twice by now.
    await expect(startReplica(writer.path, { SHIPCAST_LINK_SECRET: 'replica-test-link-secret', SHIPCAST_MODELS_DIR: modelsDir, SHIPCAST_ENV: 'test' })).rejects.toThrow(
      /error \[BAD_CONFIG\]: db: cannot open DuckDB database .*a process is writing it, so open the snapshot it publishes/,
    );
  }, 60_000);

  it('refuses to publish over the warehouse itself and leaves no temp file behind', async () => {
    await expect(publishSnapshot(writer, writer.path)).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'out' });
    const memory = await openWarehouse(':memory:');
    await expect(publishSnapshot(memory, path.join(dir, 'memory.duckdb'))).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'db' });
    await memory.close();
    expect(fs.readdirSync(path.dirname(snapshot))).toEqual([path.basename(snapshot)]);
  });
});
