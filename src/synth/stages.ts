/**
 * The generator's SQL stages. Every row-level draw is `su(key, stream)` / `sn(key, stream)` (see
 * random.ts), so a run is a pure function of (seed, shipments, asOf) while DuckDB parallelizes it.
 * Stream numbers are partitioned per key space: orders 1-99, customers 100-199, items 200-299,
 * tracking 300-399, email 400-499, billing 500-599, returns 600-699, support 700-799, CSAT 800-899,
 * next-best action 900-999.
 */
import { BEHAVIOUR as B } from './behaviour.js';
import { nbaPrepareSql, nbaWriteSql, shippingFeeSql } from './nba-stage.js';
import { CATEGORIES, FIRST_NAMES } from './catalog.js';
import { FULFILMENT_CENTRES, HUBS, METROS } from './geo.js';
import type { SynthKnobs } from './knobs.js';
import { eventKindColumns, HUB_BASE, METRO_BASE, pick, PLACES } from './lookups.js';

export interface StageContext {
  shipments: number;
  asOfS: number;
  knobs: SynthKnobs;
}

/**
 * One step of the generator. Its work tables are built before the write transaction and its rows
 * written inside it: DuckDB scans a table created in the still-open transaction on one thread, so
 * INSERTs reading committed work tables run several times faster on every core. Work tables are
 * TEMP (connection-local, never persisted), so building them outside the transaction keeps the
 * write all-or-nothing.
 */
export interface Stage {
  name: string;
  /** Relative cost, for progress reporting. */
  weight: number;
  /** SQL building this stage's TEMP work tables; reads only work tables. */
  prepare?: string;
  /** SQL writing warehouse rows (canonical and truth tables). */
  write?: string;
}

/** Converts a delivery-calendar-local arrival (`aloc`, seconds) into the delivered instant (UTC seconds). */
function rollForward(aloc: string, dc: string, off: string): string {
  return `((${dc}.target * 86400.0 + 32400 + 39600 * (${aloc} - ${dc}.block_start * 86400.0) / ((${dc}.target + 1 - ${dc}.block_start) * 86400.0)) - ${off} * 3600)`;
}

const ts = (s: string) => `to_timestamp(${s})`;

/** Zero-padded id with a prefix, wide enough for every key of the run. */
function idExpr(prefix: string, key: string, width: number): string {
  return `'${prefix}' || lpad(${key}::VARCHAR, ${width}, '0')`;
}

