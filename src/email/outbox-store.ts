import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import type { NbaAction } from '../domain/nba.js';
import type { EmailKind, EmailLocale, EmailOffer, EmailStream } from './kinds.js';
import { sqlPlaceholders } from '../warehouse/sql.js';

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
  /** The next-best action the message carries (delay emails with a decision), else null. */
  nbaAction: NbaAction | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
}

interface DbRow {
  message_id: string; idempotency_key: string; shipment_id: string; kind: string; stream: string; locale: string;
  to_address: string | null; trigger: string; offer: string | null; nba_action: string | null; status: string; attempts: number; next_attempt_at: unknown; last_error: string | null;
}

const COLUMNS = 'message_id, idempotency_key, shipment_id, kind, stream, locale, to_address, trigger, offer, nba_action, status, attempts, next_attempt_at, last_error';

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
    nbaAction: (r.nba_action ?? null) as NbaAction | null,
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

/** A message to enqueue: the queue row's fields before any attempt, plus what `email_messages` records. */
export interface NewMessage extends Omit<OutboxRow, 'attempts' | 'lastError'> {
  orderId: string;
  customerId: string;
  reason: string | null;
  provider: string;
  /** The next-best-action decision behind a delay email: its id, the action chosen, and why the email does not carry it (null when it does). */
  nba?: { decisionId: string; chosen: NbaAction; fallback: string | null } | null;
}


/** Rows per multi-row statement: keeps parameter lists well inside DuckDB's comfort zone. */
const CHUNK = 200;

/**
 * Inserts the messages whose idempotency keys do not exist yet, in one transaction with the
 * check, so duplicate or concurrent triggers create at most one row per key. Returns, per key,
 * the row holding it (new or earlier) and whether it was created by this call.
 */
export async function insertMany(wh: Warehouse, messages: readonly NewMessage[], now: Date): Promise<Map<string, { row: OutboxRow; created: boolean }>> {
  // The first request of a key wins, as the caller's "created" accounting expects.
  const firstByKey = new Map<string, NewMessage>();
  for (const m of messages) if (!firstByKey.has(m.idempotencyKey)) firstByKey.set(m.idempotencyKey, m);
  const unique = [...firstByKey.values()];
  return wh.transaction(async (tx) => {
    const out = new Map<string, { row: OutboxRow; created: boolean }>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const keys = unique.slice(i, i + CHUNK).map((m) => m.idempotencyKey);
      const rows = await tx.all<DbRow>(`SELECT ${COLUMNS} FROM email_outbox WHERE idempotency_key IN (${sqlPlaceholders(keys.length, 1)})`, keys);
      for (const r of rows) out.set(r.idempotency_key, { row: fromDb(r), created: false });
    }
    const fresh = unique.filter((m) => !out.has(m.idempotencyKey));
    for (let i = 0; i < fresh.length; i += CHUNK) {
      const chunk = fresh.slice(i, i + CHUNK);
      const outboxParams: (string | number | Date | null)[] = [];
      const outboxValues = chunk.map((m) => {
        const base = outboxParams.length;
        outboxParams.push(m.messageId, m.idempotencyKey, m.shipmentId, m.kind, m.stream, m.locale, m.toAddress, m.trigger,
          m.offer ? JSON.stringify(m.offer) : null, m.status, m.nextAttemptAt, m.reason, now, m.nbaAction);
        const p = (k: number) => `$${base + k}`;
        return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, 0, ${p(11)}::TIMESTAMPTZ, ${p(12)}, ${p(13)}::TIMESTAMPTZ, ${p(13)}::TIMESTAMPTZ, ${p(14)})`;
      });
      await tx.run(
        `INSERT INTO email_outbox (message_id, idempotency_key, shipment_id, kind, stream, locale, to_address, trigger, offer, status, attempts,
           next_attempt_at, last_error, created_at, updated_at, nba_action) VALUES ${outboxValues.join(', ')}`,
        outboxParams,
      );
      const msgParams: (string | Date | null)[] = [];
      const msgValues = chunk.map((m) => {
        const base = msgParams.length;
        msgParams.push(m.messageId, m.customerId, m.orderId, m.shipmentId, m.kind, m.stream, m.locale, m.provider, canonicalStatus(m.status), now,
          m.nba?.decisionId ?? null, m.nba?.chosen ?? null, m.nba?.fallback ?? null);
        const p = (k: number) => `$${base + k}`;
        return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}::TIMESTAMPTZ, ${p(11)}, ${p(12)}, ${p(13)})`;
      });
      await tx.run(
        `INSERT INTO email_messages (message_id, customer_id, order_id, shipment_id, kind, stream, locale, provider, status, created_at,
           nba_decision_id, nba_action, nba_fallback) VALUES ${msgValues.join(', ')}`,
        msgParams,
      );
      for (const m of chunk) {
        out.set(m.idempotencyKey, {
          created: true,
          row: {
            messageId: m.messageId, idempotencyKey: m.idempotencyKey, shipmentId: m.shipmentId, kind: m.kind, stream: m.stream, locale: m.locale,
            toAddress: m.toAddress, trigger: m.trigger, offer: m.offer, nbaAction: m.nbaAction, status: m.status, attempts: 0, nextAttemptAt: m.nextAttemptAt, lastError: m.reason,
          },
        });
      }
    }
    return out;
  });
}

