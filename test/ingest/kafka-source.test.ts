import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackingEventStore } from '../../src/ingest/event-store.js';
import { kafkaSource } from '../../src/ingest/kafka-source.js';
import { consumeMailgunStream } from '../../src/ingest/mailgun-stream.js';
import { consumeStream } from '../../src/ingest/stream-source.js';
import { silentLogger } from '../../src/log.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { canonicalEvent } from './helpers.js';
import { mokapiBin, startBroker, type Broker } from './kafka-broker.js';

const TRACKING = 'shipcast.tracking-events';
const FAILING = 'tracking-failing';
const REBALANCE = 'tracking-rebalance';
const MAILGUN = 'shipcast.mailgun-events';
const bin = mokapiBin();
// CI installs the broker (.ci/run); a developer without it gets a skip with the reason, never a pass.
if (!bin && process.env.CI) throw new Error('SHIPCAST_TEST_MOKAPI is not set and no mokapi binary is installed');

const trackingMessage = (e: Record<string, unknown>): Message => ({ key: String(e.tracking_number), value: JSON.stringify(e) });

describe.skipIf(!bin)('kafkaSource against a Kafka-protocol broker (mokapi)', () => {
  let broker: Broker;
  let kafka: Kafka;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    broker = await startBroker(bin!, [{ name: TRACKING, partitions: 3 }, { name: FAILING, partitions: 2 }, { name: REBALANCE, partitions: 4 }, { name: MAILGUN, partitions: 1 }]);
    kafka = new Kafka({ clientId: 'shipcast-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-kafka-'));
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function produce(topic: string, messages: Message[]): Promise<void> {
    const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await p.connect();
    await p.send({ topic, messages });
    await p.disconnect();
  }

  async function freshDb(): Promise<Warehouse> {
    return openWarehouse(path.join(dir, `db-${++n}.duckdb`));
  }

  const source = (groupId: string, over: Partial<Parameters<typeof kafkaSource>[0]> = {}) =>
    kafkaSource({ kafka, topic: TRACKING, groupId, name: 'kafka', idleMs: 1000, heartbeatMs: 500, maxWaitTimeMs: 300, sessionTimeoutMs: 10_000, log: silentLogger(), ...over });

  it('stores tracking events, dead-letters bad records with their position, and a restarted group member starts after what was committed', async () => {
    const group = `g-basic-${Date.now()}`;
    const events = Array.from({ length: 120 }, (_, i) => canonicalEvent({ tracking_number: `TN-${i % 7}` }));
    await produce(TRACKING, [
      ...events.map(trackingMessage),
      { key: 'bad-1', value: 'not json {' },
      { key: 'bad-2', value: JSON.stringify(canonicalEvent({ status: 'teleported' })) },
      { key: 'tomb', value: null },
    ]);
    const wh = await freshDb();
    try {
      const store = new TrackingEventStore(wh);
      const first = await consumeStream(source(group), store);
      expect(first).toMatchObject({ records: 123, accepted: 120, duplicates: 0, deadLettered: 3 });
      expect((await wh.one<{ n: number }>("SELECT count(*) AS n FROM tracking_events WHERE source = 'kafka'"))?.n).toBe(120);
      const reasons = (await wh.all<{ reason: string }>('SELECT reason FROM ingest_dead_letters ORDER BY reason')).map((r) => r.reason);
      expect(reasons).toHaveLength(3);
      for (const r of reasons) expect(r).toMatch(new RegExp(`^${TRACKING.replace(/\./g, '\\.')}/[0-2]@\\d+: `));
      expect(reasons.some((r) => /status/.test(r))).toBe(true);

      // Everything was committed: the same group sees only what is produced afterwards.
      const later = canonicalEvent({ tracking_number: 'TN-LATE' });
      await produce(TRACKING, [trackingMessage(later)]);
      // A new group (consuming at the same time) reads the topic from the beginning.
      const [second, other] = await Promise.all([consumeStream(source(group), store), consumeStream(source(`${group}-other`), store)]);
      expect(second).toMatchObject({ records: 1, deadLettered: 0 });
      expect(other).toMatchObject({ records: 124, deadLettered: 3 });
      // Both saw the late event; whichever stored it first, the other counted a duplicate.
      expect(second.accepted + other.accepted).toBe(1);
      expect(second.duplicates + other.duplicates).toBe(121);
      expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM ingest_dead_letters'))?.n).toBe(3);
    } finally {
      await wh.close();
    }
  }, 90_000);

  it('does not commit a batch whose write failed: the next member of the group re-reads it, nothing lost or doubled', async () => {
    const group = `g-fail-${Date.now()}`;
    const events = Array.from({ length: 60 }, (_, i) => canonicalEvent({ tracking_number: `FAIL-${i % 5}` }));
    await produce(FAILING, events.map(trackingMessage));
    const wh = await freshDb();
    try {
      const store = new TrackingEventStore(wh);
      // The warehouse refuses the write of the second batch (as a full disk would).
      let calls = 0;
      const failing = Object.create(store) as TrackingEventStore;
      failing.submit = (evs, rej) => (++calls === 2 ? Promise.reject(new Error('disk full')) : store.submit(evs, rej));
      // Small fetches so the partitions arrive as several batches.
      await expect(consumeStream(source(group, { topic: FAILING, maxBytesPerPartition: 2048, concurrency: 1 }), failing)).rejects.toThrow('disk full');
      const before = (await wh.one<{ n: number }>("SELECT count(*) AS n FROM tracking_events WHERE tracking_number LIKE 'FAIL-%'"))!.n;
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(60);

      const again = await consumeStream(source(group, { topic: FAILING }), store);
      expect(again.duplicates).toBe(0); // what was committed is not re-read
      expect(before + again.accepted).toBe(60); // what was not committed is
      const rows = await wh.all<{ n: number; d: number }>("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM tracking_events WHERE tracking_number LIKE 'FAIL-%'");
      expect(rows[0]).toEqual({ n: 60, d: 60 });
    } finally {
      await wh.close();
    }
  }, 90_000);

  it('stores Mailgun events from their own topic through the webhook path, with suppressions and dead letters', async () => {
    const group = `g-mailgun-${Date.now()}`;
    const ev = (id: string, over: Record<string, unknown> = {}) => ({ 'event-data': { id, event: 'delivered', timestamp: 1767350000, recipient: 'A@Example.com', ...over } });
    const bodies = [
      ev(`mg-${group}-1`),
      ev(`mg-${group}-2`, { event: 'failed', severity: 'permanent', reason: 'bounce' }),
      ev(`mg-${group}-2`, { event: 'failed', severity: 'permanent', reason: 'bounce' }), // redelivered
      ev(`mg-${group}-3`, { event: 'failed' }), // no severity: dead letter
    ];
    await produce(MAILGUN, [...bodies.map((b) => ({ value: JSON.stringify(b) })), { value: '{"truncated' }]);
    const wh = await freshDb();
    try {
      const store = new TrackingEventStore(wh);
      const r = await consumeMailgunStream(source(group, { topic: MAILGUN, name: 'mailgun' }), wh, store);
      expect(r).toEqual({ records: 5, accepted: 2, duplicates: 1, deadLettered: 2 });
      expect(await wh.all('SELECT event_id, event, severity FROM email_events ORDER BY event_id')).toEqual([
        { event_id: `mg-${group}-1`, event: 'delivered', severity: null },
        { event_id: `mg-${group}-2`, event: 'failed', severity: 'permanent' },
      ]);
      expect(await wh.all('SELECT address, stream, reason FROM email_suppressions')).toEqual([{ address: 'a@example.com', stream: 'all', reason: 'hard_bounce' }]);
      const dead = await wh.all<{ source: string; field: string; reason: string }>('SELECT source, field, reason FROM ingest_dead_letters ORDER BY reason');
      expect(dead.map((d) => `${d.source} ${d.field}`).sort()).toEqual(['mailgun body', 'mailgun event-data.severity']);
      for (const d of dead) expect(d.reason).toMatch(/^shipcast\.mailgun-events\/0@\d+: /);
    } finally {
      await wh.close();
    }
  }, 90_000);

  it('survives a rebalance: the old member does not commit the revoked in-flight batch, the group stores every event once', async () => {
    const group = `g-rebalance-${Date.now()}`;
    const events = Array.from({ length: 120 }, (_, i) => canonicalEvent({ tracking_number: `RB-${i % 16}` }));
    await produce(REBALANCE, events.map(trackingMessage));
    const wh = await freshDb();
    try {
      const store = new TrackingEventStore(wh);
      const small = { topic: REBALANCE, maxBytesPerPartition: 2048, concurrency: 1, idleMs: 2000 };
      const a = source(group, small);
      const b = source(group, small);
      // The first member writes slowly until the second one has its first batch, so a batch of the
      // first is in flight when the group rebalances.
      const slow = Object.create(store) as TrackingEventStore;
      slow.submit = async (evs, rej) => {
        if (b.stats.delivered === 0) await new Promise((r) => setTimeout(r, 700));
        return store.submit(evs, rej);
      };
      const runA = consumeStream(a, slow);
      while (a.stats.committed === 0) await new Promise((r) => setTimeout(r, 50));
      const [ra, rb] = await Promise.all([runA, consumeStream(b, store)]);

      expect(a.stats.abandoned).toBeGreaterThan(0); // the rebalance caught a batch of A's in flight
      expect(a.stats.committed + a.stats.abandoned).toBe(a.stats.delivered); // and that batch was not committed
      expect(b.stats.committed).toBeGreaterThan(0); // and B took over partitions
      expect(ra.accepted + rb.accepted).toBe(120);
      const rows = await wh.one<{ n: number; d: number }>("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM tracking_events WHERE tracking_number LIKE 'RB-%'");
      expect(rows).toEqual({ n: 120, d: 120 });
      // Every partition's offsets ended up committed: the group has nothing left to read.
      const after = await consumeStream(source(group, { topic: REBALANCE }), store);
      expect(after.records).toBe(0);
    } finally {
      await wh.close();
    }
  }, 90_000);
});
