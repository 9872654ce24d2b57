/**
 * The decision context of one shipment, point in time: only what the warehouse knew at `at`
 * (consent records, tracking scans and service alerts up to then). The risk score comes from the
 * ETA window (risk.ts); the zone from the newest invoice of the same lane and service before `at`.
 */
import type { Warehouse } from '../../warehouse/warehouse.js';

export interface ShipmentFacts {
  shipmentId: string;
  orderId: string;
  customerId: string | null;
  carrier: string;
  serviceLevel: string;
  promisedAt: Date | null;
  deliveredAt: Date | null;
  orderValue: number;
  shippingPaid: number;
  category: string;
  emailConsent: boolean;
  promoConsent: boolean;
  outForDelivery: boolean;
  disruption: boolean;
  zone: number | null;
}

const SQL = `
WITH s AS (
  SELECT s.shipment_id, s.order_id, s.carrier, s.service_level, s.shipped_at, s.promised_at, s.delivered_at, s.origin_postal_prefix,
    s.dest_postal_prefix, s.dest_region, s.dest_country, o.customer_id, coalesce(o.subtotal, 0) AS order_value, coalesce(o.shipping_charged, 0) AS shipping_paid
  FROM shipments s JOIN orders o ON o.order_id = s.order_id
  WHERE ($1::VARCHAR IS NOT NULL AND s.tracking_number = $1) OR ($2::VARCHAR IS NOT NULL AND s.shipment_id = $2)
  LIMIT 1),
consent AS (
  SELECT arg_max(r.granted, r.recorded_at) FILTER (WHERE r.stream = 'transactional') AS tx,
         arg_max(r.granted, r.recorded_at) FILTER (WHERE r.stream = 'promotional') AS promo
  FROM consent_records r WHERE r.customer_id = (SELECT customer_id FROM s) AND r.channel = 'email' AND r.recorded_at <= $3::TIMESTAMPTZ),
scans AS (
  SELECT bool_or(status IN ('out_for_delivery', 'failed_attempt', 'available_for_pickup', 'delivered')) AS ofd, bool_or(status = 'delivery_delayed') AS delayed
  FROM tracking_events WHERE shipment_id = (SELECT shipment_id FROM s) AND occurred_at <= $3::TIMESTAMPTZ),
alerts AS (
  SELECT count(*) > 0 AS alerted FROM service_alerts a, s
  WHERE a.country = s.dest_country AND (a.region IS NULL OR a.region = s.dest_region) AND (a.carrier IS NULL OR a.carrier = s.carrier)
    AND a.announced_at <= $3::TIMESTAMPTZ AND s.shipped_at BETWEEN a.starts_at AND a.ends_at),
lane AS (
  SELECT arg_max(f.zone, f.invoice_date) AS zone FROM freight_invoices f JOIN shipments x ON x.shipment_id = f.shipment_id, s
  WHERE x.carrier = s.carrier AND x.service_level = s.service_level AND x.origin_postal_prefix = s.origin_postal_prefix
    AND x.dest_postal_prefix = s.dest_postal_prefix AND f.invoice_date <= $3::TIMESTAMPTZ AND f.zone IS NOT NULL)
SELECT s.*, c.consent_email_transactional, c.consent_email_promotional,
  (SELECT arg_min(category, line_no) FROM order_items WHERE order_id = s.order_id) AS category,
  consent.tx, consent.promo, scans.ofd, scans.delayed, alerts.alerted, lane.zone
FROM s LEFT JOIN customers c ON c.customer_id = s.customer_id, consent, scans, alerts, lane`;

/** The facts of the shipment with this tracking number (or id) as known at `at`; undefined when there is none. */
export async function shipmentFacts(wh: Warehouse, key: { trackingNumber?: string; shipmentId?: string }, at: Date): Promise<ShipmentFacts | undefined> {
  const r = await wh.one<{
    shipment_id: string; order_id: string; customer_id: string | null; carrier: string; service_level: string; promised_at: Date | null; delivered_at: Date | null;
    order_value: number; shipping_paid: number; category: string | null; consent_email_transactional: boolean | null; consent_email_promotional: boolean | null;
    tx: boolean | null; promo: boolean | null; ofd: boolean | null; delayed: boolean | null; alerted: boolean; zone: number | null;
  }>(SQL, [key.trackingNumber ?? null, key.shipmentId ?? null, at.toISOString()]);
  if (!r) return undefined;
  return {
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    customerId: r.customer_id,
    carrier: r.carrier,
    serviceLevel: r.service_level,
    promisedAt: r.promised_at ? new Date(r.promised_at) : null,
    deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
    orderValue: r.order_value,
    shippingPaid: r.shipping_paid,
    category: r.category ?? 'unknown',
    // Without a consent record by `at`, the customer's current flags stand in.
    emailConsent: r.tx ?? r.consent_email_transactional ?? false,
    promoConsent: r.promo ?? r.consent_email_promotional ?? false,
    outForDelivery: r.ofd ?? false,
    disruption: Boolean(r.alerted || r.delayed),
    zone: r.zone === null ? null : Number(r.zone),
  };
}
