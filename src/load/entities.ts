/**
 * The canonical entities `loadEntity` accepts and the value rules checked on top of the column
 * types and NOT NULL constraints that the schema itself declares (docs/DATA_CONTRACT.md lists
 * them all). The rules are data so the validator can compile them to one SQL pass.
 */

/** Tables users map their exports to, in dependency-free load order. */
export const ENTITY_NAMES = [
  'customers', 'orders', 'order_items', 'shipments', 'tracking_events', 'freight_invoices', 'freight_invoice_charges',
  'returns', 'email_messages', 'email_events', 'csat_responses', 'support_contacts', 'nba_decisions', 'service_alerts',
] as const;

export type EntityName = (typeof ENTITY_NAMES)[number];

export function isEntityName(s: string): s is EntityName {
  return (ENTITY_NAMES as readonly string[]).includes(s);
}

/** Marker for "one of the statuses in the `tracking_statuses` table", resolved at load time. */
export const TRACKING_STATUS = 'tracking_status' as const;

/** A value rule for one column; NULLs pass (requiredness comes from the schema). */
export interface ColumnRule {
  /** Allowed values (case-sensitive), or the tracking status taxonomy. */
  oneOf?: readonly string[] | typeof TRACKING_STATUS;
  min?: number;
  /** When true, `min` itself is not allowed. */
  minExclusive?: boolean;
  max?: number;
  /** A regular expression (DuckDB `regexp_full_match`) the text must match. */
  pattern?: string;
  /** Human description of `pattern` for reject reasons. */
  patternName?: string;
  /** Another column of the same row this value must not be earlier (or smaller) than; NULLs on either side pass. */
  notBefore?: string;
}

export type TableRules = Record<string, ColumnRule>;

const country: ColumnRule = { pattern: '[A-Z]{2}', patternName: 'an ISO-3166 alpha-2 code' };
const currency: ColumnRule = { pattern: '[A-Z]{3}', patternName: 'an ISO-4217 code' };
const nonNegative: ColumnRule = { min: 0 };
const lat: ColumnRule = { min: -90, max: 90 };
const lng: ColumnRule = { min: -180, max: 180 };

export const ORDER_STATUSES = ['created', 'approved', 'invoiced', 'processing', 'shipped', 'delivered', 'canceled', 'unavailable'] as const;
export const CHARGE_TYPES = [
  'base', 'fuel', 'residential', 'delivery_area', 'signature', 'saturday', 'address_correction', 'oversize', 'customs_duty', 'guaranteed_refund',
] as const;
export const SERVICE_ALERT_KINDS = ['weather', 'customs', 'network', 'other'] as const;
export const EMAIL_KINDS = [
  'shipped', 'delay', 'out_for_delivery', 'delivered', 'failed_attempt', 'return_label', 'return_received', 'refund_issued', 'promo',
] as const;

/** Value rules per entity (and per reference table loaded through the same pipeline). */
export const RULES: Record<string, TableRules> = {
  customers: { country, postal_prefix: {} },
  orders: {
    status: { oneOf: ORDER_STATUSES }, channel: { oneOf: ['web', 'app', 'marketplace'] }, currency,
    subtotal: nonNegative, discount: nonNegative, shipping_charged: nonNegative, total: nonNegative,
  },
  order_items: { line_no: { min: 1 }, quantity: { min: 1 }, unit_price: nonNegative, discount: nonNegative, freight_value: nonNegative, weight_g: nonNegative },
  shipments: {
    status: { oneOf: TRACKING_STATUS }, origin_country: country, dest_country: country, currency,
    origin_lat: lat, origin_lng: lng, dest_lat: lat, dest_lng: lng,
    weight_g: nonNegative, length_cm: nonNegative, width_cm: nonNegative, height_cm: nonNegative, freight_cost: nonNegative,
  },
  tracking_events: { status: { oneOf: TRACKING_STATUS }, country, lat, lng },
  freight_invoices: { zone: nonNegative, billed_weight_kg: nonNegative, actual_weight_kg: nonNegative, contracted_amount: nonNegative, currency },
  freight_invoice_charges: { line_no: { min: 1 }, charge_type: { oneOf: CHARGE_TYPES } },
  returns: {
    reason: { oneOf: ['damaged', 'wrong_item', 'late', 'changed_mind', 'size_fit', 'other'] },
    status: { oneOf: ['requested', 'label_sent', 'in_transit', 'received', 'refunded', 'rejected'] },
    refund_amount: nonNegative,
  },
  email_messages: {
    kind: { oneOf: EMAIL_KINDS }, stream: { oneOf: ['transactional', 'promotional'] },
    status: { oneOf: ['queued', 'sent', 'failed', 'suppressed'] },
  },
  email_events: {
    event: { oneOf: ['accepted', 'delivered', 'failed', 'opened', 'clicked', 'unsubscribed', 'complained'] },
    severity: { oneOf: ['permanent', 'temporary'] },
  },
  csat_responses: { score: { min: 1, max: 5 } },
  support_contacts: {
    channel: { oneOf: ['email', 'chat', 'phone'] },
    reason: { oneOf: ['wismo', 'late', 'damaged', 'return', 'billing', 'other'] },
  },
  nba_decisions: { propensity: { min: 0, minExclusive: true, max: 1 } },
  service_alerts: { country, kind: { oneOf: SERVICE_ALERT_KINDS }, ends_at: { notBefore: 'starts_at' }, expected_delay_days: nonNegative },
  postal_geo: { country, lat, lng, n_points: { min: 1 } },
  sellers: { country },
  products: { weight_g: nonNegative, length_cm: nonNegative, height_cm: nonNegative, width_cm: nonNegative },
};
