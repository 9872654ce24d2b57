/**
 * Kafka ingestion as a unit: a consumer for the tracking topic (into the group-commit store) and,
 * when a Mailgun topic is configured, one for Mailgun events (group `<group>.mailgun`, into
 * `email_events`). Used by `shipcast ingest --kafka` and, when SHIPCAST_KAFKA_BROKERS is set, by
 * `shipcast serve`, where the store is the webhooks' own, so Kafka events get the same effects
 * (milestones, re-prediction, subscriptions).
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { SubmitResult, TrackingEventStore } from './event-store.js';
import { createKafka, kafkaSource, type KafkaStreamSource } from './kafka-source.js';
import { MAILGUN_SOURCE } from './mailgun-events.js';
import { consumeMailgunStream } from './mailgun-stream.js';
import { consumeStream } from './stream-source.js';

export type StreamTotals = SubmitResult & { records: number };

export interface KafkaIngestOptions {
  kafka: Config['kafka'];
  log: Logger;
  warehouse: Warehouse;
  store: TrackingEventStore;
  /** Over `kafka.topic`, `kafka.groupId`, `kafka.mailgunTopic`. */
  topic?: string;
  groupId?: string;
  mailgunTopic?: string;
  /** `tracking_events.source` (default `kafka`). */
  source?: string;
  /** Ends both consumers after this long without a batch. */
  idleMs?: number;
}

export interface KafkaIngest {
  /** Resolves when both consumers ended (after `stop()` or idleness); rejects with the first failure. */
  done: Promise<{ tracking: StreamTotals; mailgun?: StreamTotals }>;
  /** Graceful stop: what was handed out is committed, then the members leave their groups. */
  stop(): void;
}

/** Starts the consumers; `kafka.brokers` must not be empty. */
export function startKafkaIngest(o: KafkaIngestOptions): KafkaIngest {
  const kafka = createKafka(o.kafka, o.log);
  const groupId = o.groupId ?? o.kafka.groupId;
  const common = { kafka, idleMs: o.idleMs, log: o.log };
  const tracking = kafkaSource({ ...common, topic: o.topic ?? o.kafka.topic, groupId, name: o.source ?? 'kafka' });
  const mailgunTopic = o.mailgunTopic ?? o.kafka.mailgunTopic;
  const mailgun = mailgunTopic === undefined ? undefined : kafkaSource({ ...common, topic: mailgunTopic, groupId: `${groupId}.mailgun`, name: MAILGUN_SOURCE });
  const sources: KafkaStreamSource[] = mailgun ? [tracking, mailgun] : [tracking];
  const stop = () => sources.forEach((s) => s.stop());
  // One failing consumer stops the other, and `done` settles only when both ended, so neither
  // writes after the caller closes the warehouse.
  const guard = <T>(p: Promise<T>) => p.catch((e: unknown) => { stop(); throw e; });
  const done = Promise.allSettled([guard(consumeStream(tracking, o.store)), mailgun ? guard(consumeMailgunStream(mailgun, o.warehouse, o.store)) : undefined]).then(([t, m]) => {
    if (t.status === 'rejected') throw t.reason;
    if (m.status === 'rejected') throw m.reason;
    return { tracking: t.value, mailgun: m.value };
  });
  return { done, stop };
}

/**
 * For the service: consumes while it runs when brokers are configured; the returned closer stops
 * the consumers gracefully. A consumer that fails is logged; the webhooks keep working.
 */
export function serveKafkaIngest(o: Omit<KafkaIngestOptions, 'idleMs'>): () => Promise<void> {
  if (o.kafka.brokers.length === 0) return async () => undefined;
  const k = startKafkaIngest(o);
  o.log.info({ topic: o.topic ?? o.kafka.topic, mailgunTopic: o.mailgunTopic ?? o.kafka.mailgunTopic, groupId: o.groupId ?? o.kafka.groupId }, 'consuming from kafka');
  const done = k.done.catch((err: unknown) => o.log.error({ err }, 'kafka ingestion stopped; events stay in the topic until it runs again'));
  return async () => {
    k.stop();
    await done;
  };
}
