/**
 * `loadOlist`: maps an extract of the Olist Brazilian e-commerce dataset onto the canonical tables.
 * Dimension files load first (from `dimensionsDir`, then the extract), then customers, items,
 * orders, one shipment per order, its milestone tracking events, and reviews as CSAT. Every join
 * to a dimension goes through the warehouse tables rather than the CSVs, so an extract without
 * geolocation, sellers or products files resolves against what earlier loads stored.
 */
import type { SqlRunner, Warehouse } from '../../warehouse/warehouse.js';
import { ValidationError } from '../../errors.js';
import { RULES } from '../entities.js';
import { readTableSchema } from '../table-schema.js';
import { loadRelation, tempName, type RelationLoadResult, type RelationSource } from '../load-relation.js';
import { readCsvToTemp, type RawCsv } from '../sources.js';
import { readTaxonomy } from '../load-entity.js';
import { sqlString } from '../sql-text.js';
import { brazilHolidays } from './brazil-holidays.js';
import { DIMENSION_KINDS, OLIST_FILES, findOlistFile, type OlistFileKind } from './olist-files.js';
import {
  BRAZIL_BOUNDS, OLIST_CARRIER, OLIST_COUNTRY, OLIST_CURRENCY, OLIST_LOCALE, OLIST_SERVICE_LEVEL, OLIST_TIME_ZONE,
  columnsOf, localTsSql, text, typed, zipSql,
} from './olist-sql.js';

/** One mapping step, reported as it starts. */
export interface OlistProgress {
  step: string;
  stepIndex: number;
  stepCount: number;
}

export interface OlistOptions {
  /** A folder with complete sellers/products/category files (e.g. `olist-dimensions-full`). */
  dimensionsDir?: string;
  onProgress?: (p: OlistProgress) => void;
}

/** Counts of one `loadOlist` call. */
export interface OlistSummary {
  dir: string;
  /** Files used, by kind (`<dimensionsDir>/…` for dimensions taken from there). */
  files: Partial<Record<OlistFileKind, string[]>>;
  /** Kinds absent from the extract, resolved from the warehouse instead. */
  missing: OlistFileKind[];
  /** Per target table (and reference table): read / loaded / rejected and reasons. */
  tables: Record<string, RelationLoadResult>;
  /** Orders of this extract now in `orders`. */
  orders: number;
  /** Orders of this extract with a delivered shipment. */
  deliveredShipments: number;
  /** Orders of this extract with at least one CSAT response. */
  ordersWithCsat: number;
  read: number;
  loaded: number;
  rejected: number;
}

interface Step {
  name: string;
  table: string;
  /** Which raw file the rows come from (for reject bookkeeping). */
  kind: OlistFileKind;
  build: (raw: RawCsv) => RelationSource;
}

const RAW = 'r';

function rawJson(csv: RawCsv): string {
  return `to_json(struct_pack(${csv.columns.map((c) => `"${c.name}" := ${RAW}."${c.name}"`).join(', ')}))`;
}

