import type { SqlRunner } from '../warehouse/warehouse.js';
import { ValidationError } from '../errors.js';
import { sqlPlaceholders } from '../warehouse/sql.js';

/** A stored message with its queue state, for the API. */
export interface EmailMessageRecord {
  id: string;
  kind: string;
  stream: string;
  status: string;
  reason: string | null;
  locale: string | null;
  subject: string | null;
  provider: string | null;
  providerMessageId: string | null;
  modelVersion: string | null;
  shipmentId: string | null;
  trackingNumber: string | null;
  trigger: string | null;
  attempts: number;
  createdAt: Date;
  sentAt: Date | null;
}

export interface EmailEventRecord {
  messageId: string;
  source: string;
  eventId: string;
  event: string;
  severity: string | null;
  reason: string | null;
  url: string | null;
  occurredAt: Date;
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

const SELECT = `
  SELECT m.message_id, m.kind, m.stream, coalesce(o.status, m.status) AS status, o.last_error, m.locale, m.subject, m.provider,
         m.provider_message_id, m.model_version, m.shipment_id, s.tracking_number, o.trigger, coalesce(o.attempts, 0) AS attempts,
         m.created_at, m.sent_at
  FROM email_messages m
  LEFT JOIN email_outbox o USING (message_id)
  LEFT JOIN shipments s ON s.shipment_id = m.shipment_id`;

function fromRow(r: Record<string, unknown>): EmailMessageRecord {
  return {
    id: String(r.message_id),
    kind: String(r.kind),
    stream: String(r.stream),
    status: String(r.status),
    reason: (r.last_error as string | null) ?? null,
    locale: (r.locale as string | null) ?? null,
    subject: (r.subject as string | null) ?? null,
    provider: (r.provider as string | null) ?? null,
    providerMessageId: (r.provider_message_id as string | null) ?? null,
    modelVersion: (r.model_version as string | null) ?? null,
    shipmentId: (r.shipment_id as string | null) ?? null,
    trackingNumber: (r.tracking_number as string | null) ?? null,
    trigger: (r.trigger as string | null) ?? null,
    attempts: Number(r.attempts),
    createdAt: toDate(r.created_at),
    sentAt: r.sent_at === null || r.sent_at === undefined ? null : toDate(r.sent_at),
  };
}

export async function getEmailMessage(db: SqlRunner, id: string): Promise<EmailMessageRecord | undefined> {
  const r = await db.one<Record<string, unknown>>(`${SELECT} WHERE m.message_id = $1`, [id]);
  return r ? fromRow(r) : undefined;
}

export interface MessagePageRequest {
  first?: number;
  /** Opaque cursor from a previous page. */
  after?: string | null;
  trackingNumber?: string | null;
  kind?: string | null;
  status?: string | null;
}

export interface MessagePage {
  nodes: EmailMessageRecord[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number;
}

const encodeCursor = (r: EmailMessageRecord) => Buffer.from(`${r.createdAt.toISOString()}|${r.id}`, 'utf8').toString('base64url');
function decodeCursor(c: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt))) throw new ValidationError('after', 'invalid cursor');
  return { createdAt, id };
}

/** Newest first, keyset-paginated on (created_at, message_id). */
export async function listEmailMessages(db: SqlRunner, req: MessagePageRequest): Promise<MessagePage> {
  const first = req.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 200) throw new ValidationError('first', 'must be an integer between 1 and 200');
  const where: string[] = [];
  const params: (string | null)[] = [];
  const add = (sql: string, v: string) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (req.trackingNumber) add('s.tracking_number = ?', req.trackingNumber);
  if (req.kind) add('m.kind = ?', req.kind.toLowerCase());
  if (req.status) add('coalesce(o.status, m.status) = ?', req.status.toLowerCase());
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.one<{ n: number }>(`SELECT count(*) AS n FROM (${SELECT} ${filter})`, params);
  const pageWhere = [...where];
  const pageParams = [...params];
  if (req.after) {
    const c = decodeCursor(req.after);
    pageParams.push(c.createdAt, c.id);
    pageWhere.push(`(m.created_at < $${pageParams.length - 1}::TIMESTAMPTZ OR (m.created_at = $${pageParams.length - 1}::TIMESTAMPTZ AND m.message_id < $${pageParams.length}))`);
  }
  const rows = await db.all<Record<string, unknown>>(
    `${SELECT} ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''} ORDER BY m.created_at DESC, m.message_id DESC LIMIT ${first + 1}`,
    pageParams,
  );
  const nodes = rows.slice(0, first).map(fromRow);
  return { nodes, cursors: nodes.map(encodeCursor), hasNextPage: rows.length > first, totalCount: Number(total?.n ?? 0) };
}

/** Provider and link events of many messages in one query, oldest first per message. */
export async function eventsForMessages(db: SqlRunner, ids: readonly string[]): Promise<Map<string, EmailEventRecord[]>> {
  const out = new Map<string, EmailEventRecord[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await db.all<Record<string, unknown>>(
    `SELECT message_id, source, event_id, event, severity, reason, url, occurred_at FROM email_events
     WHERE message_id IN (${sqlPlaceholders(ids.length)}) ORDER BY occurred_at`,
    ids,
  );
  for (const r of rows) {
    out.get(String(r.message_id))?.push({
      messageId: String(r.message_id), source: String(r.source), eventId: String(r.event_id), event: String(r.event),
      severity: (r.severity as string | null) ?? null, reason: (r.reason as string | null) ?? null, url: (r.url as string | null) ?? null,
      occurredAt: toDate(r.occurred_at),
    });
  }
  return out;
}
