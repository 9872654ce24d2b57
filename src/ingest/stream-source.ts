/**
 * The scale-out way in. A `StreamSource` yields batches of raw canonical events and is told to
 * commit a batch (offsets, file position) only after the store has made it durable, so a crash
 * re-delivers rather than loses. `shipcast ingest` uses the NDJSON implementation; a Kafka
 * consumer (kafkajs, one consumer group, `eachBatch`) implements the same interface — see
 * docs/INGESTION.md.
 */
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { parseCanonicalEvent, type RejectedEvent, type TrackingEventInput } from './canonical-event.js';
import type { SubmitResult, TrackingEventStore } from './event-store.js';

/** One raw message and where it came from (`file:line`, `topic/partition@offset`). */
export interface StreamRecord {
  value: string;
  position: string;
}

export interface StreamSource {
  /** Stored as `tracking_events.source`. */
  readonly name: string;
  /** Batches in delivery order; ends when the source is exhausted or closed. */
  batches(): AsyncIterable<StreamRecord[]>;
  /** Called once the batch is durable (commit offsets here). */
  commit(batch: readonly StreamRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Reads newline-delimited JSON from a stream; blank lines are skipped. */
export function ndjsonSource(input: Readable, opts: { name?: string; label?: string; batchSize?: number } = {}): StreamSource {
  const batchSize = opts.batchSize ?? 1000;
  const label = opts.label ?? 'stdin';
  let rl: readline.Interface | undefined;
  return {
    name: opts.name ?? 'file',
    async *batches() {
      rl = readline.createInterface({ input, crlfDelay: Infinity });
      let line = 0;
      let batch: StreamRecord[] = [];
      for await (const text of rl) {
        line++;
        if (text.trim() === '') continue;
        batch.push({ value: text, position: `${label}:${line}` });
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    // A file has no offsets to commit: re-running the command is idempotent by event_id.
    commit: async () => undefined,
    async close() {
      rl?.close();
    },
  };
}

/** Parses one record; a record that is not JSON or not a valid event is rejected with its position. */
export function parseRecord(r: StreamRecord, source: string): { ok: true; event: TrackingEventInput } | { ok: false; rejected: RejectedEvent } {
  let raw: unknown;
  try {
    raw = JSON.parse(r.value);
  } catch (e) {
    return { ok: false, rejected: { source, eventId: null, field: 'body', reason: `${r.position}: body: not valid JSON (${(e as Error).message})`, payload: r.value } };
  }
  const p = parseCanonicalEvent(raw, source);
  if (!p.ok) p.rejected.reason = `${r.position}: ${p.rejected.reason}`;
  return p;
}

/** Pumps a source into the store until it ends; each batch is committed only after it is durable. */
export async function consumeStream(src: StreamSource, store: TrackingEventStore): Promise<SubmitResult & { records: number }> {
  const total = { accepted: 0, duplicates: 0, deadLettered: 0, records: 0 };
  try {
    for await (const batch of src.batches()) {
      const events: TrackingEventInput[] = [];
      const rejected: RejectedEvent[] = [];
      for (const r of batch) {
        const p = parseRecord(r, src.name);
        p.ok ? events.push(p.event) : rejected.push(p.rejected);
      }
      const res = await store.submit(events, rejected);
      await src.commit(batch);
      total.accepted += res.accepted;
      total.duplicates += res.duplicates;
      total.deadLettered += res.deadLettered;
      total.records += batch.length;
    }
  } finally {
    await src.close();
  }
  return total;
}