const STEPS: Step[] = [
  {
    name: 'categories', table: 'product_categories', kind: 'categories',
    build: (c) => ({
      from: `${c.table} ${RAW}`, line: c.line(RAW), rawJson: rawJson(c),
      columns: columnsOf({ category: text(`${RAW}.product_category_name`), name_en: text(`${RAW}.product_category_name_english`) }),
    }),
  },
  {
    name: 'sellers', table: 'sellers', kind: 'sellers',
    build: (c) => ({
      from: `${c.table} ${RAW}`, line: c.line(RAW), rawJson: rawJson(c),
      columns: columnsOf({
        seller_id: text(`${RAW}.seller_id`), postal_prefix: text(zipSql(`${RAW}.seller_zip_code_prefix`)),
        city: text(`${RAW}.seller_city`), region: text(`${RAW}.seller_state`),
        country: text(`'${OLIST_COUNTRY}'`), source: text(`'olist'`),
      }),
    }),
  },
  {
    name: 'products', table: 'products', kind: 'products',
    build: (c) => ({
      from: `${c.table} ${RAW}`, line: c.line(RAW), rawJson: rawJson(c),
      columns: columnsOf({
        product_id: text(`${RAW}.product_id`), category: text(`${RAW}.product_category_name`),
        weight_g: text(`${RAW}.product_weight_g`), length_cm: text(`${RAW}.product_length_cm`),
        height_cm: text(`${RAW}.product_height_cm`), width_cm: text(`${RAW}.product_width_cm`), source: text(`'olist'`),
      }),
    }),
  },
  {
    // Olist gives many point samples per CEP prefix; the centroid of those inside Brazil stands for the prefix.
    name: 'geolocation', table: 'postal_geo', kind: 'geolocation',
    build: (c) => ({
      from: `(SELECT ${zipSql('geolocation_zip_code_prefix')} AS prefix, min(${c.line()}) AS line,
                avg(TRY_CAST(geolocation_lat AS DOUBLE)) AS lat, avg(TRY_CAST(geolocation_lng AS DOUBLE)) AS lng,
                mode(geolocation_city) AS city, mode(geolocation_state) AS region, count(*) AS n
              FROM ${c.table} WHERE ${insideBrazil('geolocation_lat', 'geolocation_lng')} GROUP BY 1) g`,
      line: 'g.line',
      rawJson: `to_json(struct_pack(prefix := g.prefix, points := g.n))`,
      columns: columnsOf({
        country: text(`'${OLIST_COUNTRY}'`), postal_prefix: text('g.prefix'), lat: typed('g.lat', 'DOUBLE'), lng: typed('g.lng', 'DOUBLE'),
        city: text('g.city'), region: text('g.region'), n_points: typed('CAST(g.n AS INTEGER)', 'INTEGER'), source: text(`'olist'`),
      }),
    }),
  },
  {
    name: 'customers', table: 'customers', kind: 'customers',
    build: (c) => ({
      from: `${c.table} ${RAW}`, line: c.line(RAW), rawJson: rawJson(c),
      columns: columnsOf({
        customer_id: text(`${RAW}.customer_id`), external_id: text(`${RAW}.customer_unique_id`),
        locale: text(`'${OLIST_LOCALE}'`), time_zone: text(`'${OLIST_TIME_ZONE}'`),
        postal_prefix: text(zipSql(`${RAW}.customer_zip_code_prefix`)), city: text(`${RAW}.customer_city`),
        region: text(`${RAW}.customer_state`), country: text(`'${OLIST_COUNTRY}'`),
      }),
    }),
  },
  {
    // Olist repeats a line per unit, so each row is quantity 1; category prefers the English name.
    name: 'order_items', table: 'order_items', kind: 'items',
    build: (c) => ({
      from: `${c.table} ${RAW} LEFT JOIN products p ON p.product_id = ${RAW}.product_id
             LEFT JOIN product_categories pc ON pc.category = p.category`,
      line: c.line(RAW), rawJson: rawJson(c),
      columns: columnsOf({
        order_id: text(`${RAW}.order_id`), line_no: text(`${RAW}.order_item_id`), product_id: text(`${RAW}.product_id`),
        seller_id: text(`${RAW}.seller_id`), category: text('COALESCE(pc.name_en, p.category)'), quantity: typed('1', 'INTEGER'),
        unit_price: text(`${RAW}.price`), freight_value: text(`${RAW}.freight_value`), weight_g: typed('p.weight_g', 'DOUBLE'),
        shipping_limit_at: text(localTsSql(`${RAW}.shipping_limit_date`)),
      }),
    }),
  },
];

function insideBrazil(lat: string, lng: string): string {
  const b = BRAZIL_BOUNDS;
  return `TRY_CAST(${lat} AS DOUBLE) BETWEEN ${b.latMin} AND ${b.latMax} AND TRY_CAST(${lng} AS DOUBLE) BETWEEN ${b.lngMin} AND ${b.lngMax}`;
}

