import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import type { EmailKind, EmailLocale, EmailOffer, EmailStream } from './kinds.js';

/** Queue states. `refused` and `suppressed` are terminal and keep their reason in `last_error`. */
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'suppressed' | 'refused';

export interface OutboxRow {
  messageId: string;
  idempotencyKey: string;
  shipmentId: string;
  kind: EmailKind;
  stream: EmailStream;
  locale: EmailLocale;
  toAddress: string | null;
  trigger: string;
  offer: EmailOffer | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
}

interface DbRow {
  message_id: string; idempotency_key: string; shipment_id: string; kind: string; stream: string; locale: string;
  to_address: string | null; trigger: string; offer: string | null; status: string; attempts: number; next_attempt_at: unknown; last_error: string | null;
}

const COLUMNS = 'message_id, idempotency_key, shipment_id, kind, stream, locale, to_address, trigger, offer, status, attempts, next_attempt_at, last_error';

function fromDb(r: DbRow): OutboxRow {
  return {
    messageId: r.message_id,
    idempotencyKey: r.idempotency_key,
    shipmentId: r.shipment_id,
    kind: r.kind as EmailKind,
    stream: r.stream as EmailStream,
    locale: r.locale as EmailLocale,
    toAddress: r.to_address,
    trigger: r.trigger,
    offer: r.offer ? (JSON.parse(r.offer) as EmailOffer) : null,
    status: r.status as OutboxStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at instanceof Date ? r.next_attempt_at : new Date(String(r.next_attempt_at)),
    lastError: r.last_error,
  };
}

/** Maps queue states onto the canonical `email_messages.status` vocabulary. */
function canonicalStatus(s: OutboxStatus): string {
  if (s === 'sending') return 'queued';
  if (s === 'refused') return 'suppressed';
  return s;
}

export interface NewMessage {
  messageId: string;
  idempotencyKey: string;
  shipmentId: string;
  orderId: string;
  customerId: string;
  kind: EmailKind;
  stream: EmailStream;
  locale: EmailLocale;
  toAddress: string | null;
  trigger: string;
  offer: EmailOffer | null;
  status: OutboxStatus;
  nextAttemptAt: Date;
  reason: string | null;
  provider: string;
}

/**
 * Inserts the message unless its idempotency key already exists, in one transaction with the
 * check, so concurrent or duplicate triggers create at most one row. Returns the row that holds
 * the key (the new one, or the one that was already there) and whether it was created now.
 */
export async function insertOnce(wh: Warehouse, m: NewMessage, now: Date): Promise<{ row: OutboxRow; created: boolean }> {
  return wh.transaction(async (tx) => {
    const existing = await tx.one<DbRow>(`SELECT ${COLUMNS} FROM email_outbox WHERE idempotency_key = $1`, [m.idempotencyKey]);
    if (existing) return { row: fromDb(existing), created: false };
    await tx.run(
      `INSERT INTO email_outbox (message_id, idempotency_key, shipment_id, kind, stream, locale, to_address, trigger, offer, status, attempts,
         next_attempt_at, last_error, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11::TIMESTAMPTZ, $12, $13::TIMESTAMPTZ, $13::TIMESTAMPTZ)`,
      [m.messageId, m.idempotencyKey, m.shipmentId, m.kind, m.stream, m.locale, m.toAddress, m.trigger, m.offer ? JSON.stringify(m.offer) : null,
        m.status, m.nextAttemptAt, m.reason, now],
    );
    await tx.run(
      `INSERT INTO email_messages (message_id, customer_id, order_id, shipment_id, kind, stream, locale, provider, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::TIMESTAMPTZ)`,
      [m.messageId, m.customerId, m.orderId, m.shipmentId, m.kind, m.stream, m.locale, m.provider, canonicalStatus(m.status), now],
    );
    const row = await tx.one<DbRow>(`SELECT ${COLUMNS} FROM email_outbox WHERE message_id = $1`, [m.messageId]);
    return { row: fromDb(row as DbRow), created: true };
  });
}

export async function findByKey(db: SqlRunner, key: string): Promise<OutboxRow | undefined> {
  const r = await db.one<DbRow>(`SELECT ${COLUMNS} FROM email_outbox WHERE idempotency_key = $1`, [key]);
  return r ? fromDb(r) : undefined;
}

