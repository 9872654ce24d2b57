/**
 * Events/s through the Kafka path against the webhook path, in the same run on the same machine.
 * Kafka: N canonical in-transit scans are produced first (keyed by tracking number, 3 partitions)
 * to a Kafka-protocol broker on loopback (mokapi, see test/ingest/kafka-broker.ts), then the real
 * `shipcast ingest --kafka` child process drains them into a fresh DuckDB file seeded like the
 * webhook bench. Throughput is counted from the group join to the last offset commit (the join and
 * the idle exit are not ingest work), then every event is checked in DuckDB. The baseline is the
 * batched webhook scenario of ingest.bench.ts (50 events per request, 6 connections).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { mokapiBin, startBroker } from '../test/ingest/kafka-broker.js';
import { scenario as webhookScenario } from './ingest.bench.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOPIC = 'bench-tracking';
const EVENTS = Number(process.env.BENCH_KAFKA_EVENTS ?? 60_000);

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function kafkaScenario(bin: string) {
  const broker = await startBroker(bin, [{ name: TOPIC, partitions: 3 }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-bench-kafka-'));
  const db = path.join(dir, 'bench.duckdb');
  try {
    const seed = await openWarehouse(db);
    await seed.run(`INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, status, status_at)
                    SELECT 'bs' || i, 'bo' || i, 'BN-' || i, 'ups', 'ground', 'in_transit', TIMESTAMPTZ '2025-12-31 00:00:00+00' FROM range(5000) t(i)`);
    await seed.close();

    const kafka = new Kafka({ clientId: 'bench', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const tp = performance.now();
    for (let start = 0; start < EVENTS; start += 5000) {
      const messages = Array.from({ length: Math.min(5000, EVENTS - start) }, (_, j) => {
        const i = start + j;
        const e = {
          event_id: `kbench-${i}`, tracking_number: `BN-${i % 5000}`, carrier: 'ups', status: 'in_transit',
          occurred_at: new Date(Date.UTC(2026, 0, 1) + i).toISOString(), location: { city: 'Memphis', region: 'TN', country: 'US' },
        };
        return { key: e.tracking_number, value: JSON.stringify(e) };
      });
      await producer.send({ topic: TOPIC, messages });
    }
    const produceSeconds = (performance.now() - tp) / 1000;
    await producer.disconnect();

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'ingest', '--kafka', broker.brokers, '--topic', TOPIC, '--group', 'bench', '--idle-exit', '3', '--db', db], {
      cwd: root,
      env: { ...process.env, SHIPCAST_ENV: 'production', SHIPCAST_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    let joinedAt: number | undefined;
    let lastCommitAt: number | undefined;
    let cpuAtJoin = 0;
    let cpuAtLastCommit = 0;
    let commits = 0;
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      err = (err + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (line.includes('kafka group joined') && joinedAt === undefined) {
          joinedAt = performance.now();
          cpuAtJoin = cpuSeconds(child.pid!);
        } else if (line.includes('kafka batch committed')) {
          commits++;
          lastCommitAt = performance.now();
          cpuAtLastCommit = cpuSeconds(child.pid!);
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0 || joinedAt === undefined || lastCommitAt === undefined) throw new Error(`shipcast ingest --kafka exited with ${code}: ${err}`);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { records: number; accepted: number; duplicates: number };
    const wh = await openWarehouse(db);
    const stored = (await wh.one<{ n: number; d: number }>("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM tracking_events WHERE event_id LIKE 'kbench-%'"))!;
    await wh.close();
    const seconds = (lastCommitAt - joinedAt) / 1000;
    const cpu = cpuAtLastCommit - cpuAtJoin;
    return {
      events: EVENTS,
      partitions: 3,
      produceSeconds: Number(produceSeconds.toFixed(2)),
      consumeSeconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(summary.accepted / seconds),
      partitionCommits: commits,
      eventsPerPartitionCommit: Math.round(summary.accepted / commits),
      consumerCpuSeconds: Number(cpu.toFixed(2)),
      eventsPerConsumerCpuSecond: Math.round(summary.accepted / cpu),
      accepted: summary.accepted,
      duplicates: summary.duplicates,
      storedRows: stored.n,
      missing: EVENTS - stored.d,
    };
  } finally {
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default async function bench() {
  const bin = mokapiBin();
  if (!bin) throw new Error('no Kafka-protocol broker: install go-mokapi (see .ci/run) or set SHIPCAST_TEST_MOKAPI');
  const loadBefore = os.loadavg()[0];
  const kafka = await kafkaScenario(bin);
  const webhook = await webhookScenario({ eventsPerRequest: 50, concurrency: 6, seconds: 10 });
  return {
    kafka,
    webhookBatched: webhook,
    kafkaToWebhookEventsPerSecond: Number((kafka.eventsPerSecond / webhook.eventsPerSecond).toFixed(2)),
    kafkaToWebhookEventsPerCpuSecond: Number((kafka.eventsPerConsumerCpuSecond / webhook.eventsPerServerCpuSecond).toFixed(2)),
    loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0].toFixed(2)) },
    broker: 'mokapi 0.52.0 (Kafka protocol, in-memory, one broker) on loopback; not Apache Kafka',
  };
}