/** Orders: money from the stored items (and payments when the extract has them). */
function ordersSource(c: RawCsv, payments: string | null): RelationSource {
  const pay = payments
    ? `LEFT JOIN (SELECT order_id, sum(TRY_CAST(payment_value AS DOUBLE)) AS paid FROM ${payments} GROUP BY 1) pay ON pay.order_id = ${RAW}.order_id`
    : '';
  return {
    from: `${c.table} ${RAW}
      LEFT JOIN (SELECT order_id, sum(unit_price * quantity) AS subtotal, sum(freight_value) AS freight FROM order_items GROUP BY 1) it
        ON it.order_id = ${RAW}.order_id ${pay}`,
    line: c.line(RAW), rawJson: rawJson(c),
    columns: columnsOf({
      order_id: text(`${RAW}.order_id`), customer_id: text(`${RAW}.customer_id`), status: text(`${RAW}.order_status`),
      channel: text(`'marketplace'`), currency: text(`'${OLIST_CURRENCY}'`),
      subtotal: typed('it.subtotal', 'DOUBLE'), shipping_charged: typed('it.freight', 'DOUBLE'),
      total: typed(payments ? 'COALESCE(pay.paid, it.subtotal + it.freight)' : 'it.subtotal + it.freight', 'DOUBLE'),
      purchased_at: text(localTsSql(`${RAW}.order_purchase_timestamp`)), approved_at: text(localTsSql(`${RAW}.order_approved_at`)),
    }),
  };
}

/**
 * One shipment per order that reached the carrier or is still being prepared: orders canceled or
 * unavailable before hand-off never shipped and get none. Origin is the first item's seller.
 */
function shipmentsSource(c: RawCsv): RelationSource {
  const handoff = `NULLIF(trim(${RAW}.order_delivered_carrier_date), '')`;
  const delivered = `NULLIF(trim(${RAW}.order_delivered_customer_date), '')`;
  return {
    from: `${c.table} ${RAW}
      LEFT JOIN (SELECT order_id, arg_min(seller_id, line_no) AS seller_id, sum(weight_g) AS weight_g,
                        sum(freight_value) AS freight, count(*) AS n_items
                 FROM order_items GROUP BY 1) it ON it.order_id = ${RAW}.order_id
      LEFT JOIN (SELECT i.order_id, max(p.length_cm) AS l, max(p.width_cm) AS w, max(p.height_cm) AS h
                 FROM order_items i JOIN products p USING (product_id) GROUP BY 1) dim ON dim.order_id = ${RAW}.order_id
      LEFT JOIN sellers s ON s.seller_id = it.seller_id
      LEFT JOIN postal_geo og ON og.country = '${OLIST_COUNTRY}' AND og.postal_prefix = s.postal_prefix
      LEFT JOIN customers cu ON cu.customer_id = ${RAW}.customer_id
      LEFT JOIN postal_geo dg ON dg.country = '${OLIST_COUNTRY}' AND dg.postal_prefix = cu.postal_prefix
      WHERE ${handoff} IS NOT NULL OR ${delivered} IS NOT NULL
         OR (${RAW}.order_status NOT IN ('canceled', 'unavailable') AND it.n_items > 0)`,
    line: c.line(RAW), rawJson: rawJson(c),
    columns: columnsOf({
      shipment_id: text(`${RAW}.order_id`), order_id: text(`${RAW}.order_id`), tracking_number: text(`'OLIST-' || ${RAW}.order_id`),
      carrier: text(`'${OLIST_CARRIER}'`), service_level: text(`'${OLIST_SERVICE_LEVEL}'`),
      origin_postal_prefix: text('s.postal_prefix'), origin_city: text('s.city'), origin_region: text('s.region'),
      origin_country: text('s.country'), origin_lat: typed('og.lat', 'DOUBLE'), origin_lng: typed('og.lng', 'DOUBLE'),
      dest_postal_prefix: text('cu.postal_prefix'), dest_city: text('cu.city'), dest_region: text('cu.region'),
      dest_country: text('cu.country'), dest_lat: typed('dg.lat', 'DOUBLE'), dest_lng: typed('dg.lng', 'DOUBLE'),
      weight_g: typed('it.weight_g', 'DOUBLE'), length_cm: typed('dim.l', 'DOUBLE'), width_cm: typed('dim.w', 'DOUBLE'), height_cm: typed('dim.h', 'DOUBLE'),
      freight_cost: typed('it.freight', 'DOUBLE'), currency: text(`'${OLIST_CURRENCY}'`),
      shipped_at: text(localTsSql(`${RAW}.order_delivered_carrier_date`)), promised_at: text(localTsSql(`${RAW}.order_estimated_delivery_date`)),
      delivered_at: text(localTsSql(`${RAW}.order_delivered_customer_date`)),
      status: text(`CASE WHEN ${delivered} IS NOT NULL THEN 'delivered'
                         WHEN ${handoff} IS NOT NULL AND ${RAW}.order_status IN ('canceled', 'unavailable') THEN 'exception'
                         WHEN ${handoff} IS NOT NULL THEN 'in_transit' ELSE 'info_received' END`),
      status_at: text(statusAtSql()), updated_at: text(statusAtSql()),
    }),
  };
}

