/**
 * The warehouse reads behind the shipment side of the API. Every function takes a batch of keys so
 * the DataLoaders can turn N field resolutions into one query.
 */
import type { SqlRunner, SqlValue } from '../warehouse/warehouse.js';
import type { CustomerRecord, OrderRecord, ShipmentRecord, TrackingEventRecord } from './records.js';
import { sqlPlaceholders } from '../warehouse/sql.js';


// Unit separator: cannot occur in an identifier worth matching (a key containing it simply finds nothing).
const SEP = '\x1f';

/**
 * A `column` filter on a batch of keys, as one parameter ($1): binding a thousand parameters
 * costs DuckDB about three times as much as splitting one string.
 */
function keyFilter(column: string, keys: readonly string[]): { sql: string; params: string[] } {
  if (keys.length === 1) return { sql: `${column} = $1`, params: [keys[0]] };
  return { sql: `${column} IN (SELECT unnest(string_split($1, chr(31))))`, params: [keys.join(SEP)] };
}

const SHIPMENT_COLUMNS = `shipment_id, order_id, tracking_number, status, status_at, carrier, service_level, is_guaranteed,
  promised_at, shipped_at, delivered_at, origin_city, origin_region, origin_country, dest_city, dest_region, dest_country`;

interface ShipmentRow {
  shipment_id: string; order_id: string; tracking_number: string; status: string; status_at: Date | null;
  carrier: string; service_level: string; is_guaranteed: boolean; promised_at: Date | null; shipped_at: Date | null;
  delivered_at: Date | null; origin_city: string | null; origin_region: string | null; origin_country: string | null;
  dest_city: string | null; dest_region: string | null; dest_country: string | null;
}

function toShipment(r: ShipmentRow): ShipmentRecord {
  return {
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    trackingNumber: r.tracking_number,
    status: r.status,
    statusAt: r.status_at,
    carrier: r.carrier,
    serviceLevel: r.service_level,
    isGuaranteed: r.is_guaranteed,
    promisedAt: r.promised_at,
    shippedAt: r.shipped_at,
    deliveredAt: r.delivered_at,
    origin: { city: r.origin_city, region: r.origin_region, country: r.origin_country },
    destination: { city: r.dest_city, region: r.dest_region, country: r.dest_country },
  };
}

export async function shipmentsByTrackingNumbers(db: SqlRunner, trackingNumbers: readonly string[]): Promise<Map<string, ShipmentRecord>> {
  if (trackingNumbers.length === 0) return new Map();
  const f = keyFilter('tracking_number', trackingNumbers);
  const rows = await db.all<ShipmentRow>(`SELECT ${SHIPMENT_COLUMNS} FROM shipments WHERE ${f.sql}`, f.params);
  return new Map(rows.map((r) => [r.tracking_number, toShipment(r)]));
}

export async function ordersByIds(db: SqlRunner, ids: readonly string[]): Promise<Map<string, OrderRecord>> {
  if (ids.length === 0) return new Map();
  const f = keyFilter('order_id', ids);
  const rows = await db.all<{
    order_id: string; customer_id: string; status: string; channel: string | null; currency: string;
    subtotal: number | null; shipping_charged: number | null; total: number | null; purchased_at: Date;
  }>(
    `SELECT order_id, customer_id, status, channel, currency, subtotal, shipping_charged, total, purchased_at
     FROM orders WHERE ${f.sql}`,
    f.params,
  );
  return new Map(
    rows.map((r) => [
      r.order_id,
      {
        orderId: r.order_id, customerId: r.customer_id, status: r.status, channel: r.channel, currency: r.currency,
        subtotal: r.subtotal, shippingCharged: r.shipping_charged, total: r.total, purchasedAt: r.purchased_at,
      },
    ]),
  );
}

