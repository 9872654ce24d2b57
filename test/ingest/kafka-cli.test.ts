import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { canonicalEvent } from './helpers.js';
import { mokapiBin, startBroker, type Broker } from './kafka-broker.js';

const root = path.resolve(import.meta.dirname, '../..');
const TRACKING = 'cli-tracking';
const MAILGUN = 'cli-mailgun';
const SERVE = 'serve-tracking';
const bin = mokapiBin();
if (!bin && process.env.CI) throw new Error('SHIPCAST_TEST_MOKAPI is not set and no mokapi binary is installed');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr has a line matching `re`. */
  waitFor(re: RegExp): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `shipcast ingest --kafka …` (or `shipcast serve …`) as a real child process (node + tsx, so signals reach it directly). */
function ingest(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(args[0] === 'serve' ? args : ['ingest', ...args])], {
    cwd: root,
    env: { ...process.env, SHIPCAST_ENV: 'test', SHIPCAST_LOG_LEVEL: 'debug', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) if (w.re.test(err)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(err)) return resolve();
        waiters.push({ re, resolve });
        void exit.then(() => reject(new Error(`ingest exited before ${re}: ${err.slice(-2000)}`)));
      }),
  };
}

describe.skipIf(!bin)('shipcast ingest --kafka (real process, Kafka-protocol broker)', () => {
  let broker: Broker;
  let kafka: Kafka;
  let producer: Producer;
  let dir: string;

  beforeAll(async () => {
    broker = await startBroker(bin!, [{ name: TRACKING, partitions: 3 }, { name: MAILGUN, partitions: 1 }, { name: SERVE, partitions: 2 }]);
    kafka = new Kafka({ clientId: 'shipcast-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-kafka-cli-'));
  }, 60_000);
  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and stores nothing twice when the consumer is SIGKILLed mid-stream and restarted; stops cleanly on SIGTERM', async () => {
    const db = path.join(dir, 'kafka.duckdb');
    const seed = await openWarehouse(db);
    await seed.run("INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level) VALUES ('s-k1', 'o-k1', 'K-1', 'ups', 'ground')");
    await seed.close();
    const args = ['--kafka', broker.brokers, '--topic', TRACKING, '--mailgun-topic', MAILGUN, '--group', 'cli', '--db', db];
    const ids: string[] = [];
    let produced = 0;
    const produceRound = async (n: number) => {
      const events = Array.from({ length: n }, (_, i) => canonicalEvent({ tracking_number: `K-${(produced + i) % 9}`, occurred_at: new Date(Date.UTC(2026, 0, 2, 0, produced + i)).toISOString() }));
      produced += n;
      ids.push(...events.map((e) => e.event_id as string));
      await producer.send({ topic: TRACKING, messages: events.map((e) => ({ key: String(e.tracking_number), value: JSON.stringify(e) })) });
    };
    await producer.send({
      topic: MAILGUN,
      messages: [
        { value: JSON.stringify({ 'event-data': { id: 'mg-cli-1', event: 'complained', timestamp: 1767350000, recipient: 'b@example.com' } }) },
        { value: JSON.stringify({ 'event-data': { id: 'mg-cli-2', event: 'opened', timestamp: 1767350001 } }) },
      ],
    });

    // The producer keeps writing while the first consumer runs; it is killed after its first commit.
    await produceRound(40);
    const first = ingest(args);
    await first.waitFor(/kafka group joined/);
    const producing = (async () => {
      for (let r = 0; r < 8; r++) {
        await produceRound(40);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    await first.waitFor(/"topic":"cli-tracking"[^\n]*kafka batch committed[\s\S]*"topic":"cli-tracking"[^\n]*kafka batch committed/);
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    await producing;

    // Restarted on the same file and group, it drains the topic and exits.
    const second = ingest([...args, '--idle-exit', '2']);
    expect((await second.exit).code, second.stderr().slice(-2000)).toBe(0);
    const summary = JSON.parse(second.stdout().trim().split('\n').at(-1)!) as { records: number; accepted: number; duplicates: number; mailgun: { accepted: number } };
    // The first run's commits held: the second did not start from the beginning.
    expect(summary.records).toBeLessThan(produced);
    expect(summary.records).toBe(summary.accepted + summary.duplicates);

    // A third run that gets SIGTERM while idle in the group leaves cleanly with nothing new.
    const third = ingest(args);
    await third.waitFor(/kafka group joined[\s\S]*kafka group joined/); // both topics' members joined
    third.child.kill('SIGTERM');
    expect((await third.exit).code, third.stderr().slice(-2000)).toBe(0);
    expect(JSON.parse(third.stdout().trim().split('\n').at(-1)!)).toMatchObject({ records: 0, accepted: 0, mailgun: { records: 0 } });

    const wh = await openWarehouse(db);
    try {
      const stored = await wh.all<{ event_id: string }>("SELECT event_id FROM tracking_events WHERE source = 'kafka'");
      expect(stored.length).toBe(produced); // nothing duplicated…
      expect(new Set(stored.map((r) => r.event_id))).toEqual(new Set(ids)); // …nothing lost
      expect(await wh.one('SELECT status, status_at FROM shipments')).toMatchObject({ status: 'in_transit' });
      expect((await wh.all('SELECT event_id FROM email_events ORDER BY event_id')).map((r) => (r as { event_id: string }).event_id)).toEqual(['mg-cli-1', 'mg-cli-2']);
      expect(await wh.all('SELECT address, reason FROM email_suppressions')).toEqual([{ address: 'b@example.com', reason: 'complaint' }]);
    } finally {
      await wh.close();
    }
  }, 120_000);

  it('shipcast serve consumes the topic itself when SHIPCAST_KAFKA_BROKERS is set, through the webhooks\' store and its effects', async () => {
    const db = path.join(dir, 'serve.duckdb');
    const seed = await openWarehouse(db);
    await seed.run("INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, status) VALUES ('s-srv', 'o-srv', 'SRV-1', 'ups', 'ground', 'info_received')");
    await seed.close();
    const e = canonicalEvent({ tracking_number: 'SRV-1', status: 'out_for_delivery', occurred_at: '2026-03-01T08:00:00Z' });
    await producer.send({ topic: SERVE, messages: [{ key: 'SRV-1', value: JSON.stringify(e) }] });
    const serve = ingest(['serve', '--db', db, '--port', '0'], {
      SHIPCAST_KAFKA_BROKERS: broker.brokers, SHIPCAST_KAFKA_TOPIC: SERVE, SHIPCAST_KAFKA_GROUP: 'serve', SHIPCAST_MODELS_DIR: path.join(dir, 'models'),
    });
    try {
      await serve.waitFor(/"topic":"serve-tracking"[^\n]*kafka batch committed/);
      const url = /shipcast listening on (http:\/\/\S+)/.exec(serve.stdout())![1];
      const metrics = await (await fetch(`${url}/metrics`)).text();
      // The service's own store committed it (its metrics are wired to the effects).
      expect(Number(/^shipcast_ingest_commit_batch_events_sum (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect((await serve.exit).code, serve.stderr().slice(-2000)).toBe(0);
    const wh = await openWarehouse(db);
    try {
      expect(await wh.one("SELECT status FROM shipments WHERE shipment_id = 's-srv'")).toEqual({ status: 'out_for_delivery' });
      expect(await wh.one('SELECT source, event_id FROM tracking_events')).toEqual({ source: 'kafka', event_id: e.event_id });
    } finally {
      await wh.close();
    }
  }, 60_000);
});