function statusAtSql(): string {
  return `COALESCE(${['order_delivered_customer_date', 'order_delivered_carrier_date', 'order_approved_at', 'order_purchase_timestamp']
    .map((col) => localTsSql(`${RAW}.${col}`)).join(', ')})`;
}

/** Olist's milestone timestamps as tracking events of source `olist`, for the orders that got a shipment. */
function trackingSource(c: RawCsv): RelationSource {
  const milestones = [
    ['info_received', 'order_approved_at'],
    ['in_transit', 'order_delivered_carrier_date'],
    ['delivered', 'order_delivered_customer_date'],
  ];
  const union = milestones.map(([status, col]) =>
    `SELECT ${c.line(RAW)} AS line, ${RAW}.order_id, '${status}' AS status, '${col}' AS code, ${localTsSql(`${RAW}.${col}`)} AS at
     FROM ${c.table} ${RAW} WHERE NULLIF(trim(${RAW}.${col}), '') IS NOT NULL`).join(' UNION ALL ');
  return {
    from: `(${union}) m JOIN shipments sh ON sh.shipment_id = m.order_id`,
    line: 'm.line',
    rawJson: `to_json(struct_pack(order_id := m.order_id, milestone := m.code, at := m.at))`,
    columns: columnsOf({
      source: text(`'olist'`), event_id: text(`m.order_id || ':' || m.status`), tracking_number: text('sh.tracking_number'),
      shipment_id: text('sh.shipment_id'), carrier: text('sh.carrier'), status: text('m.status'), carrier_status_code: text('m.code'),
      description: text(`'Olist ' || replace(m.code, '_', ' ')`), city: text(`CASE WHEN m.status = 'delivered' THEN sh.dest_city END`),
      region: text(`CASE WHEN m.status = 'delivered' THEN sh.dest_region END`), country: text(`'${OLIST_COUNTRY}'`),
      occurred_at: text('m.at'), received_at: typed('current_timestamp', 'TIMESTAMP WITH TIME ZONE'),
    }),
  };
}

/** Reviews as CSAT. review_id is reused across orders in Olist, so the response id pairs it with the order. */
function csatSource(c: RawCsv): RelationSource {
  return {
    from: `${c.table} ${RAW} LEFT JOIN orders o ON o.order_id = ${RAW}.order_id
           LEFT JOIN shipments sh ON sh.shipment_id = ${RAW}.order_id`,
    line: c.line(RAW), rawJson: rawJson(c),
    columns: columnsOf({
      response_id: text(`${RAW}.review_id || ':' || ${RAW}.order_id`), order_id: text(`${RAW}.order_id`),
      shipment_id: text('sh.shipment_id'), customer_id: text('o.customer_id'), score: text(`${RAW}.review_score`),
      comment_title: text(`${RAW}.review_comment_title`), comment: text(`${RAW}.review_comment_message`),
      survey_sent_at: text(localTsSql(`${RAW}.review_creation_date`)), responded_at: text(localTsSql(`${RAW}.review_answer_timestamp`)),
      source: text(`'olist'`),
    }),
  };
}

