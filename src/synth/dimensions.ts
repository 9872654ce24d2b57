/**
 * Builds the small dimension tables the SQL stages join against: metros, fulfilment centres,
 * lanes with their planted effects, carrier offers, calendars, disruptions, purchase-time slots
 * and quadrature points. Pure: returns rows, touches no database.
 */
import { FULFILMENT_CENTRES, HUBS, METROS, haversineKm, zoneForDistance } from './geo.js';
import { CARRIER_CODES, CATEGORIES, EVENT_KINDS, FIRST_NAMES, OFFERS, TRACKING_PREFIX, baseMedianDays, deliveryClass, quotedBusinessDays } from './catalog.js';
import { DAY_SECONDS, buildCalendar, dayNumber, deliveryRollForward, dayOfWeek, type CalendarDay } from './calendar.js';
import { mulberry32, normal, normalQuantile } from './random.js';
import type { SynthKnobs } from './knobs.js';
import { tempTableSql, type Literal } from './sql-literals.js';

export interface Lane {
  li: number;
  laneId: string;
  fi: number;
  mi: number;
  distanceKm: number;
  zone: number;
  mult: number;
  planted: string | null;
}

export interface Disruption {
  id: string;
  kind: 'weather' | 'customs';
  region: string;
  country: string;
  /** Shipments handed off in [fromS, toS] (epoch seconds) to the region are held. */
  fromS: number;
  toS: number;
  startsS: number;
  endsS: number;
  extraDays: number;
}