/** The idempotency keys among `keys` that already hold a message. */
export async function existingKeys(db: SqlRunner, keys: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const rows = await db.all<{ idempotency_key: string }>(`SELECT idempotency_key FROM email_outbox WHERE idempotency_key IN (${sqlPlaceholders(chunk.length)})`, chunk);
    for (const r of rows) out.push(r.idempotency_key);
  }
  return out;
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
  | {
    messageId: string; status: 'sent'; provider: string; providerMessageId: string; subject: string; modelVersion?: string; window?: { p10: Date; p50: Date; p90: Date };
    /** Set when a promotional action was dropped at send time: the message went out as the transactional delay notice. */
    fallback?: string;
  }
  | { messageId: string; status: 'queued'; retryAt: Date; reason: string }
  | { messageId: string; status: 'failed' | 'suppressed' | 'refused'; reason: string; subject?: string };

/** Writes a batch of outcomes to the outbox and to `email_messages` in one transaction. */
export async function recordOutcomes(wh: Warehouse, outcomes: readonly Outcome[], now: Date): Promise<void> {
  if (outcomes.length === 0) return;
  const sent = outcomes.filter((o): o is Extract<Outcome, { status: 'sent' }> => o.status === 'sent');
  await wh.transaction(async (tx) => {
    // Sent rows are the bulk: one UPDATE … FROM (VALUES …) per table and chunk.
    for (let i = 0; i < sent.length; i += CHUNK) {
      const chunk = sent.slice(i, i + CHUNK);
      const params: (string | Date | null)[] = [now];
      const values = chunk.map((o) => {
        const b = params.length;
        params.push(o.messageId, o.window?.p10 ?? null, o.window?.p50 ?? null, o.window?.p90 ?? null, o.provider, o.providerMessageId, o.subject, o.modelVersion ?? null);
        return `(${sqlPlaceholders(8, b + 1)})`;
      });
      const v = `(VALUES ${values.join(', ')}) v(id, p10, p50, p90, provider, pmid, subject, model)`;
      await tx.run(
        `UPDATE email_outbox SET status = 'sent', last_error = NULL, eta_p10 = v.p10::TIMESTAMPTZ, eta_p50 = v.p50::TIMESTAMPTZ, eta_p90 = v.p90::TIMESTAMPTZ,
           updated_at = $1::TIMESTAMPTZ FROM ${v} WHERE email_outbox.message_id = v.id`,
        params,
      );
      await tx.run(
        `UPDATE email_messages SET status = 'sent', provider = v.provider, provider_message_id = v.pmid, subject = v.subject, model_version = v.model,
           sent_at = $1::TIMESTAMPTZ FROM ${v} WHERE email_messages.message_id = v.id`,
        params,
      );
    }
    for (const o of sent) {
      if (!o.fallback) continue;
      await tx.run("UPDATE email_outbox SET stream = 'transactional', offer = NULL, nba_action = 'none' WHERE message_id = $1", [o.messageId]);
      await tx.run("UPDATE email_messages SET stream = 'transactional', nba_fallback = $2 WHERE message_id = $1", [o.messageId, o.fallback]);
    }
    for (const o of outcomes) {
      if (o.status === 'queued') {
        await tx.run(
          "UPDATE email_outbox SET status = 'queued', next_attempt_at = $2::TIMESTAMPTZ, last_error = $3, updated_at = $4::TIMESTAMPTZ WHERE message_id = $1",
          [o.messageId, o.retryAt, o.reason, now],
        );
      } else if (o.status !== 'sent') {
        await tx.run('UPDATE email_outbox SET status = $2, last_error = $3, updated_at = $4::TIMESTAMPTZ WHERE message_id = $1', [o.messageId, o.status, o.reason, now]);
        await tx.run('UPDATE email_messages SET status = $2, subject = coalesce($3, subject) WHERE message_id = $1', [o.messageId, canonicalStatus(o.status), o.subject ?? null]);
      }
    }
  });
}
