import type { SqlRunner } from '../warehouse/warehouse.js';
import { sqlPlaceholders } from '../warehouse/sql.js';

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
  /** What the customer paid for shipping this order (the amount a shipping refund returns). */
  shippingCharged: number | null;
  returnReceivedAt: Date | null;
  refundedAt: Date | null;
  refundAmount: number | null;
}

interface Row {
  shipment_id: string; order_id: string; tracking_number: string; carrier: string; dest_city: string | null; status: string;
  promised_at: Date | null; delivered_at: Date | null; customer_id: string; email: string | null; first_name: string | null;
  locale: string | null; time_zone: string | null; consent_email_transactional: boolean | null; consent_email_promotional: boolean | null;
  currency: string | null; shipping_charged: number | null; received_at: Date | null; refunded_at: Date | null; refund_amount: number | null;
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(String(v));
}

/** `$IDS` becomes the list of positional parameters; returns are restricted to those orders before ranking. */
const SELECT = `
  WITH s AS (SELECT * FROM shipments WHERE shipment_id IN ($IDS)),
  r AS (
    SELECT order_id, arg_max(received_at, requested_at) AS received_at, arg_max(refunded_at, requested_at) AS refunded_at,
           arg_max(refund_amount, requested_at) AS refund_amount
    FROM returns WHERE order_id IN (SELECT order_id FROM s) GROUP BY order_id
  )
  SELECT s.shipment_id, s.order_id, s.tracking_number, s.carrier, s.dest_city, s.status, s.promised_at, s.delivered_at,
         o.customer_id, c.email, c.first_name, c.locale, c.time_zone, c.consent_email_transactional, c.consent_email_promotional,
         o.currency, o.shipping_charged, r.received_at, r.refunded_at, r.refund_amount
  FROM s
  JOIN orders o ON o.order_id = s.order_id
  LEFT JOIN customers c ON c.customer_id = o.customer_id
  LEFT JOIN r ON r.order_id = s.order_id`;

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
    shippingCharged: r.shipping_charged === null ? null : Number(r.shipping_charged),
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
  const rows = await db.all<Row>(SELECT.replace('$IDS', sqlPlaceholders(unique.length)), unique);
  for (const r of rows) out.set(r.shipment_id, fromRow(r));
  return out;
}

/** The shipment id of a tracking number, if known. */
export async function shipmentIdForTracking(db: SqlRunner, trackingNumber: string): Promise<string | undefined> {
  const row = await db.one<{ shipment_id: string }>('SELECT shipment_id FROM shipments WHERE tracking_number = $1', [trackingNumber]);
  return row?.shipment_id;
}


/** What the suppression list and consent history say about a set of recipients. */
export interface SendPermissions {
  /** Lower-cased address → stream (`all`, `transactional`, `promotional`) → reason. */
  suppressions: Map<string, Map<string, string>>;
  /** Customer id → whether their latest recorded promotional email consent is a grant. */
  promotionalConsent: Map<string, boolean>;
}

/** Loads suppressions and consent records for many recipients in two queries. */
export async function loadSendPermissions(db: SqlRunner, ctxs: readonly ShipmentContext[]): Promise<SendPermissions> {
  const addresses = [...new Set(ctxs.flatMap((c) => (c.email ? [c.email.trim().toLowerCase()] : [])))];
  const customers = [...new Set(ctxs.map((c) => c.customerId))];
  const suppressions = new Map<string, Map<string, string>>();
  const promotionalConsent = new Map<string, boolean>();
  if (addresses.length > 0) {
    const rows = await db.all<{ address: string; stream: string; reason: string }>(
      `SELECT address, stream, reason FROM email_suppressions WHERE address IN (${sqlPlaceholders(addresses.length)})`,
      addresses,
    );
    for (const r of rows) {
      let m = suppressions.get(r.address);
      if (!m) suppressions.set(r.address, (m = new Map()));
      m.set(r.stream, r.reason);
    }
  }
  if (customers.length > 0) {
    const rows = await db.all<{ customer_id: string; granted: boolean }>(
      `SELECT customer_id, arg_max(granted, recorded_at) AS granted FROM consent_records
       WHERE channel = 'email' AND stream = 'promotional' AND customer_id IN (${sqlPlaceholders(customers.length)}) GROUP BY customer_id`,
      customers,
    );
    for (const r of rows) promotionalConsent.set(r.customer_id, r.granted === true);
  }
  return { suppressions, promotionalConsent };
}

/**
 * Why an address may not receive a stream right now, or undefined when it may. Suppressions (hard
 * bounce, complaint, unsubscribe) block their stream or every stream; promotional mail also needs
 * the customer's current opt-in and a recorded consent whose latest entry is a grant.
 */
export function blockedReason(ctx: ShipmentContext, stream: 'transactional' | 'promotional', perms: SendPermissions): string | undefined {
  if (!ctx.email) return 'no email address';
  const sup = perms.suppressions.get(ctx.email.trim().toLowerCase());
  const reason = sup?.get('all') ?? sup?.get(stream);
  if (reason) return `suppressed: ${reason}`;
  if (stream === 'transactional') return ctx.consentTransactional ? undefined : 'no consent: transactional email withdrawn';
  if (!ctx.consentPromotional || perms.promotionalConsent.get(ctx.customerId) !== true) return 'no consent: promotional email needs a recorded opt-in';
  return undefined;
}