const STEP_COUNT = STEPS.length + 4;

/**
 * Loads the Olist extract in `dir` (CSV files named as in the Kaggle dataset) into the canonical
 * tables in one transaction, validating every mapped row like `loadEntity` does (rejects land in
 * `load_rejects` under the target table, with the Olist file and record number). Upserts on every
 * key, so loading the same extract twice changes nothing.
 */
export async function loadOlist(wh: Warehouse, dir: string, opts: OlistOptions = {}): Promise<OlistSummary> {
  const ordersFile = findOlistFile(dir, 'orders');
  if (!ordersFile) throw new ValidationError('dir', `${dir} has no ${OLIST_FILES.orders}; is it an Olist extract?`);
  const taxonomy = await readTaxonomy(wh);
  const files: OlistSummary['files'] = {};
  const missing: OlistFileKind[] = [];
  for (const kind of Object.keys(OLIST_FILES) as OlistFileKind[]) {
    const paths: string[] = [];
    const fromDims = opts.dimensionsDir && (DIMENSION_KINDS as readonly string[]).includes(kind) ? findOlistFile(opts.dimensionsDir, kind) : null;
    if (fromDims) paths.push(fromDims);
    const own = findOlistFile(dir, kind);
    if (own) paths.push(own);
    else missing.push(kind);
    if (paths.length > 0) files[kind] = paths;
  }
  const tables: Record<string, RelationLoadResult> = {};
  let stepIndex = 0;
  const progress = (step: string): void => opts.onProgress?.({ step, stepIndex: stepIndex++, stepCount: STEP_COUNT });

  return wh.transaction(async (tx) => {
    const opened: RawCsv[] = [];
    const read = async (kind: OlistFileKind, file: string, table: string): Promise<RawCsv> => {
      // Rejects describe the latest load of a file.
      await tx.run('DELETE FROM load_rejects WHERE entity = $1 AND file = $2', [table, file]);
      const csv = await readCsvToTemp(tx, table, file);
      opened.push(csv);
      if (csv.unparsed > 0) merge(tables, table, { read: csv.unparsed, loaded: 0, inserted: 0, updated: 0, rejected: csv.unparsed, rejectsByReason: {} });
      return csv;
    };
    const load = async (table: string, file: string, source: RelationSource): Promise<void> => {
      const schema = await readTableSchema(tx, table);
      const r = await loadRelation(tx, { entity: table, file, schema, rules: RULES[table] ?? {}, taxonomy, source });
      merge(tables, table, r);
    };
    try {
      for (const step of STEPS) {
        progress(step.name);
        for (const file of files[step.kind] ?? []) {
          const csv = await read(step.kind, file, step.table);
          if (step.kind === 'geolocation') {
            const outside = await rejectOutsideBrazil(tx, csv, file);
            merge(tables, step.table, { read: outside, loaded: 0, inserted: 0, updated: 0, rejected: outside, rejectsByReason: {} });
          }
          await load(step.table, file, step.build(csv));
        }
      }
      const payments = files.payments ? (await read('payments', files.payments[0], 'orders')).table : null;
      progress('orders');
      const orders = await read('orders', ordersFile, 'orders');
      await load('orders', ordersFile, ordersSource(orders, payments));
      progress('shipments');
      await tx.run('DELETE FROM load_rejects WHERE entity = $1 AND file = $2', ['shipments', ordersFile]);
      await load('shipments', ordersFile, shipmentsSource(orders));
      progress('tracking_events');
      await tx.run('DELETE FROM load_rejects WHERE entity = $1 AND file = $2', ['tracking_events', ordersFile]);
      await load('tracking_events', ordersFile, trackingSource(orders));
      await loadBrazilHolidays(tx, orders.table);
      if (files.reviews) {
        progress('csat_responses');
        const reviews = await read('reviews', files.reviews[0], 'csat_responses');
        await load('csat_responses', files.reviews[0], csatSource(reviews));
      }
      const counts = await tx.one<{ orders: number; delivered: number; csat: number }>(
        `SELECT (SELECT count(*) FROM orders o SEMI JOIN ${orders.table} r ON r.order_id = o.order_id) AS orders,
                (SELECT count(*) FROM shipments s SEMI JOIN ${orders.table} r ON r.order_id = s.order_id WHERE s.status = 'delivered') AS delivered,
                (SELECT count(DISTINCT c.order_id) FROM csat_responses c SEMI JOIN ${orders.table} r ON r.order_id = c.order_id) AS csat`,
      );
      const totals = Object.values(tables).reduce((a, t) => ({ read: a.read + t.read, loaded: a.loaded + t.loaded, rejected: a.rejected + t.rejected }), { read: 0, loaded: 0, rejected: 0 });
      return {
        dir, files, missing, tables,
        orders: Number(counts?.orders ?? 0), deliveredShipments: Number(counts?.delivered ?? 0), ordersWithCsat: Number(counts?.csat ?? 0),
        ...totals,
      };
    } finally {
      // On failure the transaction rolls these back; don't mask the original error.
      for (const c of opened) await c.close().catch(() => undefined);
    }
  });
}