/** The most recent message of a kind for a shipment, whatever triggered it. */
export async function latestFor(db: SqlRunner, shipmentId: string, kind: EmailKind): Promise<OutboxRow | undefined> {
  const r = await db.one<DbRow>(`SELECT ${COLUMNS} FROM email_outbox WHERE shipment_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1`, [shipmentId, kind]);
  return r ? fromDb(r) : undefined;
}

/**
 * Puts rows left in `sending` by a process that died back in the queue. Only one process can
 * open a DuckDB file for writing, so at start-up every `sending` row belongs to a dead worker.
 */
export async function requeueInterrupted(wh: Warehouse, now: Date): Promise<number> {
  const rows = await wh.transaction((tx) =>
    tx.all<{ message_id: string }>(
      "UPDATE email_outbox SET status = 'queued', updated_at = $1::TIMESTAMPTZ WHERE status = 'sending' RETURNING message_id",
      [now],
    ),
  );
  return rows.length;
}

/** Atomically moves up to `limit` due rows from `queued` to `sending` and returns them. */
export async function claimDue(wh: Warehouse, now: Date, limit: number): Promise<OutboxRow[]> {
  const rows = await wh.transaction((tx) =>
    tx.all<DbRow>(
      `UPDATE email_outbox SET status = 'sending', attempts = attempts + 1, claimed_at = $1::TIMESTAMPTZ, updated_at = $1::TIMESTAMPTZ
       WHERE message_id IN (
         SELECT message_id FROM email_outbox WHERE status = 'queued' AND next_attempt_at <= $1::TIMESTAMPTZ
         ORDER BY next_attempt_at, created_at LIMIT ${Math.max(1, Math.floor(limit))})
       RETURNING ${COLUMNS}`,
      [now],
    ),
  );
  return rows.map(fromDb).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime());
}

/** The result of one send attempt. */
export type Outcome =
  | { messageId: string; status: 'sent'; provider: string; providerMessageId: string; subject: string; modelVersion?: string; window?: { p10: Date; p50: Date; p90: Date } }
  | { messageId: string; status: 'queued'; retryAt: Date; reason: string }
  | { messageId: string; status: 'failed' | 'suppressed' | 'refused'; reason: string; subject?: string };

/** Writes a batch of outcomes to the outbox and to `email_messages` in one transaction. */
export async function recordOutcomes(wh: Warehouse, outcomes: readonly Outcome[], now: Date): Promise<void> {
  if (outcomes.length === 0) return;
  await wh.transaction(async (tx) => {
    for (const o of outcomes) {
      if (o.status === 'sent') {
        await tx.run(
          `UPDATE email_outbox SET status = 'sent', last_error = NULL, eta_p10 = $2::TIMESTAMPTZ, eta_p50 = $3::TIMESTAMPTZ, eta_p90 = $4::TIMESTAMPTZ,
             updated_at = $5::TIMESTAMPTZ WHERE message_id = $1`,
          [o.messageId, o.window?.p10 ?? null, o.window?.p50 ?? null, o.window?.p90 ?? null, now],
        );
        await tx.run(
          `UPDATE email_messages SET status = 'sent', provider = $2, provider_message_id = $3, subject = $4, model_version = $5, sent_at = $6::TIMESTAMPTZ
           WHERE message_id = $1`,
          [o.messageId, o.provider, o.providerMessageId, o.subject, o.modelVersion ?? null, now],
        );
      } else if (o.status === 'queued') {
        await tx.run(
          "UPDATE email_outbox SET status = 'queued', next_attempt_at = $2::TIMESTAMPTZ, last_error = $3, updated_at = $4::TIMESTAMPTZ WHERE message_id = $1",
          [o.messageId, o.retryAt, o.reason, now],
        );
      } else {
        await tx.run('UPDATE email_outbox SET status = $2, last_error = $3, updated_at = $4::TIMESTAMPTZ WHERE message_id = $1', [o.messageId, o.status, o.reason, now]);
        await tx.run('UPDATE email_messages SET status = $2, subject = coalesce($3, subject) WHERE message_id = $1', [o.messageId, canonicalStatus(o.status), o.subject ?? null]);
      }
    }
  });
}
