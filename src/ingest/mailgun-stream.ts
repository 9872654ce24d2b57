/**
 * Mailgun events from a `StreamSource` (a Kafka topic fed by a webhook relay). Each record is the
 * body Mailgun posts (`{"signature": …, "event-data": {…}}`; the signature block may be absent).
 * The signature is not checked again and no replay token is kept: the broker's authentication is
 * the trust boundary of this way in. Events are stored by the webhook path's own
 * `storeMailgunEvent` (idempotent by (mailgun, event id), suppressions included), one transaction
 * per batch; bad records are dead-lettered with their position. The batch is committed only after
 * both are durable.
 */
import type { Warehouse } from '../warehouse/warehouse.js';
import type { RejectedEvent } from './canonical-event.js';
import type { SubmitResult, TrackingEventStore } from './event-store.js';
import { MAILGUN_SOURCE, parseMailgunEvent, storeMailgunEvent, type MailgunEvent } from './mailgun-events.js';
import type { StreamRecord, StreamSource } from './stream-source.js';

/** Parses one record; what is not JSON or not a valid Mailgun event is rejected with its position. */
export function parseMailgunRecord(r: StreamRecord): { ok: true; event: MailgunEvent } | { ok: false; rejected: RejectedEvent } {
  let raw: unknown;
  try {
    raw = JSON.parse(r.value);
  } catch (e) {
    return { ok: false, rejected: { source: MAILGUN_SOURCE, eventId: null, field: 'body', reason: `${r.position}: body: not valid JSON (${(e as Error).message})`, payload: r.value } };
  }
  const p = parseMailgunEvent(raw);
  if (!p.ok) p.rejected.reason = `${r.position}: ${p.rejected.reason}`;
  return p;
}

/**
 * Pumps Mailgun events into `email_events` / `email_suppressions` until the source ends. Dead
 * letters go through `store` (the same `ingest_dead_letters` table and dedup as the webhooks).
 */
export async function consumeMailgunStream(src: StreamSource, warehouse: Warehouse, store: TrackingEventStore, now: () => Date = () => new Date()): Promise<SubmitResult & { records: number }> {
  const total = { accepted: 0, duplicates: 0, deadLettered: 0, records: 0 };
  try {
    for await (const batch of src.batches()) {
      const events: MailgunEvent[] = [];
      const rejected: RejectedEvent[] = [];
      for (const r of batch) {
        const p = parseMailgunRecord(r);
        p.ok ? events.push(p.event) : rejected.push(p.rejected);
      }
      const at = now();
      const accepted = events.length === 0 ? 0 : await warehouse.transaction(async (tx) => {
        let n = 0;
        for (const e of events) if (await storeMailgunEvent(tx, e, at)) n++;
        return n;
      });
      const dead = await store.submit([], rejected);
      await src.commit(batch);
      total.accepted += accepted;
      total.duplicates += events.length - accepted;
      total.deadLettered += dead.deadLettered;
      total.records += batch.length;
    }
  } finally {
    await src.close();
  }
  return total;
}