/**
 * Brazil's national holidays for every year the extract's purchases span, and the next (deliveries
 * run past the last purchase), into `delivery_calendar`; rows already there are kept.
 */
async function loadBrazilHolidays(tx: SqlRunner, ordersTable: string): Promise<void> {
  const span = await tx.one<{ lo: number | null; hi: number | null }>(
    `SELECT min(year(o.purchased_at)) AS lo, max(year(o.purchased_at)) AS hi FROM orders o SEMI JOIN ${ordersTable} r ON r.order_id = o.order_id`,
  );
  if (span?.lo === null || span?.lo === undefined || span.hi === null) return;
  for (let year = Number(span.lo); year <= Number(span.hi) + 1; year++) {
    for (const h of brazilHolidays(year)) {
      await tx.run(
        `INSERT INTO delivery_calendar (country, day, name, source) VALUES ($1, $2::DATE, $3, 'olist') ON CONFLICT DO NOTHING`,
        [OLIST_COUNTRY, h.day, h.name],
      );
    }
  }
}

/** Geolocation samples outside Brazil are kept as rejects, not averaged into a prefix centroid. */
async function rejectOutsideBrazil(tx: SqlRunner, csv: RawCsv, file: string): Promise<number> {
  const t = tempName('geo');
  const r = await tx.all<{ Count: number }>(
    `INSERT INTO load_rejects (entity, file, line, field, reason, raw)
     SELECT 'postal_geo', ${sqlString(file)}, ${csv.line(t)}, 'geolocation_lat', 'outside Brazil (or not a number); excluded from the prefix centroid',
            to_json(struct_pack(${csv.columns.map((c) => `"${c.name}" := ${t}."${c.name}"`).join(', ')}))
     FROM ${csv.table} ${t} WHERE NOT COALESCE(${insideBrazil(`${t}.geolocation_lat`, `${t}.geolocation_lng`)}, false)`,
  );
  return Number(r[0]?.Count ?? 0);
}

function merge(tables: Record<string, RelationLoadResult>, table: string, r: RelationLoadResult): void {
  const t = (tables[table] ??= { read: 0, loaded: 0, inserted: 0, updated: 0, rejected: 0, rejectsByReason: {} });
  t.read += r.read;
  t.loaded += r.loaded;
  t.inserted += r.inserted;
  t.updated += r.updated;
  t.rejected += r.rejected;
  for (const [k, v] of Object.entries(r.rejectsByReason)) t.rejectsByReason[k] = (t.rejectsByReason[k] ?? 0) + v;
}
