import type { SqlRunner } from '../warehouse/warehouse.js';

/** What composing an email for a shipment needs to know, with nothing more personal than that. */
export interface ShipmentContext {
  shipmentId: string;
  orderId: string;
  trackingNumber: string;
  carrier: string;
  destCity: string | null;
  status: string;
  promisedAt: Date | null;
  deliveredAt: Date | null;
  customerId: string;
  email: string | null;
  firstName: string | null;
  locale: string;
  timeZone: string;
  consentTransactional: boolean;
  consentPromotional: boolean;
  currency: string;
  returnReceivedAt: Date | null;
  refundedAt: Date | null;
  refundAmount: number | null;
}

interface Row {
  shipment_id: string; order_id: string; tracking_number: string; carrier: string; dest_city: string | null; status: string;
  promised_at: Date | null; delivered_at: Date | null; customer_id: string; email: string | null; first_name: string | null;
  locale: string | null; time_zone: string | null; consent_email_transactional: boolean | null; consent_email_promotional: boolean | null;
  currency: string | null; received_at: Date | null; refunded_at: Date | null; refund_amount: number | null;
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(String(v));
}

const SELECT = `
  SELECT s.shipment_id, s.order_id, s.tracking_number, s.carrier, s.dest_city, s.status, s.promised_at, s.delivered_at,
         o.customer_id, c.email, c.first_name, c.locale, c.time_zone, c.consent_email_transactional, c.consent_email_promotional,
         o.currency, r.received_at, r.refunded_at, r.refund_amount
  FROM shipments s
  JOIN orders o USING (order_id)
  LEFT JOIN customers c ON c.customer_id = o.customer_id
  LEFT JOIN (
    SELECT order_id, received_at, refunded_at, refund_amount,
           row_number() OVER (PARTITION BY order_id ORDER BY requested_at DESC) AS rn
    FROM returns
  ) r ON r.order_id = s.order_id AND r.rn = 1`;

function fromRow(r: Row): ShipmentContext {
  return {
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    trackingNumber: r.tracking_number,
    carrier: r.carrier,
    destCity: r.dest_city,
    status: r.status,
    promisedAt: toDate(r.promised_at),
    deliveredAt: toDate(r.delivered_at),
    customerId: r.customer_id,
    email: r.email,
    firstName: r.first_name,
    locale: r.locale ?? 'en',
    timeZone: r.time_zone ?? 'UTC',
    consentTransactional: r.consent_email_transactional !== false,
    consentPromotional: r.consent_email_promotional === true,
    currency: r.currency ?? 'USD',
    returnReceivedAt: toDate(r.received_at),
    refundedAt: toDate(r.refunded_at),
    refundAmount: r.refund_amount,
  };
}

/** Loads the contexts of many shipments in one query; unknown ids are absent from the map. */
export async function loadShipmentContexts(db: SqlRunner, shipmentIds: readonly string[]): Promise<Map<string, ShipmentContext>> {
  const out = new Map<string, ShipmentContext>();
  if (shipmentIds.length === 0) return out;
  const unique = [...new Set(shipmentIds)];
  const rows = await db.all<Row>(`${SELECT} WHERE s.shipment_id IN (${unique.map((_, i) => `$${i + 1}`).join(', ')})`, unique);
  for (const r of rows) out.set(r.shipment_id, fromRow(r));
  return out;
}

/** The shipment id of a tracking number, if known. */
export async function shipmentIdForTracking(db: SqlRunner, trackingNumber: string): Promise<string | undefined> {
  const row = await db.one<{ shipment_id: string }>('SELECT shipment_id FROM shipments WHERE tracking_number = $1', [trackingNumber]);
  return row?.shipment_id;
}

/**
 * Why an address may not receive a stream right now, or undefined when it may. Suppressions (hard
 * bounce, complaint, unsubscribe) block their stream or every stream; promotional mail also needs
 * the customer's current opt-in and a recorded consent whose latest entry is a grant.
 */
export async function blockedReason(db: SqlRunner, ctx: ShipmentContext, stream: 'transactional' | 'promotional'): Promise<string | undefined> {
  if (!ctx.email) return 'no email address';
  const sup = await db.one<{ reason: string }>(
    "SELECT reason FROM email_suppressions WHERE address = $1 AND stream IN ('all', $2) ORDER BY created_at DESC LIMIT 1",
    [ctx.email.trim().toLowerCase(), stream],
  );
  if (sup) return `suppressed: ${sup.reason}`;
  if (stream === 'transactional') return ctx.consentTransactional ? undefined : 'no consent: transactional email withdrawn';
  const rec = await db.one<{ granted: boolean }>(
    "SELECT granted FROM consent_records WHERE customer_id = $1 AND channel = 'email' AND stream = 'promotional' ORDER BY recorded_at DESC LIMIT 1",
    [ctx.customerId],
  );
  if (!ctx.consentPromotional || !rec?.granted) return 'no consent: promotional email needs a recorded opt-in';
  return undefined;
}
