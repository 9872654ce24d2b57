import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { TrackingEventStore } from '../ingest/event-store.js';
import { consumeStream, ndjsonSource } from '../ingest/stream-source.js';
import { replayDeadLetters } from '../ingest/dead-letters.js';
import { startKafkaIngest } from '../ingest/kafka-ingest.js';
import { ShipcastError, ValidationError } from '../errors.js';

interface IngestOptions {
  file?: string;
  source?: string;
  db?: string;
  kafka?: string | true;
  topic?: string;
  group?: string;
  mailgunTopic?: string;
  idleExit?: string;
}

const summary = (r: { records: number; accepted: number; duplicates: number; deadLettered: number }) =>
  ({ records: r.records, accepted: r.accepted, duplicates: r.duplicates, dead_lettered: r.deadLettered });

/**
 * `shipcast ingest --kafka`: one consumer-group member for the tracking topic and, with
 * `--mailgun-topic`, one for Mailgun events (group `<group>.mailgun`), both writing through this
 * process's warehouse. Runs until SIGINT/SIGTERM (graceful: what was handed out is committed) or
 * until `--idle-exit` seconds pass without a batch.
 */
async function ingestFromKafka(rt: CliRuntime, opts: IngestOptions): Promise<void> {
  let idleMs: number | undefined;
  if (opts.idleExit !== undefined) {
    idleMs = Number(opts.idleExit) * 1000;
    if (!Number.isFinite(idleMs) || idleMs <= 0) throw new ValidationError('idle-exit', `expected a positive number of seconds, got ${opts.idleExit}`);
  }
  await withWarehouse(rt, { db: opts.db, kafkaBrokers: typeof opts.kafka === 'string' ? opts.kafka : undefined }, async ({ config, warehouse, log }) => {
    if (config.kafka.brokers.length === 0) throw new ShipcastError('BAD_CONFIG', 'SHIPCAST_KAFKA_BROKERS: required when --kafka names no brokers', { field: 'SHIPCAST_KAFKA_BROKERS' });
    const store = new TrackingEventStore(warehouse);
    const k = startKafkaIngest({ kafka: config.kafka, log, warehouse, store, topic: opts.topic, groupId: opts.group, mailgunTopic: opts.mailgunTopic, source: opts.source, idleMs });
    const onSignal = () => {
      log.info('shutting down: committing what is in flight');
      k.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // Events whose shipment appears later are attached as the service does (every 30 s).
    const attach = setInterval(() => {
      store.attachUnmatched().catch((err: unknown) => log.error({ err }, 'attaching unmatched tracking events failed'));
    }, 30_000);
    attach.unref();
    try {
      const { tracking, mailgun } = await k.done;
      const attached = await store.attachUnmatched();
      rt.out(JSON.stringify({ ...summary(tracking), shipments_updated_by_attach: attached.length, ...(mailgun ? { mailgun: summary(mailgun) } : {}) }));
    } finally {
      clearInterval(attach);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await store.drain();
    }
  });
}

/**
 * `shipcast ingest [--file F]` loads canonical NDJSON tracking events (stdin without --file);
 * `shipcast ingest --kafka [BROKERS]` consumes them (and Mailgun events) from Kafka;
 * `shipcast replay dead-letters` re-processes dead-lettered events after a fix. Both attach
 * events of tracking numbers whose shipment now exists.
 */
export function registerIngestCommands(program: Command, rt: CliRuntime, stdin: Readable = process.stdin): void {
  program
    .command('ingest')
    .description('ingest canonical tracking events as NDJSON from --file or stdin, or from Kafka with --kafka (idempotent by source + event_id)')
    .option('--file <file>', 'NDJSON file (default: stdin)')
    .option('--source <name>', 'source label stored with the events (default: file, or kafka with --kafka)')
    .option('--db <file>', 'DuckDB file')
    .option('--kafka [brokers]', 'consume from Kafka: host:port[,…] (default SHIPCAST_KAFKA_BROKERS)')
    .option('--topic <topic>', 'with --kafka: the tracking-events topic (default SHIPCAST_KAFKA_TOPIC)')
    .option('--group <id>', 'with --kafka: the consumer group (default SHIPCAST_KAFKA_GROUP)')
    .option('--mailgun-topic <topic>', 'with --kafka: also consume Mailgun events from this topic (group <group>.mailgun)')
    .option('--idle-exit <seconds>', 'with --kafka: exit once no batch arrived for this long (default: run until SIGINT/SIGTERM)')
    .action(async (opts: IngestOptions) => {
      if (opts.kafka !== undefined) {
        if (opts.file !== undefined) throw new ValidationError('file', 'use either --file or --kafka');
        return ingestFromKafka(rt, opts);
      }
      for (const [flag, v] of [['topic', opts.topic], ['group', opts.group], ['mailgun-topic', opts.mailgunTopic], ['idle-exit', opts.idleExit]] as const) {
        if (v !== undefined) throw new ValidationError(flag, 'only with --kafka');
      }
      if (opts.file !== undefined && !fs.existsSync(opts.file)) throw new ValidationError('file', `no such file ${opts.file}`);
      const input = opts.file !== undefined ? fs.createReadStream(opts.file) : stdin;
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const store = new TrackingEventStore(warehouse);
        const r = await consumeStream(ndjsonSource(input, { name: opts.source ?? 'file', label: opts.file ?? 'stdin' }), store);
        const attached = await store.attachUnmatched();
        rt.out(JSON.stringify({ records: r.records, accepted: r.accepted, duplicates: r.duplicates, dead_lettered: r.deadLettered, shipments_updated_by_attach: attached.length }));
      });
    });
  program
    .command('replay')
    .description('re-process stored inputs')
    .command('dead-letters')
    .description('re-run dead-lettered events through their parser; stores what now parses')
    .option('--source <name>', 'only this source (webhook, aftership, easypost, shippo, mailgun, file)')
    .option('--db <file>', 'DuckDB file')
    .action(async (opts: { source?: string; db?: string }) => {
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const store = new TrackingEventStore(warehouse);
        const r = await replayDeadLetters(warehouse, store, { source: opts.source });
        await store.attachUnmatched();
        rt.out(JSON.stringify({ replayed: r.replayed, still_failing: r.stillFailing, events_accepted: r.eventsAccepted }));
      });
    });
}