export interface Dimensions {
  lanes: Lane[];
  disruptions: Disruption[];
  calendar: CalendarDay[];
  /** Epoch seconds of the first purchase slot. */
  historyStartS: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function cumulative(weights: readonly number[]): number[] {
  const total = sum(weights);
  let acc = 0;
  return weights.map((w) => {
    const lo = acc / total;
    acc += w;
    return lo;
  });
}

/** Lanes (fulfilment centre × metro) with distance, zone and the planted transit multiplier. */
export function buildLanes(knobs: SynthKnobs, rand: () => number): Lane[] {
  const lanes: Lane[] = [];
  FULFILMENT_CENTRES.forEach((fc, fi) =>
    METROS.forEach((mt, mi) => {
      const laneId = `${fc.code}>${mt.code}`;
      const distanceKm = Math.round(haversineKm(fc.lat, fc.lng, mt.lat, mt.lng) * 10) / 10;
      let mult = Math.exp(knobs.laneSigma * normal(rand));
      let planted: string | null = null;
      if (laneId === knobs.slowLane) [mult, planted] = [knobs.slowLaneMult, 'slow'];
      else if (laneId === knobs.mildLane) [mult, planted] = [knobs.mildLaneMult, 'mild'];
      lanes.push({ li: fi * METROS.length + mi, laneId, fi, mi, distanceKm, zone: zoneForDistance(distanceKm), mult: Math.round(mult * 1e4) / 1e4, planted });
    }),
  );
  return lanes;
}

/** Time-windowed, region-scoped weather disruptions (US) and customs holds (Canada). */
export function buildDisruptions(knobs: SynthKnobs, rand: () => number, fromS: number, toS: number): Disruption[] {
  const out: Disruption[] = [];
  const usRegions = [...new Set(METROS.filter((m) => m.country === 'US').map((m) => m.region))];
  const caRegions = [...new Set(METROS.filter((m) => m.country === 'CA').map((m) => m.region))];
  const spanDays = (toS - fromS) / DAY_SECONDS;
  const plant = (kind: 'weather' | 'customs', per30: number, regions: string[], country: string, lead: number, minDays: number, maxDays: number) => {
    const n = Math.max(1, Math.round((per30 * spanDays) / 30));
    for (let k = 0; k < n; k++) {
      const startsS = Math.round(fromS + rand() * (toS - fromS));
      const endsS = Math.round(startsS + (1 + 3 * rand()) * DAY_SECONDS);
      const region = regions[Math.floor(rand() * regions.length)];
      const extraDays = Math.round((minDays + (maxDays - minDays) * rand()) * 100) / 100;
      out.push({ id: `${kind === 'weather' ? 'wx' : 'cu'}-${String(k + 1).padStart(3, '0')}`, kind, region, country, fromS: startsS - lead * DAY_SECONDS, toS: endsS, startsS, endsS, extraDays });
    }
  };
  plant('weather', knobs.weatherEventsPer30Days, usRegions, 'US', 2, 0.8, 3);
  plant('customs', knobs.customsHoldsPer30Days, caRegions, 'CA', 1, 1.5, 4);
  return out;
}

/** Relative order intensity of an hour: weekday, local hour of day, growth trend and the holiday peak. */
export function purchaseIntensity(startS: number, historyStartS: number): number {
  const localHour = Math.floor(((startS / 3600 - 6) % 24 + 24) % 24);
  const day = Math.floor(startS / DAY_SECONDS);
  const dowF = [0.9, 1.1, 1.05, 1.0, 1.0, 0.95, 0.85][dayOfWeek(day)];
  const hourF = 0.25 + Math.exp(-((localHour - 20) ** 2) / 18) + 0.6 * Math.exp(-((localHour - 12) ** 2) / 8);
  const trend = Math.exp((0.3 * (startS - historyStartS)) / (365 * DAY_SECONDS));
  const date = new Date(startS * 1000);
  const md = date.getUTCMonth() * 100 + date.getUTCDate();
  const peak = md >= 1124 && md <= 1220 ? 1.6 : 1;
  return dowF * hourF * trend * peak;
}

/** Everything JS-built, plus the SQL that materializes it as temp tables. */
export function buildDimensions(seed: number, asOf: Date, knobs: SynthKnobs): Dimensions & { sql: string } {
  const rand = mulberry32(seed ^ 0x5eed);
  const asOfS = Math.floor(asOf.getTime() / 1000);
  const slotCount = knobs.historyDays * 24;
  const historyStartS = asOfS - slotCount * 3600;
  // Calendar covers processing before the first order and the longest possible transit after asOf.
  const calendar = buildCalendar(dayNumber(new Date(historyStartS * 1000)) - 3, dayNumber(asOf) + 400);
  const lanes = buildLanes(knobs, rand);
  const disruptions = buildDisruptions(knobs, rand, historyStartS, asOfS + 20 * DAY_SECONDS);

  const metroCum = cumulative(METROS.map((m) => m.weight));
  const metroRows: Literal[][] = METROS.map((mt, mi) => {
    let nearest = 0;
    let best = Infinity;
    FULFILMENT_CENTRES.forEach((fc, fi) => {
      const d = haversineKm(fc.lat, fc.lng, mt.lat, mt.lng);
      if (d < best) [best, nearest] = [d, fi];
    });
    return [mi, mt.code, mt.city, mt.region, mt.country, mt.postalPrefix, mt.lat, mt.lng, mt.utcOffset, mt.timeZone, mt.locale, mt.country !== 'US', metroCum[mi], nearest];
  });
  const fcRows = FULFILMENT_CENTRES.map((fc, fi) => [fi, fc.code, fc.city, fc.region, fc.country, fc.postalPrefix, fc.lat, fc.lng, fc.utcOffset]);
  const laneRows = lanes.map((l) => [l.li, l.laneId, l.fi, l.mi, l.distanceKm, l.zone, l.mult, l.planted]);

  const domestic = OFFERS.map((o, oi) => ({ o, oi })).filter((x) => !x.o.international);
  const intl = OFFERS.map((o, oi) => ({ o, oi })).filter((x) => x.o.international);
  const offerRows: Literal[][] = [];
  for (const group of [domestic, intl]) {
    const cum = cumulative(group.map((x) => x.o.share));
    group.forEach(({ o, oi }, k) =>
      offerRows.push([oi, o.carrier, o.serviceLevel, o.kind, o.international, o.guaranteed, cum[k], deliveryClass(o.kind), o.baseFee, o.perKg, TRACKING_PREFIX[o.carrier]]),
    );
  }
  const laneOfferRows: Literal[][] = [];
  for (const l of lanes) {
    const isIntl = METROS[l.mi].country !== 'US';
    OFFERS.forEach((o, oi) => {
      if (o.international !== isIntl) return;
      const chart = baseMedianDays(o.kind, l.zone, l.distanceKm) * o.carrierMult;
      laneOfferRows.push([l.li, oi, Math.log(chart * l.mult), o.sigma, chart, quotedBusinessDays(o.kind, chart)]);
    });
  }
  const catCum = cumulative(CATEGORIES.map((c) => c.share));
  const catRows = CATEGORIES.map((c, ci) => [ci, c.name, catCum[ci], Math.log(c.priceMedian), c.priceSigma, Math.log(c.weightMedianG), c.returnLogit]);

  // Purchase-time slots: one per hour of history, sampled by inverse CDF of their intensity.
  const weights: number[] = [];
  for (let k = 0; k < slotCount; k++) weights.push(purchaseIntensity(historyStartS + k * 3600, historyStartS));
  const slotCum = cumulative(weights);
  const slotRows = weights.map((_, k) => [slotCum[k], historyStartS + k * 3600]);

  let bord = 0;
  const bcalRows: Literal[][] = [];
  const bordRows: Literal[][] = [];
  const nextBdayAfter = new Map<number, number>();
  let next: number | null = null;
  for (let k = calendar.length - 1; k >= 0; k--) {
    if (next !== null) nextBdayAfter.set(calendar[k].day, next);
    if (calendar[k].businessDay) next = calendar[k].day;
  }
  for (const d of calendar) {
    if (d.businessDay) {
      bord += 1;
      bordRows.push([bord, d.day]);
    }
    bcalRows.push([d.day, d.businessDay, nextBdayAfter.get(d.day) ?? null, bord, d.peakLog, d.holiday, d.delivers.ground, d.delivers.express]);
  }
  const dcalRows: Literal[][] = [];
  for (const cls of ['ground', 'express'] as const) for (const r of deliveryRollForward(calendar, cls)) dcalRows.push([cls, r.day, r.target, r.blockStart]);

  const disRows = disruptions.map((d) => [d.id, d.kind, d.region, d.country, d.fromS, d.toS, d.extraDays, d.startsS, d.endsS]);
  const hubRows = HUBS.map((h, hi) => [hi, h.city, h.region, h.country, h.postalCode, h.lat, h.lng]);
  const ekRows: Literal[][] = [];
  for (const [carrier, codes] of Object.entries(CARRIER_CODES)) EVENT_KINDS.forEach((e, k) => ekRows.push([carrier, k, e.kind, e.status, codes[k], e.description]));
  const nameRows = FIRST_NAMES.map((n, k) => [k, n]);
  const q = knobs.quadraturePoints;
  const qRows: Literal[][] = [['p10', normalQuantile(0.1)], ['p50', 0], ['p90', normalQuantile(0.9)]];
  // Quadrature nodes: the mean of Z within each of q equal-probability cells. Unlike cell midpoints
  // they stay accurate in the tails (E|Y - median| within 0.5% at q = 16 for sigma <= 0.4).
  const phi = (x: number) => (Number.isFinite(x) ? Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI) : 0);
  for (let k = 0; k < q; k++) {
    const a = k === 0 ? -Infinity : normalQuantile(k / q);
    const b = k === q - 1 ? Infinity : normalQuantile((k + 1) / q);
    qRows.push(['quad', q * (phi(a) - phi(b))]);
  }

