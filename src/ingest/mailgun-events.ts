/**
 * Mailgun event webhooks → `email_events`, and permanent failures, complaints and unsubscribes →
 * `email_suppressions`. The payload is `{signature: {timestamp, token, signature}, "event-data"}`.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import { fieldPath, type RejectedEvent } from './canonical-event.js';
import type { MailgunSignature } from './signatures.js';

export const MAILGUN_SOURCE = 'mailgun';

const SignatureSchema = z.object({ timestamp: z.string().min(1), token: z.string().min(1).max(200), signature: z.string().min(1) });

/** The signature block, or undefined when the request is unsigned (→ 401). */
export function mailgunSignatureOf(body: unknown): MailgunSignature | undefined {
  const r = SignatureSchema.safeParse((body as { signature?: unknown } | null)?.signature);
  return r.success ? r.data : undefined;
}

const EventDataSchema = z.object({
  id: z.string().min(1).max(200),
  event: z.enum(['accepted', 'delivered', 'failed', 'opened', 'clicked', 'unsubscribed', 'complained']),
  timestamp: z.number().positive(),
  severity: z.enum(['permanent', 'temporary']).optional(),
  reason: z.string().max(500).optional().nullable(),
  recipient: z.string().max(320).optional(),
  url: z.string().max(4000).optional(),
  'delivery-status': z.object({ code: z.union([z.number(), z.string()]).optional(), description: z.string().optional().nullable() }).passthrough().optional(),
  message: z.object({ headers: z.object({ 'message-id': z.string().optional() }).passthrough().optional() }).passthrough().optional(),
  'user-variables': z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/** An `email_events` row plus the suppression it implies. */
export interface MailgunEvent {
  eventId: string;
  event: z.infer<typeof EventDataSchema>['event'];
  severity: 'permanent' | 'temporary' | null;
  reason: string | null;
  url: string | null;
  providerMessageId: string | null;
  /** shipcast's own message id when the send tagged it as a user variable. */
  messageId: string | null;
  occurredAt: Date;
  suppression?: { address: string; stream: 'all' | 'promotional'; reason: 'hard_bounce' | 'complaint' | 'unsubscribe' };
}

export type MailgunParse = { ok: true; event: MailgunEvent } | { ok: false; rejected: RejectedEvent };

/**
 * Validates `event-data`. A failed event must say whether it is permanent or temporary, and
 * every event that leads to a suppression must name its recipient.
 */
export function parseMailgunEvent(body: unknown): MailgunParse {
  const raw = (body as Record<string, unknown> | null)?.['event-data'];
  const bad = (field: string, message: string): MailgunParse => ({
    ok: false,
    rejected: {
      source: MAILGUN_SOURCE,
      eventId: typeof (raw as { id?: unknown } | undefined)?.id === 'string' ? (raw as { id: string }).id : null,
      field, reason: `${field}: ${message}`, payload: JSON.stringify(body),
    },
  });
  const r = EventDataSchema.safeParse(raw);
  if (!r.success) return bad(fieldPath('event-data', r.error.issues[0].path), r.error.issues[0].message);
  const d = r.data;
  if (d.event === 'failed' && !d.severity) return bad('event-data.severity', 'required for failed events (permanent or temporary)');
  const kind =
    d.event === 'failed' && d.severity === 'permanent' ? ({ stream: 'all', reason: 'hard_bounce' } as const)
    : d.event === 'complained' ? ({ stream: 'all', reason: 'complaint' } as const)
    // An unsubscribe withdraws marketing consent; transactional mail (delivery updates) stays allowed.
    : d.event === 'unsubscribed' ? ({ stream: 'promotional', reason: 'unsubscribe' } as const)
    : undefined;
  const recipient = d.recipient?.trim().toLowerCase();
  if (kind && !recipient) return bad('event-data.recipient', `required for ${d.event} events`);
  const vars = d['user-variables'] ?? {};
  const ownId = vars.shipcast_message_id ?? vars.message_id;
  const status = d['delivery-status'];
  return {
    ok: true,
    event: {
      eventId: d.id,
      event: d.event,
      severity: d.event === 'failed' ? d.severity! : null,
      reason: d.reason ?? (status?.code !== undefined ? `smtp ${status.code}` : null),
      url: d.event === 'clicked' ? (d.url ?? null) : null,
      providerMessageId: d.message?.headers?.['message-id']?.replace(/^<|>$/g, '') ?? null,
      messageId: typeof ownId === 'string' ? ownId : null,
      occurredAt: new Date(d.timestamp * 1000),
      suppression: kind && recipient ? { address: recipient, ...kind } : undefined,
    },
  };
}

export type MailgunOutcome = 'accepted' | 'duplicate' | 'replayed' | 'dead_lettered';

async function storeDeadLetter(tx: SqlRunner, r: RejectedEvent, now: Date): Promise<void> {
  const sha = crypto.createHash('sha256').update(`${r.field}\u0000${r.payload}`).digest('hex');
  await tx.run(
    `INSERT INTO ingest_dead_letters (source, event_id, field, reason, payload, payload_sha256, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source, payload_sha256) DO NOTHING`,
    [r.source, r.eventId, r.field, r.reason, r.payload, sha, now],
  );
}

/** Writes one parsed Mailgun event (and its suppression) inside `tx`; false when it was already stored. */
export async function storeMailgunEvent(tx: SqlRunner, e: MailgunEvent, now: Date): Promise<boolean> {
  const messageId =
    e.messageId ??
    (e.providerMessageId
      ? ((await tx.all<{ message_id: string }>(
          'SELECT message_id FROM email_messages WHERE provider_message_id IN ($1, $2) LIMIT 1',
          [e.providerMessageId, `<${e.providerMessageId}>`],
        ))[0]?.message_id ?? null)
      : null);
  const inserted = await tx.all(
    `INSERT INTO email_events (source, event_id, message_id, provider_message_id, event, severity, reason, url, occurred_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING event_id`,
    [MAILGUN_SOURCE, e.eventId, messageId, e.providerMessageId, e.event, e.severity, e.reason, e.url, e.occurredAt, now],
  );
  if (inserted.length === 0) return false;
  if (e.suppression) {
    await tx.run(
      `INSERT INTO email_suppressions (address, stream, reason, source_event_id, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (address, stream) DO NOTHING`,
      [e.suppression.address, e.suppression.stream, e.suppression.reason, `${MAILGUN_SOURCE}:${e.eventId}`, now],
    );
  }
  return true;
}

/**
 * Records a verified Mailgun delivery in one transaction. The signature token is remembered in
 * DuckDB: a token seen before with the same event id is Mailgun retrying (a duplicate, 2xx); with
 * any other event it is a replay, and nothing is stored.
 */
export async function recordMailgunDelivery(wh: Warehouse, token: string, body: unknown, now: Date = new Date()): Promise<{ outcome: MailgunOutcome; rejected?: RejectedEvent }> {
  const parsed = parseMailgunEvent(body);
  const eventId = parsed.ok ? parsed.event.eventId : parsed.rejected.eventId;
  return wh.transaction(async (tx) => {
    const fresh = await tx.all(
      `INSERT INTO webhook_replay_tokens (source, token, event_id, seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING token`,
      [MAILGUN_SOURCE, token, eventId, now],
    );
    if (fresh.length === 0) {
      const prior = await tx.one<{ event_id: string | null }>('SELECT event_id FROM webhook_replay_tokens WHERE source = $1 AND token = $2', [MAILGUN_SOURCE, token]);
      if (eventId === null || prior?.event_id !== eventId) return { outcome: 'replayed' as const };
    }
    if (!parsed.ok) {
      await storeDeadLetter(tx, parsed.rejected, now);
      return { outcome: 'dead_lettered' as const, rejected: parsed.rejected };
    }
    return { outcome: (await storeMailgunEvent(tx, parsed.event, now)) ? ('accepted' as const) : ('duplicate' as const) };
  });
}
