/**
 * The tables `shipcast export --lake` writes, and the event date each event-like table is
 * partitioned by. This fixed list is the only source of identifiers in the export's SQL: user
 * input selects from it and is never spliced into a statement.
 */

/** Name of the Hive partition column (a DATE, `event_date=YYYY-MM-DD`). */
export const PARTITION_COLUMN = 'event_date';

/** How an event-like table's rows get their `event_date`. */
export interface EventDate {
  /** What the date is, for docs and the summary (e.g. `occurred_at (UTC)`). */
  source: string;
  /** SQL over the table aliased `t` (and `parent`, when `join` is set) giving a DATE or NULL. */
  sql: string;
  /** A LEFT JOIN (aliased `parent`) to a table keyed one-to-one, for child rows dated by their parent. */
  join?: string;
}

export interface LakeTable {
  name: string;
  /** Partitioned by event date when set; small reference tables are written unpartitioned. */
  eventDate?: EventDate;
}

/** The UTC calendar date of a TIMESTAMPTZ expression, independent of the session time zone. */
function utcDate(expr: string): string {
  return `CAST(timezone('UTC', ${expr}) AS DATE)`;
}

function byTimestamp(column: string): EventDate {
  return { source: `${column} (UTC)`, sql: utcDate(`t.${column}`) };
}

/** Canonical tables (docs/DATA_CONTRACT.md) in load order, then the reference tables. */
export const LAKE_TABLES: readonly LakeTable[] = [
  { name: 'customers', eventDate: byTimestamp('created_at') },
  { name: 'consent_records', eventDate: byTimestamp('recorded_at') },
  { name: 'orders', eventDate: byTimestamp('purchased_at') },
  // Items have no date of their own: they live in their order's partition, so a day's orders and items match.
  {
    name: 'order_items',
    eventDate: { source: 'orders.purchased_at of the item\'s order (UTC)', sql: utcDate('parent.purchased_at'), join: 'orders parent ON parent.order_id = t.order_id' },
  },
  // Olist shipments carry no label time, only the hand-off to the carrier.
  {
    name: 'shipments',
    eventDate: { source: 'label_created_at, else shipped_at (UTC)', sql: utcDate('coalesce(t.label_created_at, t.shipped_at)') },
  },
  { name: 'tracking_events', eventDate: byTimestamp('occurred_at') },
  { name: 'freight_invoices', eventDate: { source: 'invoice_date', sql: 't.invoice_date' } },
  {
    name: 'freight_invoice_charges',
    eventDate: { source: 'freight_invoices.invoice_date of the charge\'s invoice', sql: 'parent.invoice_date', join: 'freight_invoices parent ON parent.invoice_id = t.invoice_id' },
  },
  { name: 'returns', eventDate: byTimestamp('requested_at') },
  { name: 'email_messages', eventDate: byTimestamp('created_at') },
  { name: 'email_events', eventDate: byTimestamp('occurred_at') },
  { name: 'csat_responses', eventDate: { source: 'responded_at, else survey_sent_at (UTC)', sql: utcDate('coalesce(t.responded_at, t.survey_sent_at)') } },
  { name: 'support_contacts', eventDate: byTimestamp('created_at') },
  { name: 'nba_decisions', eventDate: byTimestamp('decided_at') },
  { name: 'service_alerts', eventDate: byTimestamp('announced_at') },
  { name: 'email_suppressions' },
  { name: 'tracking_statuses' },
  { name: 'delivery_calendar' },
  { name: 'postal_geo' },
  { name: 'sellers' },
  { name: 'products' },
  { name: 'product_categories' },
];

export const LAKE_TABLE_NAMES: readonly string[] = LAKE_TABLES.map((t) => t.name);

/** The table's definition, or undefined for a name not on the list. */
export function lakeTable(name: string): LakeTable | undefined {
  return LAKE_TABLES.find((t) => t.name === name);
}
