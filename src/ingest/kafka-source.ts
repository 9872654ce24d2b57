/**
 * Kafka as a `StreamSource` (kafkajs): one consumer group member per source, `autoCommit: false`,
 * `eachBatch` handing each topic-partition batch to the StreamSource consumer and committing
 * `last + 1` only after the consumer made it durable. The commit and rebalance rules live in
 * kafka-handoff.ts; this file only wires kafkajs to it. See docs/SCALE.md (section 2).
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../log.js';
import { KafkaHandoff, type HandoffStats } from './kafka-handoff.js';
import type { StreamSource } from './stream-source.js';

/** How to reach the cluster (from `SHIPCAST_KAFKA_*`, see src/config.ts). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go to the process logger (kafkajs' INFO is chatty: it logs at debug). */
export function createKafka(conn: KafkaConnection, log: Logger): Kafka {
  const config: KafkaConfig = {
    clientId: conn.clientId,
    brokers: conn.brokers,
    ssl: conn.ssl,
    sasl: conn.sasl as SASLOptions | undefined,
    logLevel: logLevel.INFO,
    logCreator: () => (e: LogEntry) => {
      const { message, ...rest } = e.log;
      const level = LEVEL[e.level] ?? 'debug';
      log[level === 'info' ? 'debug' : level]({ kafka: { namespace: e.namespace, ...rest } }, message);
    },
  };
  return new Kafka(config);
}

export interface KafkaSourceOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Stored as `tracking_events.source` (part of the idempotency key). */
  name: string;
  /** Where a group without committed offsets starts (default: the beginning of the topic). */
  fromBeginning?: boolean;
  /** Partitions whose batches may wait on the consumer at once; they are merged into one write (default 4). */
  concurrency?: number;
  /** kafkajs `sessionTimeout` (default 30 s) and `heartbeatInterval` (default 3 s). */
  sessionTimeoutMs?: number;
  heartbeatMs?: number;
  /** kafkajs `maxBytesPerPartition`: the largest batch fetched per partition (default 1 MiB). */
  maxBytesPerPartition?: number;
  /**
   * kafkajs `maxWaitTimeInMs`: how long a fetch waits for data (default 1 s, not kafkajs' 5 s,
   * because leaving the group waits for the fetch in flight).
   */
  maxWaitTimeMs?: number;
  /** Ends the stream after this long without a batch (for draining a topic and exiting). */
  idleMs?: number;
  log?: Logger;
}

/** A Kafka `StreamSource`; `stop()` ends it gracefully (batches handed out are still committed). */
export interface KafkaStreamSource extends StreamSource {
  stop(): void;
  readonly stats: HandoffStats;
}

/** Consumes `topic` as member of `groupId`; connects on the first `batches()` call. */
export function kafkaSource(o: KafkaSourceOptions): KafkaStreamSource {
  const heartbeatMs = o.heartbeatMs ?? 3000;
  const handoff = new KafkaHandoff({
    // kafkajs sends a heartbeat only once `heartbeatInterval` has passed, so asking twice as often keeps the pace.
    heartbeatMs: Math.max(100, heartbeatMs / 2),
    idleMs: o.idleMs,
    onEvent: (e) => {
      if (e.kind === 'committed') o.log?.debug({ topic: e.topic, partition: e.partition, lastOffset: e.lastOffset }, 'kafka batch committed');
      else o.log?.warn({ topic: e.topic, partition: e.partition, lastOffset: e.lastOffset, reason: e.reason }, 'kafka batch not committed; it will be re-read');
    },
  });
  const consumer = o.kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: heartbeatMs,
    maxBytesPerPartition: o.maxBytesPerPartition,
    maxWaitTimeInMs: o.maxWaitTimeMs ?? 1000,
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    o.log?.info({ groupId: o.groupId, assignment: e.payload.memberAssignment }, 'kafka group joined');
    handoff.joined(e.payload.memberAssignment);
  });
  consumer.on(consumer.events.REBALANCING, () => handoff.rebalancing());
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) handoff.fail(e.payload.error);
  });
  let started: Promise<void> | undefined;
  const start = async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [o.topic], fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.concurrency ?? 4,
      eachBatch: (payload) => handoff.eachBatch(payload),
    });
  };
  return {
    name: o.name,
    stats: handoff.stats,
    async *batches() {
      started ??= start();
      await started;
      yield* handoff.batches();
    },
    commit: (batch) => handoff.commit(batch),
    stop: () => handoff.end(),
    async close() {
      await handoff.close();
      await consumer.disconnect();
    },
  };
}