  const sql = [
    tempTableSql('_metro', [['mi', 'INTEGER'], ['code', 'VARCHAR'], ['city', 'VARCHAR'], ['region', 'VARCHAR'], ['country', 'VARCHAR'], ['postal_prefix', 'VARCHAR'], ['lat', 'DOUBLE'], ['lng', 'DOUBLE'], ['off', 'DOUBLE'], ['tz', 'VARCHAR'], ['locale', 'VARCHAR'], ['intl', 'BOOLEAN'], ['cum_lo', 'DOUBLE'], ['nearest_fi', 'INTEGER']], metroRows),
    tempTableSql('_fc', [['fi', 'INTEGER'], ['code', 'VARCHAR'], ['city', 'VARCHAR'], ['region', 'VARCHAR'], ['country', 'VARCHAR'], ['postal_prefix', 'VARCHAR'], ['lat', 'DOUBLE'], ['lng', 'DOUBLE'], ['off', 'DOUBLE']], fcRows),
    tempTableSql('_lane', [['li', 'INTEGER'], ['lane_id', 'VARCHAR'], ['fi', 'INTEGER'], ['mi', 'INTEGER'], ['distance_km', 'DOUBLE'], ['zone', 'INTEGER'], ['lane_mult', 'DOUBLE'], ['planted', 'VARCHAR']], laneRows),
    tempTableSql('_offer', [['oi', 'INTEGER'], ['carrier', 'VARCHAR'], ['service_level', 'VARCHAR'], ['kind', 'VARCHAR'], ['intl', 'BOOLEAN'], ['guaranteed', 'BOOLEAN'], ['cum_lo', 'DOUBLE'], ['dclass', 'VARCHAR'], ['base_fee', 'DOUBLE'], ['per_kg', 'DOUBLE'], ['tn_prefix', 'VARCHAR']], offerRows),
    tempTableSql('_lo', [['li', 'INTEGER'], ['oi', 'INTEGER'], ['mu', 'DOUBLE'], ['sigma', 'DOUBLE'], ['chart_median', 'DOUBLE'], ['quoted_bdays', 'INTEGER']], laneOfferRows),
    tempTableSql('_cat', [['ci', 'INTEGER'], ['name', 'VARCHAR'], ['cum_lo', 'DOUBLE'], ['price_mu', 'DOUBLE'], ['price_sigma', 'DOUBLE'], ['weight_mu', 'DOUBLE'], ['return_logit', 'DOUBLE']], catRows),
    tempTableSql('_slot', [['cum_lo', 'DOUBLE'], ['start_s', 'DOUBLE']], slotRows),
    tempTableSql('_bcal', [['day', 'INTEGER'], ['is_bday', 'BOOLEAN'], ['next_bday_after', 'INTEGER'], ['bord', 'INTEGER'], ['peak_log', 'DOUBLE'], ['holiday', 'VARCHAR'], ['ground_delivers', 'BOOLEAN'], ['express_delivers', 'BOOLEAN']], bcalRows),
    tempTableSql('_bord', [['bord', 'INTEGER'], ['day', 'INTEGER']], bordRows),
    tempTableSql('_dcal', [['dclass', 'VARCHAR'], ['day', 'INTEGER'], ['target', 'INTEGER'], ['block_start', 'INTEGER']], dcalRows),
    tempTableSql('_dis', [['disruption_id', 'VARCHAR'], ['kind', 'VARCHAR'], ['region', 'VARCHAR'], ['country', 'VARCHAR'], ['from_s', 'DOUBLE'], ['to_s', 'DOUBLE'], ['extra_days', 'DOUBLE'], ['starts_s', 'DOUBLE'], ['ends_s', 'DOUBLE']], disRows),
    tempTableSql('_hub', [['hi', 'INTEGER'], ['city', 'VARCHAR'], ['region', 'VARCHAR'], ['country', 'VARCHAR'], ['postal_code', 'VARCHAR'], ['lat', 'DOUBLE'], ['lng', 'DOUBLE']], hubRows),
    tempTableSql('_ek', [['carrier', 'VARCHAR'], ['k', 'INTEGER'], ['kind', 'VARCHAR'], ['status', 'VARCHAR'], ['code', 'VARCHAR'], ['description', 'VARCHAR']], ekRows),
    tempTableSql('_name', [['ni', 'INTEGER'], ['name', 'VARCHAR']], nameRows),
    tempTableSql('_q', [['tag', 'VARCHAR'], ['z', 'DOUBLE']], qRows),
  ].join('\n');
  return { lanes, disruptions, calendar, historyStartS, sql };
}