/** Selects only the columns the API may expose (no email, no address). */
export async function customersByIds(db: SqlRunner, ids: readonly string[]): Promise<Map<string, CustomerRecord>> {
  if (ids.length === 0) return new Map();
  const f = keyFilter('customer_id', ids);
  const rows = await db.all<{
    customer_id: string; first_name: string | null; locale: string; time_zone: string;
    city: string | null; region: string | null; country: string | null;
  }>(
    `SELECT customer_id, first_name, locale, time_zone, city, region, country
     FROM customers WHERE ${f.sql}`,
    f.params,
  );
  return new Map(
    rows.map((r) => [
      r.customer_id,
      { customerId: r.customer_id, firstName: r.first_name, locale: r.locale, timeZone: r.time_zone, city: r.city, region: r.region, country: r.country },
    ]),
  );
}

/** Events per tracking number, oldest first (ties broken by source and id, so pages are stable). */
export async function eventsByTrackingNumbers(db: SqlRunner, trackingNumbers: readonly string[]): Promise<Map<string, TrackingEventRecord[]>> {
  const out = new Map<string, TrackingEventRecord[]>(trackingNumbers.map((t) => [t, []]));
  if (trackingNumbers.length === 0) return out;
  const f = keyFilter('tracking_number', trackingNumbers);
  const rows = await db.all<{
    source: string; event_id: string; tracking_number: string; status: string; carrier_status_code: string | null;
    description: string | null; city: string | null; region: string | null; country: string | null; occurred_at: Date;
  }>(
    `SELECT source, event_id, tracking_number, status, carrier_status_code, description, city, region, country, occurred_at
     FROM tracking_events WHERE ${f.sql}
     ORDER BY tracking_number, occurred_at, source, event_id`,
    f.params,
  );
  for (const r of rows) {
    out.get(r.tracking_number)?.push({
      source: r.source, eventId: r.event_id, trackingNumber: r.tracking_number, status: r.status,
      carrierStatusCode: r.carrier_status_code, description: r.description,
      location: { city: r.city, region: r.region, country: r.country }, occurredAt: r.occurred_at,
    });
  }
  return out;
}

/** Filters that SQL can apply (lateness risk needs predictions and is applied by the caller). */
export interface ShipmentSqlFilter {
  statuses?: readonly string[];
  carriers?: readonly string[];
  shippedFrom?: Date;
  shippedTo?: Date;
  promisedFrom?: Date;
  promisedTo?: Date;
  /** Only shipments that can have a lateness risk: undelivered, with a promise. */
  openWithPromise?: boolean;
}

/** One keyset page in `shipment_id` order, starting after `afterId`. */
export async function shipmentPage(db: SqlRunner, filter: ShipmentSqlFilter, afterId: string | undefined, limit: number): Promise<ShipmentRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sqlFor: (p: string) => string, value: SqlValue) => {
    params.push(value);
    where.push(sqlFor(`$${params.length}`));
  };
  const addList = (column: string, values: readonly string[]) => {
    where.push(`${column} IN (${sqlPlaceholders(values.length, params.length + 1)})`);
    params.push(...values);
  };
  if (afterId !== undefined) add((p) => `shipment_id > ${p}`, afterId);
  if (filter.statuses && filter.statuses.length > 0) addList('status', filter.statuses);
  if (filter.carriers && filter.carriers.length > 0) addList('carrier', filter.carriers);
  if (filter.shippedFrom) add((p) => `shipped_at >= CAST(${p} AS TIMESTAMPTZ)`, filter.shippedFrom);
  if (filter.shippedTo) add((p) => `shipped_at < CAST(${p} AS TIMESTAMPTZ)`, filter.shippedTo);
  if (filter.promisedFrom) add((p) => `promised_at >= CAST(${p} AS TIMESTAMPTZ)`, filter.promisedFrom);
  if (filter.promisedTo) add((p) => `promised_at < CAST(${p} AS TIMESTAMPTZ)`, filter.promisedTo);
  if (filter.openWithPromise) where.push(`promised_at IS NOT NULL AND status NOT IN ('delivered', 'expired')`);
  params.push(limit);
  const rows = await db.all<ShipmentRow>(
    `SELECT ${SHIPMENT_COLUMNS} FROM shipments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY shipment_id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toShipment);
}