export function buildStages(ctx: StageContext): Stage[] {
  const { shipments: n, asOfS: asOf, knobs: k } = ctx;
  const w = Math.max(7, String(n).length);
  const nCust = Math.max(1, Math.round(n * k.customersPerShipment));
  const shipId = idExpr('shp_', 'i', w);
  const orderId = idExpr('ord_', 'i', w);
  const custId = (c: string) => idExpr('cus_', c, w);
  const R = B.returns;
  const C = B.csat;
  const E = B.email;
  const W = B.wismo;
  const apparelIdx = CATEGORIES.map((c, i) => (['apparel', 'shoes'].includes(c.name) ? i : -1)).filter((i) => i >= 0).join(', ');

  const stages: Stage[] = [];
  const add = (name: string, weight: number, sql: Pick<Stage, 'prepare' | 'write'>) => stages.push({ name, weight, ...sql });

  add('draws', 3, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _ord AS
WITH r AS (SELECT i, su(i, 1) AS u_slot FROM range(${n}) t(i))
SELECT r.i, sl.start_s + 3600 * su(r.i, 2) AS purchased_s, floor(su(r.i, 3) * ${nCust})::BIGINT AS c,
  su(r.i, 4) AS u_origin, su(r.i, 6) AS u_offer,
  1 + (su(r.i, 7) < 0.45)::INT + (su(r.i, 8) < 0.3)::INT AS n_items
FROM r ASOF JOIN _slot sl ON r.u_slot >= sl.cum_lo;

CREATE OR REPLACE TEMP TABLE _cust AS
WITH cs AS (SELECT c, min(purchased_s) AS first_s, su(c, 100) AS u_metro FROM _ord GROUP BY c)
SELECT cs.c, m.mi, su(cs.c, 101) < 0.8 AS residential, su(cs.c, 102) < 0.45 AS promo, su(cs.c, 103) < 0.3 AS sms,
  su(cs.c, 104) >= 0.02 AS email_tx, su(cs.c, 105) < 0.08 AS unsub,
  cs.first_s - 86400 * 30 * su(cs.c, 106) AS created_s, floor(su(cs.c, 107) * ${FIRST_NAMES.length})::INT AS ni
FROM cs ASOF JOIN _metro m ON cs.u_metro >= m.cum_lo ORDER BY cs.c;

CREATE OR REPLACE TEMP TABLE _items AS
WITH l AS (SELECT o.i, ln.line, o.i * 4 + ln.line AS key, su(o.i * 4 + ln.line, 200) AS u_cat
           FROM _ord o CROSS JOIN range(3) ln(line) WHERE ln.line < o.n_items)
SELECT l.i, (l.line + 1)::INT AS line_no, ct.ci, ct.name AS category,
  round(exp(ct.price_mu + ct.price_sigma * sn(l.key, 201)), 2) AS unit_price,
  (1 + (su(l.key, 202) < 0.12)::INT)::INT AS quantity,
  CASE WHEN su(l.key, 203) < 0.25 THEN 0.1 + 0.2 * su(l.key, 204) ELSE 0 END AS disc_rate,
  exp(ct.weight_mu + 0.35 * sn(l.key, 205)) AS unit_weight_g,
  ct.name || '-' || lpad(floor(su(l.key, 206) * 400)::INT::VARCHAR, 4, '0') AS product_id,
  'sel_' || lpad(floor(su(l.key, 207) * 40)::INT::VARCHAR, 3, '0') AS seller_id
FROM l ASOF JOIN _cat ct ON l.u_cat >= ct.cum_lo ORDER BY l.i, l.line;

CREATE OR REPLACE TEMP TABLE _oa AS
SELECT i, round(sum(unit_price * quantity), 2) AS subtotal, round(sum(round(unit_price * quantity * disc_rate, 2)), 2) AS discount,
  sum(unit_weight_g * quantity) AS weight_g, arg_min(ci, line_no) AS main_ci
FROM _items GROUP BY i;`,
  });

  add('handoff', 2, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _s1 AS
WITH a AS (
  SELECT o.i, o.c, o.purchased_s, o.u_offer, cu.mi, cu.residential, cu.email_tx, m.intl, m.off AS dest_off, m.region AS dest_region, m.country AS dest_country,
    CASE WHEN o.u_origin < ${k.nearestOriginProb} THEN m.nearest_fi ELSE floor(su(o.i, 5) * ${FULFILMENT_CENTRES.length})::INT END AS fi,
    o.purchased_s + 3600 * exp(ln(${k.processingMedianHours}) + ${k.processingSigma} * sn(o.i, 10)) AS ready_s
  FROM _ord o JOIN _cust cu ON cu.c = o.c JOIN _metro m ON m.mi = cu.mi),
b AS (
  SELECT a.*, f.off AS origin_off,
    floor((a.ready_s + f.off * 3600) / 86400)::INT AS rday, (a.ready_s + f.off * 3600) % 86400 AS rtod,
    -- the checkout promise assumes one day of processing
    floor((a.purchased_s + 86400 + f.off * 3600) / 86400)::INT AS pday, (a.purchased_s + 86400 + f.off * 3600) % 86400 AS ptod
  FROM a JOIN _fc f ON f.fi = a.fi)
SELECT b.*, b.fi * ${METROS.length} + b.mi AS li,
  CASE WHEN r.is_bday AND b.rtod < ${k.cutoffHourLocal} * 3600 THEN b.rday ELSE r.next_bday_after END AS hday,
  CASE WHEN p.is_bday AND b.ptod < ${k.cutoffHourLocal} * 3600 THEN b.pday ELSE p.next_bday_after END AS promise_hday
FROM b JOIN _bcal r ON r.day = b.rday JOIN _bcal p ON p.day = b.pday;`,
  });

  add('transit', 4, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _s2 AS
WITH a AS (SELECT s.*, s.hday * 86400.0 + (16 + 3 * su(s.i, 11)) * 3600 - s.origin_off * 3600 AS shipped_s FROM _s1 s),
b AS (SELECT a.*, o.oi FROM a ASOF JOIN _offer o ON a.intl = o.intl AND a.u_offer >= o.cum_lo),
h AS (SELECT b.i, max(d.extra_days) AS hold_days, arg_max(d.disruption_id, (d.extra_days, d.disruption_id)) AS disruption_id, arg_max(d.kind, (d.extra_days, d.disruption_id)) AS disruption_kind
      FROM b JOIN _dis d ON d.region = b.dest_region AND d.country = b.dest_country AND b.shipped_s BETWEEN d.from_s AND d.to_s GROUP BY b.i)
SELECT b.*, lo.mu + bc.peak_log + CASE WHEN oa.weight_g > 10000 THEN ln(1.08) ELSE 0 END AS mu, lo.sigma, lo.quoted_bdays,
  pb.bord AS promise_bord, coalesce(h.hold_days, 0) AS hold_days, h.disruption_id, h.disruption_kind,
  oa.subtotal, oa.discount, oa.weight_g, oa.main_ci, sn(b.i, 20) AS z, su(b.i, 21) >= ${k.returnToSenderRate} AS will_deliver
FROM b JOIN _lo lo ON lo.li = b.li AND lo.oi = b.oi JOIN _bcal bc ON bc.day = b.hday JOIN _bcal pb ON pb.day = b.promise_hday
JOIN _oa oa ON oa.i = b.i LEFT JOIN h ON h.i = b.i;

CREATE OR REPLACE TEMP TABLE _s AS
WITH a AS (SELECT s.*, o.dclass, o.carrier, o.service_level, o.guaranteed, o.kind AS service_kind, o.tn_prefix, o.base_fee, o.per_kg,
             s.shipped_s + 86400 * (s.hold_days + exp(s.mu + s.sigma * s.z)) + s.dest_off * 3600 AS aloc
           FROM _s2 s JOIN _offer o ON o.oi = s.oi),
b AS (SELECT a.*, ${rollForward('a.aloc', 'dc', 'a.dest_off')} AS arrive_s
      FROM a JOIN _dcal dc ON dc.dclass = a.dclass AND dc.day = floor(a.aloc / 86400)::INT),
s AS (
  SELECT b.*, ${shipId} AS shipment_id, ${orderId} AS order_id,
    b.tn_prefix || lpad(b.i::VARCHAR, 10, '0') || lpad(floor(su(b.i, 30) * 100)::INT::VARCHAR, 2, '0') AS tracking_number,
    bo.day * 86400.0 + 72000 - b.dest_off * 3600 AS promised_s,
    b.will_deliver AND b.arrive_s > bo.day * 86400.0 + 72000 - b.dest_off * 3600 AS is_late,
    CASE WHEN b.will_deliver THEN greatest(0, (b.arrive_s - (bo.day * 86400.0 + 72000 - b.dest_off * 3600)) / 86400) ELSE 0 END AS late_days,
    b.purchased_s + (b.ready_s - b.purchased_s) * (0.2 + 0.6 * su(b.i, 31)) AS label_s,
    15 + 35 * su(b.i, 32) AS length_cm, 10 + 25 * su(b.i, 33) AS width_cm, 4 + 20 * su(b.i, 34) AS height_cm,
    l.zone
  FROM b JOIN _bord bo ON bo.bord = b.promise_bord + b.quoted_bdays JOIN _lane l ON l.li = b.li),
-- The per-shipment event timeline, shared by tracking events and emails.
tb AS (
  SELECT s.*,
    s.shipped_s + (2 + 3 * su(s.i, 300)) * 3600 AS t0,
    s.will_deliver AND su(s.i, 301) < ${k.failedAttemptRate} AND s.arrive_s - s.shipped_s > 1.5 * 86400 AS fa,
    s.will_deliver AND su(s.i, 302) < ${k.exceptionScanRate} AS cosmetic_exc,
    least(6, 1 + s.zone // 2 + (su(s.i, 303) < 0.5)::INT) AS n_hubs
  FROM s),
c AS (
  SELECT b.*,
    b.arrive_s - (((b.arrive_s + b.dest_off * 3600) % 86400) - 25200) * (0.3 + 0.6 * su(b.i, 304)) AS ofd_s,
    -- the failed attempt happens on the previous day, skipping back over a Sunday
    b.arrive_s - 86400 * CASE WHEN (floor((b.arrive_s + b.dest_off * 3600) / 86400 - 1)::BIGINT + 4) % 7 = 0 THEN 2 ELSE 1 END AS fail_s,
    b.t0 + (b.arrive_s - b.t0) * 0.6 AS exc_s
  FROM tb b)
SELECT c.*, c.fail_s - (1.5 + 3 * su(c.i, 305)) * 3600 AS ofd1_s,
  greatest(c.t0 + 600, CASE WHEN NOT c.will_deliver THEN c.exc_s WHEN c.fa THEN c.fail_s - (1.5 + 3 * su(c.i, 305)) * 3600 ELSE c.ofd_s END - 10800) AS t_end
-- Shipment order: every later stage scans _s in this order, so the big tables are written in key
-- order, which makes building their indexes afterwards several times cheaper.
FROM c ORDER BY c.i;`,
  });

  add('next_best_action', 1, { prepare: nbaPrepareSql({ asOf, riskThreshold: k.nbaRiskThreshold }) });

  const ekCols = eventKindColumns('g.ek', 'g.oi');
  const place = (col: keyof (typeof PLACES)[number], type: 'VARCHAR' | 'DOUBLE') => pick(PLACES.map((p) => p[col]), 'g.pl', type);
  // The events are built as a work table first: the shipments stage then aggregates them from a
  // committed table (on every core) rather than from the open transaction's rows (on one), and
  // writing them is a plain copy.
  add('tracking_events', 10, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _te AS FROM tracking_events LIMIT 0;
INSERT INTO _te
WITH e AS (
  SELECT s.i, s.shipped_s, s.arrive_s, s.will_deliver, s.dest_off, s.t0, s.fa, s.cosmetic_exc, s.n_hubs, s.ofd_s, s.fail_s, s.exc_s, s.ofd1_s, s.t_end,
    s.shipment_id, s.tracking_number, s.carrier, s.oi, s.label_s, s.hold_days, s.disruption_kind, s.mi, s.fi
  FROM _s s),
ev AS (
  SELECT e.*, e.i * 16 + e.k AS key,
    CASE e.k WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN 2
      WHEN 9 THEN CASE WHEN e.disruption_kind = 'customs' THEN 6 ELSE 5 END
      WHEN 10 THEN CASE WHEN NOT e.will_deliver AND su(e.i, 306) < 0.3 THEN 8 ELSE 7 END
      WHEN 11 THEN 9 WHEN 12 THEN 10 WHEN 13 THEN 9
      WHEN 14 THEN CASE WHEN e.will_deliver THEN 11 ELSE 12 END
      ELSE 3 + (e.k - 3) % 2 END AS ek,
    CASE e.k WHEN 0 THEN e.label_s WHEN 1 THEN e.shipped_s WHEN 2 THEN e.t0
      WHEN 9 THEN e.t0 + (e.t_end - e.t0) * 0.25
      WHEN 10 THEN CASE WHEN e.will_deliver THEN e.t0 + (e.t_end - e.t0) * 0.6 ELSE e.exc_s END
      WHEN 11 THEN e.ofd1_s WHEN 12 THEN e.fail_s WHEN 13 THEN e.ofd_s
      WHEN 14 THEN CASE WHEN e.will_deliver THEN e.arrive_s ELSE e.exc_s + 1.5 * 86400 END
      ELSE e.t0 + (e.t_end - e.t0) * (e.k - 2) / (e.n_hubs + 1) END AS occurred_s,
    CASE WHEN e.k <= 2 OR e.k = 14 THEN true
      WHEN e.k <= 8 THEN e.k - 3 < e.n_hubs
      WHEN e.k = 9 THEN e.hold_days > 0
      WHEN e.k = 10 THEN NOT e.will_deliver OR e.cosmetic_exc
      WHEN e.k <= 12 THEN e.fa
      ELSE e.will_deliver END AS present,
    -- arrival and departure scans at the same hub share its draw
    floor(su(e.i * 16 + 3 + ((e.k - 3) // 2) * 2, 307) * ${HUBS.length})::INT AS hi
  -- unnest (not a cross join) emits a shipment's events together, so rows arrive in key order
  FROM (SELECT e.*, unnest(range(15)) AS k FROM e) e),
f AS (
  SELECT ev.*, ev.occurred_s + exp(ln(300) + sn(ev.key, 310))
      + CASE WHEN su(ev.key, 311) < ${k.lateArrivalRate} THEN (2 + 16 * su(ev.key, 312)) * 3600 ELSE 0 END AS received_s,
    su(ev.key, 313) < ${k.duplicateEventRate} AS dup
  FROM ev WHERE ev.present AND ev.occurred_s <= ${asOf}),
g AS (
  -- a duplicate follows its original, still in key order
  SELECT f.* REPLACE (CASE WHEN f.copy = 1 THEN f.received_s + 600 + 3000 * su(f.key, 314) ELSE f.received_s END AS received_s),
    CASE WHEN f.copy = 1 THEN '-r' ELSE '' END AS suffix
  FROM (SELECT f.*, unnest(CASE WHEN f.dup THEN [0, 1] ELSE [0] END) AS copy FROM f) f)
SELECT 'generator', g.shipment_id || '-' || lpad(g.k::VARCHAR, 2, '0') || g.suffix, g.tracking_number, g.shipment_id, g.carrier,
  ${ekCols.status}, ${ekCols.code}, ${ekCols.description},
  ${place('city', 'VARCHAR')}, ${place('region', 'VARCHAR')}, ${place('country', 'VARCHAR')}, ${place('postal', 'VARCHAR')},
  ${place('lat', 'DOUBLE')}, ${place('lng', 'DOUBLE')},
  ${ts('g.occurred_s')}, ${ts('g.received_s')}
-- origin scans at the fulfilment centre, hub scans at the hub, the rest at the destination metro
FROM (SELECT g.*, CASE WHEN g.ek <= 2 THEN g.fi WHEN g.ek <= 4 THEN ${HUB_BASE} + g.hi ELSE ${METRO_BASE} + g.mi END AS pl FROM g) g
WHERE g.received_s <= ${asOf};`,
    write: `INSERT INTO tracking_events SELECT * FROM _te;`,
  });

  // Billing is computed for every shipment: freight_cost is the contract price known at label time.
  add('billing_model', 1, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _bill AS
WITH a AS (
  SELECT s.i, s.shipment_id, s.tracking_number, s.carrier, s.service_level, s.zone, s.guaranteed, s.is_late, s.intl, s.dclass,
    s.arrive_s, s.will_deliver, s.dest_off, s.weight_g, s.subtotal, s.residential,
    ceil(greatest(s.weight_g / 1000, s.length_cm * s.width_cm * s.height_cm / 5000)) AS billed_kg,
    round(s.base_fee + s.per_kg * ceil(greatest(s.weight_g / 1000, s.length_cm * s.width_cm * s.height_cm / 5000)) * (1 + 0.12 * (s.zone - 2)), 2) AS base
  FROM _s s),
b AS (
  SELECT a.*, round(a.base * 0.145, 2) AS fuel,
    CASE WHEN a.residential THEN 4.95 ELSE 0 END AS residential_fee,
    CASE WHEN a.subtotal > 300 THEN 5.75 ELSE 0 END AS signature_fee,
    CASE WHEN a.dclass = 'express' AND (floor((a.arrive_s + a.dest_off * 3600) / 86400)::BIGINT + 4) % 7 = 6 THEN 16.0 ELSE 0 END AS saturday_fee,
    CASE WHEN a.intl THEN round(0.08 * a.subtotal, 2) ELSE 0 END AS duty,
    su(a.i, 500) < ${k.wrongAccessorialRate} AS wrong_acc,
    su(a.i, 501) < ${k.duplicateInvoiceRate} AS dup_invoice,
    a.guaranteed AND a.is_late AS guaranteed_late,
    su(a.i, 502) < ${k.guaranteedLateBilledFullRate} AS billed_full,
    (floor((a.arrive_s + a.dest_off * 3600) / 86400)::BIGINT + 4) % 7 AS dow
  FROM a)
SELECT b.*, round(base + fuel + residential_fee + signature_fee + saturday_fee + duty, 2) AS expected_total,
  CASE WHEN residential THEN 'address_correction' ELSE 'residential' END AS wrong_type,
  CASE WHEN residential THEN 18.0 ELSE 4.95 END AS wrong_fee,
  -- invoices go out on the Monday after delivery
  floor((arrive_s + dest_off * 3600) / 86400)::BIGINT + (8 - dow) % 7 + CASE WHEN dow = 1 THEN 7 ELSE 0 END AS invoice_day
FROM b;`,
  });

  add('customers', 1, {
    write: `
INSERT INTO customers
SELECT ${custId('cu.c')}, NULL, 'cus_' || cu.c || '@example.com', n.name, m.locale, m.tz, m.postal_prefix, m.city, m.region, m.country,
  cu.email_tx, cu.promo AND NOT cu.unsub, cu.sms, false,
  ${ts(`CASE WHEN cu.promo AND cu.unsub THEN cu.created_s + (${asOf} - cu.created_s) * su(cu.c, 108) ELSE cu.created_s END`)},
  ${ts('cu.created_s')}
FROM _cust cu JOIN _metro m ON m.mi = cu.mi JOIN _name n ON n.ni = cu.ni;

INSERT INTO consent_records
SELECT id, channel, stream, granted, source, ${ts('at_s')} FROM (
  SELECT ${custId('cu.c')} AS id, x.k,
    CASE WHEN x.k = 2 THEN 'sms' ELSE 'email' END AS channel,
    CASE WHEN x.k IN (0, 2) THEN 'transactional' ELSE 'promotional' END AS stream,
    CASE x.k WHEN 0 THEN cu.email_tx WHEN 1 THEN cu.promo WHEN 2 THEN cu.sms ELSE false END AS granted,
    CASE WHEN x.k = 3 THEN 'unsubscribe_link' ELSE 'checkout' END AS source,
    CASE WHEN x.k = 3 THEN cu.created_s + (${asOf} - cu.created_s) * su(cu.c, 108) ELSE cu.created_s END AS at_s,
    x.k < 3 OR (cu.promo AND cu.unsub) AS present
  FROM _cust cu CROSS JOIN range(4) x(k))
WHERE present;`,
  });

  add('orders', 2, {
    write: `
INSERT INTO orders
SELECT s.order_id, ${custId('s.c')},
  CASE WHEN s.will_deliver AND s.arrive_s <= ${asOf} THEN 'delivered' WHEN s.shipped_s <= ${asOf} THEN 'shipped' ELSE 'processing' END,
  CASE WHEN su(s.i, 50) < 0.55 THEN 'web' WHEN su(s.i, 50) < 0.85 THEN 'app' ELSE 'marketplace' END,
  'USD', s.subtotal, s.discount, sc.shipping, round(s.subtotal - s.discount + sc.shipping, 2),
  ${ts('s.purchased_s')}, ${ts('s.purchased_s + 300 + 1500 * su(s.i, 51)')}
FROM _s s, LATERAL (SELECT ${shippingFeeSql('s.service_kind', 's.subtotal')} AS shipping) sc;

INSERT INTO order_items
SELECT s.order_id, it.line_no, it.product_id, it.seller_id, it.category, it.quantity, it.unit_price,
  round(it.unit_price * it.quantity * it.disc_rate, 2),
  round(b.expected_total * it.unit_price * it.quantity / s.subtotal, 2),
  round(it.unit_weight_g * it.quantity, 1), ${ts('s.purchased_s + 2 * 86400')}
FROM _items it JOIN _s s ON s.i = it.i JOIN _bill b ON b.i = it.i;`,
  });

  add('shipments', 2, {
    write: `
INSERT INTO shipments
WITH ev AS (
  -- Ties on occurred_at (same-second scans) go to the further-along status, then the event id, so the result is deterministic.
  -- The key packs (occurred_at, progress_rank, event id) into one BIGINT: this stage's event ids are
  -- '<shipment_id>-kk' or '<shipment_id>-kk-r', so their order is (kk, copy); an aggregate state
  -- without the id strings cost about 30 % less CPU.
  SELECT e.shipment_id,
    arg_max(e.status, ((epoch_us(e.occurred_at) * 8 + t.progress_rank) * 16 + substr(e.event_id, length(e.shipment_id) + 2, 2)::INT) * 2
      + (length(e.event_id) > length(e.shipment_id) + 3)::INT) AS status,
    max(e.occurred_at) AS status_at,
    max(e.received_at) AS updated_at
  FROM _te e JOIN tracking_statuses t USING (status) GROUP BY e.shipment_id)
SELECT s.shipment_id, s.order_id, s.tracking_number, s.carrier, s.service_level, s.guaranteed,
  fc.postal_prefix, fc.city, fc.region, fc.country, fc.lat, fc.lng,
  m.postal_prefix, m.city, m.region, m.country, m.lat, m.lng,
  round(s.weight_g, 1), round(s.length_cm, 1), round(s.width_cm, 1), round(s.height_cm, 1), b.expected_total, 'USD',
  CASE WHEN s.label_s <= ${asOf} THEN ${ts('s.label_s')} END,
  CASE WHEN s.shipped_s <= ${asOf} THEN ${ts('s.shipped_s')} END,
  ${ts('s.promised_s')},
  CASE WHEN s.will_deliver AND s.arrive_s <= ${asOf} THEN ${ts('s.arrive_s')} END,
  coalesce(ev.status, 'pending'), ev.status_at, ev.updated_at
FROM _s s JOIN _fc fc ON fc.fi = s.fi JOIN _metro m ON m.mi = s.mi JOIN _bill b ON b.i = s.i
LEFT JOIN ev ON ev.shipment_id = s.shipment_id;`,
  });

  add('invoices', 2, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _inv AS
SELECT b.*, 'inv_' || lpad(b.i::VARCHAR, ${w}, '0') AS invoice_id,
  upper(left(b.carrier, 2)) || '-' || strftime(DATE '1970-01-01' + b.invoice_day::INT, '%Y%W') || '-' || lpad((b.i % 100000)::VARCHAR, 5, '0') AS invoice_number,
  round(b.expected_total + CASE WHEN b.wrong_acc THEN b.wrong_fee ELSE 0 END - CASE WHEN b.guaranteed_late AND NOT b.billed_full THEN b.base + b.fuel ELSE 0 END, 2) AS billed_total,
  round(b.expected_total - CASE WHEN b.guaranteed_late THEN b.base + b.fuel ELSE 0 END, 2) AS contracted
FROM _bill b WHERE b.will_deliver AND b.invoice_day * 86400 <= ${asOf};`,
    write: `
INSERT INTO freight_invoices
SELECT x.invoice_id, v.invoice_number, v.carrier, DATE '1970-01-01' + x.day::INT, v.shipment_id, v.tracking_number, v.service_level, v.zone,
  v.billed_kg, round(v.weight_g / 1000, 3), v.billed_total, v.contracted, 'USD'
FROM (SELECT v.*, unnest([0, 1]) AS copy FROM _inv v) v,
  LATERAL (SELECT CASE WHEN v.copy = 0 THEN v.invoice_id ELSE v.invoice_id || '_2' END AS invoice_id, v.invoice_day + 7 * v.copy AS day,
    v.copy = 0 OR v.dup_invoice AS present) x
WHERE x.present AND x.day * 86400 <= ${asOf};

INSERT INTO freight_invoice_charges
WITH v AS (
  SELECT v.*, (v.residential_fee > 0)::INT AS p3, (v.signature_fee > 0)::INT AS p4, (v.saturday_fee > 0)::INT AS p5, (v.duty > 0)::INT AS p6,
    v.wrong_acc::INT AS p7, (v.guaranteed_late AND NOT v.billed_full)::INT AS p8
  FROM _inv v),
lines AS (
  -- unnest keeps each invoice's lines (and its duplicate's, '<id>_2') together, in key order
  SELECT CASE WHEN x.copy = 0 THEN x.invoice_id ELSE x.invoice_id || '_2' END AS invoice_id, x.slot,
    CASE x.slot WHEN 1 THEN 'base' WHEN 2 THEN 'fuel' WHEN 3 THEN 'residential' WHEN 4 THEN 'signature' WHEN 5 THEN 'saturday'
      WHEN 6 THEN 'customs_duty' WHEN 7 THEN x.wrong_type ELSE 'guaranteed_refund' END AS charge_type,
    CASE x.slot WHEN 1 THEN x.base WHEN 2 THEN x.fuel WHEN 3 THEN x.residential_fee WHEN 4 THEN x.signature_fee WHEN 5 THEN x.saturday_fee
      WHEN 6 THEN x.duty WHEN 7 THEN x.wrong_fee ELSE -(x.base + x.fuel) END AS amount,
    CASE x.slot WHEN 1 THEN 1 WHEN 2 THEN 1 WHEN 3 THEN x.p3 WHEN 4 THEN x.p4 WHEN 5 THEN x.p5 WHEN 6 THEN x.p6 WHEN 7 THEN x.p7 ELSE x.p8 END = 1 AS present,
    -- the line number counts the present lines up to this slot
    CASE x.slot WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 2 + x.p3 WHEN 4 THEN 2 + x.p3 + x.p4 WHEN 5 THEN 2 + x.p3 + x.p4 + x.p5
      WHEN 6 THEN 2 + x.p3 + x.p4 + x.p5 + x.p6 WHEN 7 THEN 2 + x.p3 + x.p4 + x.p5 + x.p6 + x.p7
      ELSE 2 + x.p3 + x.p4 + x.p5 + x.p6 + x.p7 + x.p8 END AS line_no
  FROM (SELECT c.*, unnest(range(1, 9)) AS slot
        FROM (SELECT v.*, unnest(CASE WHEN v.dup_invoice AND (v.invoice_day + 7) * 86400 <= ${asOf} THEN [0, 1] ELSE [0] END) AS copy FROM v) c) x)
SELECT invoice_id, line_no::INT, charge_type, round(amount, 2) FROM lines WHERE present;

INSERT INTO truth_invoice_errors
SELECT invoice_id || '_2', shipment_id, 'duplicate_invoice', billed_total, 'second invoice with the same invoice_number'
FROM _inv WHERE dup_invoice AND (invoice_day + 7) * 86400 <= ${asOf}
UNION ALL
SELECT invoice_id, shipment_id, 'wrong_accessorial', wrong_fee, wrong_type || ' charged but not applicable' FROM _inv WHERE wrong_acc
UNION ALL
SELECT invoice_id, shipment_id, 'guaranteed_late_billed_full', round(base + fuel, 2), 'guaranteed service delivered after the commitment, no refund line'
FROM _inv WHERE guaranteed_late AND billed_full;`,
  });

  add('returns', 1, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _ret AS
WITH a AS (
  SELECT s.i, s.order_id, s.shipment_id, s.c, s.subtotal, s.discount, s.is_late, s.late_days, s.arrive_s, s.will_deliver, s.main_ci, ct.name AS category,
    ${R.intercept.value} + ct.return_logit + ${R.logSubtotal.value} * ln(greatest(s.subtotal, 1) / 50)
      + ${R.discountShare.value} * s.discount / greatest(s.subtotal, 1) + ${R.late.value} * s.is_late::INT
      + ${R.lateDays.value} * least(s.late_days, 5) AS logit
  FROM _s s JOIN _cat ct ON ct.ci = s.main_ci)
SELECT a.*, 1 / (1 + exp(-a.logit)) AS p, a.will_deliver AND su(a.i, 600) < 1 / (1 + exp(-a.logit)) AS returned,
  a.arrive_s + 86400 * exp(ln(4) + 0.6 * sn(a.i, 601)) AS requested_s, su(a.i, 602) < 0.03 AS rejected,
  CASE WHEN a.is_late AND su(a.i, 603) < 0.45 THEN 'late'
       WHEN a.main_ci IN (${apparelIdx}) AND su(a.i, 604) < 0.55 THEN 'size_fit'
       WHEN su(a.i, 605) < 0.15 THEN 'damaged' WHEN su(a.i, 606) < 0.15 THEN 'wrong_item'
       WHEN su(a.i, 607) < 0.1 THEN 'other' ELSE 'changed_mind' END AS reason
FROM a;`,
    write: `
INSERT INTO truth_order_returns
SELECT order_id, category, subtotal, round(discount / greatest(subtotal, 1), 6), late_days, logit, p, returned FROM _ret;

INSERT INTO returns
SELECT 'ret_' || lpad(r.i::VARCHAR, ${w}, '0'), r.order_id, r.shipment_id, ${custId('r.c')}, r.reason,
  CASE WHEN r.requested_s + 7.5 * 86400 <= ${asOf} THEN CASE WHEN r.rejected THEN 'rejected' ELSE 'refunded' END
       WHEN r.requested_s + 6 * 86400 <= ${asOf} THEN 'received' WHEN r.requested_s + 2 * 86400 <= ${asOf} THEN 'in_transit'
       WHEN r.requested_s + 0.3 * 86400 <= ${asOf} THEN 'label_sent' ELSE 'requested' END,
  'RT' || lpad(r.i::VARCHAR, 10, '0'), ${ts('r.requested_s')},
  CASE WHEN r.requested_s + 6 * 86400 <= ${asOf} THEN ${ts('r.requested_s + 6 * 86400')} END,
  CASE WHEN r.requested_s + 7.5 * 86400 <= ${asOf} AND NOT r.rejected THEN ${ts('r.requested_s + 7.5 * 86400')} END,
  CASE WHEN r.requested_s + 7.5 * 86400 <= ${asOf} AND NOT r.rejected THEN round(r.subtotal - r.discount, 2) END
FROM _ret r WHERE r.returned AND r.requested_s <= ${asOf};`,
  });

  // Messages and their engagement draws in one pass: both email tables read _mev.
  add('email', 3, {
    prepare: `
CREATE OR REPLACE TEMP TABLE _mev AS
WITH s AS (
  SELECT s.i, s.c, s.order_id, s.shipment_id, s.shipped_s, s.arrive_s, s.will_deliver, s.is_late, s.ofd_s, n.decided_s AS notice_s, n.action AS nba_action, m.locale
  FROM _s s JOIN _metro m ON m.mi = s.mi
  LEFT JOIN _notice n ON n.i = s.i WHERE s.email_tx),
k AS (
  SELECT k.*, CASE k.kc WHEN 0 THEN 'shipped' WHEN 1 THEN 'delay' WHEN 2 THEN 'out_for_delivery' ELSE 'delivered' END AS kind,
    CASE k.kc WHEN 0 THEN k.shipped_s + 1800 WHEN 1 THEN k.notice_s + 300 WHEN 2 THEN k.ofd_s + 600 ELSE k.arrive_s + 900 END AS at_s,
    CASE k.kc WHEN 0 THEN true WHEN 1 THEN k.notice_s IS NOT NULL ELSE k.will_deliver END AS present
  -- unnest keeps a shipment's messages together, so they are written in key order
  FROM (SELECT s.*, unnest(range(4)) AS kc FROM s) k),
x AS (SELECT * FROM k WHERE present AND at_s <= ${asOf}),
msg AS (
  SELECT x.*, 'msg_' || lpad(x.i::VARCHAR, ${w}, '0') || '_' || x.kc AS message_id, x.i * 4 + x.kc AS key,
    x.is_late AND x.notice_s IS NOT NULL AS late_notified, x.is_late AND x.notice_s IS NULL AS late_unnotified
  FROM x),
a AS (
  SELECT m.*, su(m.key, 400) < ${E.failRate.value} AS failed,
    CASE m.kind WHEN 'shipped' THEN ${E.openShipped.value} WHEN 'delay' THEN ${E.openDelay.value}
      WHEN 'out_for_delivery' THEN ${E.openOutForDelivery.value} ELSE ${E.openDelivered.value} END
    + CASE WHEN m.kind IN ('out_for_delivery', 'delivered') THEN ${E.lateNotified.value} * m.late_notified::INT + ${E.lateNotNotified.value} * m.late_unnotified::INT ELSE 0 END AS open_logit
  FROM msg m)
SELECT a.*, NOT a.failed AND su(a.key, 401) < 1 / (1 + exp(-a.open_logit)) AS opened,
  su(a.key, 402) < 1 / (1 + exp(-(${E.clickBase.value} + ${E.clickDelay.value} * (a.kind = 'delay')::INT + ${E.clickLateNotNotified.value} * a.late_unnotified::INT))) AS click_draw,
  a.at_s + 5 + 60 * su(a.key, 403) AS delivered_s,
  a.at_s + 5 + 7200 * exp(sn(a.key, 404)) AS opened_s,
  NOT a.failed AND a.late_unnotified AND su(a.key, 405) < ${E.complainLateNotNotified.value} AS complained
FROM a;`,
    write: `
INSERT INTO email_messages
SELECT message_id, ${custId('c')}, order_id, shipment_id, kind, 'transactional', locale,
  CASE kind WHEN 'shipped' THEN 'Your order is on its way' WHEN 'delay' THEN 'Your delivery is running late'
    WHEN 'out_for_delivery' THEN 'Out for delivery today' ELSE 'Delivered' END,
  'history', '<' || message_id || '@mg.example.com>', NULL, CASE WHEN failed THEN 'failed' ELSE 'sent' END,
  ${ts('at_s - 2')}, ${ts('at_s')},
  -- the delay email carries the logged NBA decision's action (migration 011)
  CASE WHEN kind = 'delay' THEN 'nba_' || lpad(i::VARCHAR, ${w}, '0') END, CASE WHEN kind = 'delay' THEN nba_action END, NULL
FROM _mev;

INSERT INTO email_events
SELECT 'history', x.message_id || '-' || x.ev, x.message_id, '<' || x.message_id || '@mg.example.com>', x.ev, x.severity, x.reason, x.url,
  ${ts('x.at_s')}, ${ts('x.at_s + 20')}
FROM (
  SELECT m.message_id,
    CASE m.k WHEN 0 THEN 'delivered' WHEN 1 THEN 'failed' WHEN 2 THEN 'opened' WHEN 3 THEN 'clicked' ELSE 'complained' END AS ev,
    CASE WHEN m.k = 1 THEN CASE WHEN su(m.key, 406) < 0.75 THEN 'permanent' ELSE 'temporary' END END AS severity,
    CASE WHEN m.k = 1 THEN 'mailbox unavailable' END AS reason,
    CASE WHEN m.k = 3 THEN 'https://shop.example.com/track/' || m.shipment_id END AS url,
    CASE m.k WHEN 0 THEN m.delivered_s WHEN 1 THEN m.delivered_s WHEN 2 THEN m.opened_s WHEN 3 THEN m.opened_s + 30 + 600 * su(m.key, 407) ELSE m.opened_s + 60 END AS at_s,
    CASE m.k WHEN 0 THEN NOT m.failed WHEN 1 THEN m.failed WHEN 2 THEN m.opened WHEN 3 THEN m.opened AND m.click_draw ELSE m.complained END AS present
  FROM (SELECT m.*, unnest(range(5)) AS k FROM _mev m) m
) x WHERE x.present AND x.at_s + 20 <= ${asOf};`,
  });

  add('csat_support', 2, {
    write: `
INSERT INTO csat_responses
WITH a AS (
  SELECT s.i, s.order_id, s.shipment_id, s.c, s.arrive_s, s.is_late, s.late_days, s.hold_days, n.i IS NOT NULL AS notified, coalesce(n.csat_shift, 0) AS csat_shift,
    s.arrive_s + 86400 AS sent_s,
    s.arrive_s + 86400 + 3600 * 6 * exp(sn(s.i, 800)) AS responded_s,
    su(s.i, 801) < ${C.responseBase.value} + ${C.responseLate.value} * s.is_late::INT AS responds
  FROM _s s LEFT JOIN _notice n ON n.i = s.i WHERE s.will_deliver),
b AS (
  SELECT a.*, greatest(1, least(5, round(${C.base.value} + ${C.late.value} * a.is_late::INT + ${C.lateDays.value} * least(a.late_days, 5)
      + a.csat_shift
      + ${C.holdNoNotice.value} * (a.hold_days > 0 AND NOT a.notified)::INT + ${C.noise.value} * sn(a.i, 802))))::INT AS score
  FROM a WHERE a.responds AND a.responded_s <= ${asOf})
SELECT 'csat_' || lpad(b.i::VARCHAR, ${w}, '0'), b.order_id, b.shipment_id, ${custId('b.c')}, b.score,
  CASE WHEN su(b.i, 803) < 0.4 THEN (['Terrible', 'Disappointed', 'Okay', 'Good', 'Great'])[b.score] END,
  CASE WHEN su(b.i, 803) < 0.4 THEN (['Package arrived very late and nobody told me.', 'Delivery took longer than promised.',
    'Arrived, nothing special.', 'Arrived on time, thanks.', 'Fast delivery, very happy!'])[b.score] END,
  ${ts('b.sent_s')}, ${ts('b.responded_s')}, 'generator'
FROM b;

INSERT INTO support_contacts
WITH a AS (
  SELECT s.i, s.order_id, s.shipment_id, s.c, s.is_late, s.late_days, s.hold_days, s.will_deliver, s.shipped_s, s.arrive_s, s.promised_s,
    s.exc_s, coalesce(n.contact_shift, 0) AS contact_shift, r.returned, r.reason AS return_reason, r.requested_s
  FROM _s s JOIN _ret r ON r.i = s.i LEFT JOIN _notice n ON n.i = s.i),
x AS (
  SELECT * FROM (
    SELECT a.i, a.order_id, a.shipment_id, a.c, y.kc,
      CASE y.kc WHEN 0 THEN 'wismo' WHEN 1 THEN 'damaged' WHEN 2 THEN 'return' ELSE 'billing' END AS reason,
      CASE y.kc
        WHEN 0 THEN CASE WHEN NOT a.will_deliver THEN a.exc_s + 86400
          WHEN a.is_late THEN a.promised_s + (2 + 28 * su(a.i, 700)) * 3600
          ELSE a.shipped_s + (a.arrive_s - a.shipped_s) * su(a.i, 700) END
        WHEN 1 THEN a.requested_s - 3600 WHEN 2 THEN a.requested_s + 2 * 86400 ELSE a.shipped_s + 86400 * 10 * su(a.i, 703) END AS at_s,
      CASE y.kc
        WHEN 0 THEN su(a.i, 701) < CASE WHEN NOT a.will_deliver THEN ${W.returnToSender.value}
          ELSE greatest(0.005, ${W.base.value} + ${W.late.value} * a.is_late::INT + ${W.lateDays.value} * least(a.late_days, 4)
            + ${W.hold.value} * (a.hold_days > 0)::INT + a.contact_shift) END
        WHEN 1 THEN a.returned AND a.return_reason = 'damaged' WHEN 2 THEN a.returned AND su(a.i, 702) < 0.3 ELSE su(a.i, 704) < 0.003 END AS present
    FROM a CROSS JOIN (SELECT range AS kc FROM range(4)) y)
  WHERE present AND at_s <= ${asOf})
SELECT 'sc_' || lpad(x.i::VARCHAR, ${w}, '0') || '_' || x.kc, ${custId('x.c')}, x.order_id, x.shipment_id,
  CASE WHEN su(x.i * 4 + x.kc, 705) < 0.4 THEN 'email' WHEN su(x.i * 4 + x.kc, 705) < 0.75 THEN 'chat' ELSE 'phone' END,
  x.reason, ${ts('x.at_s')},
  CASE WHEN x.at_s + 3600 * 5 * exp(sn(x.i * 4 + x.kc, 706)) <= ${asOf} THEN ${ts('x.at_s + 3600 * 5 * exp(sn(x.i * 4 + x.kc, 706))')} END
FROM x;`,
  });

  add('nba', 1, { write: nbaWriteSql({ asOf, idWidth: w, custId, ts }) });

  add('truth_transit', 4, {
    prepare: `
-- The three quantiles take one calendar lookup each, so no 3M-row group-by is needed; _tp also
-- carries what the quadrature needs, so that pass does not join _s again.
CREATE OR REPLACE TEMP TABLE _tp AS
WITH a AS (
  SELECT s.i, s.shipped_s, s.dest_off, s.dclass, s.hold_days, s.mu, s.sigma,
    s.shipped_s + 86400 * (s.hold_days + exp(s.mu + s.sigma * qz.z10)) + s.dest_off * 3600 AS a10,
    s.shipped_s + 86400 * (s.hold_days + exp(s.mu + s.sigma * qz.z50)) + s.dest_off * 3600 AS a50,
    s.shipped_s + 86400 * (s.hold_days + exp(s.mu + s.sigma * qz.z90)) + s.dest_off * 3600 AS a90
  FROM _s s CROSS JOIN (SELECT max(z) FILTER (WHERE tag = 'p10') AS z10, max(z) FILTER (WHERE tag = 'p50') AS z50,
    max(z) FILTER (WHERE tag = 'p90') AS z90 FROM _q) qz)
SELECT a.i, a.shipped_s, a.dest_off, a.dclass, a.hold_days, a.mu, a.sigma,
  (${rollForward('a.a10', 'd10', 'a.dest_off')} - a.shipped_s) / 86400 AS p10,
  (${rollForward('a.a50', 'd50', 'a.dest_off')} - a.shipped_s) / 86400 AS p50,
  (${rollForward('a.a90', 'd90', 'a.dest_off')} - a.shipped_s) / 86400 AS p90
-- LEFT joins keep the optimizer from joining the calendars to each other on dclass first (a huge
-- intermediate); every lookup matches, and p10/p50/p90 are NOT NULL in truth_shipment_transit.
FROM a LEFT JOIN _dcal d10 ON d10.dclass = a.dclass AND d10.day = floor(a.a10 / 86400)::INT
LEFT JOIN _dcal d50 ON d50.dclass = a.dclass AND d50.day = floor(a.a50 / 86400)::INT
LEFT JOIN _dcal d90 ON d90.dclass = a.dclass AND d90.day = floor(a.a90 / 86400)::INT;

CREATE OR REPLACE TEMP TABLE _tm AS
WITH a AS (
  SELECT p.i, p.p50, p.shipped_s, p.dest_off, p.dclass, p.shipped_s + 86400 * (p.hold_days + exp(p.mu + p.sigma * q.z)) + p.dest_off * 3600 AS aloc
  FROM _tp p CROSS JOIN _q q WHERE q.tag = 'quad'),
b AS (
  SELECT a.i, a.p50, (${rollForward('a.aloc', 'dc', 'a.dest_off')} - a.shipped_s) / 86400 AS y
  FROM a JOIN _dcal dc ON dc.dclass = a.dclass AND dc.day = floor(a.aloc / 86400)::INT)
SELECT i, avg(y) AS mean_days, avg(abs(y - p50)) AS abs_dev FROM b GROUP BY i;`,
    write: `
INSERT INTO truth_shipment_transit
SELECT s.shipment_id, s.order_id, l.lane_id, s.carrier, s.service_level, s.dclass, 'lognormal_calendar', s.mu, s.sigma, s.hold_days, s.disruption_id,
  p.p50, m.mean_days, m.abs_dev, p.p10, p.p50, p.p90, s.will_deliver, ${ts('s.shipped_s')},
  CASE WHEN s.will_deliver THEN ${ts('s.arrive_s')} END, CASE WHEN s.will_deliver THEN (s.arrive_s - s.shipped_s) / 86400 END,
  ${ts('s.promised_s')}, CASE WHEN s.will_deliver THEN s.is_late END,
  ln(${k.processingMedianHours}), ${k.processingSigma}, ${ts('s.ready_s')}, (s.shipped_s - s.purchased_s) / 86400
FROM _s s JOIN _tp p ON p.i = s.i JOIN _tm m ON m.i = s.i JOIN _lane l ON l.li = s.li;`,
  });

  return stages;
}

/** Temp tables the stages create; dropped when the run ends. */
export const TEMP_TABLES = [
  '_te', '_ord', '_cust', '_items', '_oa', '_s1', '_s2', '_s', '_nba', '_nbv', '_notice', '_bill', '_inv', '_ret', '_mev', '_tp', '_tm',
  '_metro', '_fc', '_lane', '_offer', '_lo', '_cat', '_slot', '_bcal', '_bord', '_dcal', '_dis', '_hub', '_ek', '_name', '_q',
];
