/** Email deliverability and engagement per kind and stream, and the suppression list. */
import type { SqlRunner } from '../warehouse/warehouse.js';
import { periodParams, type ReportPeriod } from './scope.js';
import { ratio, round } from './stats.js';

export interface EmailRow {
  /** null in the rows that cover every kind / stream. */
  kind: string | null;
  stream: string | null;
  /** Messages created in the period. */
  messages: number;
  /** Handed to the provider (status sent or failed); suppressed and queued ones are not. */
  sent: number;
  suppressed: number;
  /** Rates over `sent`. */
  deliveredRate: number | null;
  permanentFailureRate: number | null;
  temporaryFailureRate: number | null;
  /** Rates over delivered messages (unique per message). */
  openRate: number | null;
  clickRate: number | null;
  unsubscribeRate: number | null;
  complaintRate: number | null;
}

export interface SuppressionRow {
  reason: string;
  stream: string;
  addresses: number;
}

export interface EmailReport {
  overall: EmailRow;
  byKindStream: EmailRow[];
  suppressions: { total: number; byReason: SuppressionRow[] };
}

interface Raw {
  kind: string | null;
  stream: string | null;
  g: number;
  messages: number;
  sent: number;
  suppressed: number;
  delivered: number;
  perm: number;
  temp: number;
  opened: number;
  clicked: number;
  unsub: number;
  complained: number;
}

// Provider events carry our message_id when we set it, else only the provider's id; resolve both.
const SQL = `
WITH m AS (
  SELECT * FROM email_messages
  WHERE ($1::TIMESTAMPTZ IS NULL OR created_at >= $1::TIMESTAMPTZ) AND ($2::TIMESTAMPTZ IS NULL OR created_at < $2::TIMESTAMPTZ)
    AND created_at <= $3::TIMESTAMPTZ),
ev AS (
  SELECT message_id, event, severity FROM email_events WHERE message_id IS NOT NULL
  UNION ALL
  SELECT pm.message_id, e.event, e.severity
  FROM email_events e JOIN email_messages pm ON pm.provider_message_id = e.provider_message_id WHERE e.message_id IS NULL),
per AS (
  SELECT message_id,
    bool_or(event = 'delivered') AS delivered,
    bool_or(event = 'failed' AND severity = 'permanent') AS perm,
    bool_or(event = 'failed' AND coalesce(severity, 'temporary') <> 'permanent') AS temp,
    bool_or(event = 'opened') AS opened, bool_or(event = 'clicked') AS clicked,
    bool_or(event = 'unsubscribed') AS unsub, bool_or(event = 'complained') AS complained
  FROM ev WHERE message_id IS NOT NULL GROUP BY message_id)
SELECT m.kind, m.stream, grouping(m.kind)::INT AS g, count(*) AS messages,
  count(*) FILTER (WHERE m.status IN ('sent', 'failed')) AS sent,
  count(*) FILTER (WHERE m.status = 'suppressed') AS suppressed,
  count(*) FILTER (WHERE p.delivered) AS delivered,
  count(*) FILTER (WHERE p.perm) AS perm,
  count(*) FILTER (WHERE p.temp) AS temp,
  count(*) FILTER (WHERE p.delivered AND p.opened) AS opened,
  count(*) FILTER (WHERE p.delivered AND p.clicked) AS clicked,
  count(*) FILTER (WHERE p.delivered AND p.unsub) AS unsub,
  count(*) FILTER (WHERE p.delivered AND p.complained) AS complained
FROM m LEFT JOIN per p ON p.message_id = m.message_id
GROUP BY GROUPING SETS ((), (m.kind, m.stream))
ORDER BY m.kind NULLS FIRST, m.stream`;

function toRow(r: Raw): EmailRow {
  return {
    kind: r.kind,
    stream: r.stream,
    messages: r.messages,
    sent: r.sent,
    suppressed: r.suppressed,
    deliveredRate: round(ratio(r.delivered, r.sent)),
    permanentFailureRate: round(ratio(r.perm, r.sent)),
    temporaryFailureRate: round(ratio(r.temp, r.sent)),
    openRate: round(ratio(r.opened, r.delivered)),
    clickRate: round(ratio(r.clicked, r.delivered)),
    unsubscribeRate: round(ratio(r.unsub, r.delivered)),
    complaintRate: round(ratio(r.complained, r.delivered)),
  };
}

/** Email figures for messages created in the period; the suppression list as it stands now. */
export async function emailReport(db: SqlRunner, period: ReportPeriod): Promise<EmailReport> {
  const rows = await db.all<Raw>(SQL, periodParams(period));
  const overall = rows.find((r) => r.g === 1);
  const sup = await db.all<SuppressionRow>(
    'SELECT reason, stream, count(*) AS addresses FROM email_suppressions WHERE created_at <= $1::TIMESTAMPTZ GROUP BY ALL ORDER BY addresses DESC, reason, stream',
    [period.now],
  );
  return {
    overall: toRow(overall ?? { kind: null, stream: null, g: 1, messages: 0, sent: 0, suppressed: 0, delivered: 0, perm: 0, temp: 0, opened: 0, clicked: 0, unsub: 0, complained: 0 }),
    byKindStream: rows.filter((r) => r.g === 0).map(toRow),
    suppressions: { total: sup.reduce((a, r) => a + r.addresses, 0), byReason: sup },
  };
}
