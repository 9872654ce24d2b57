/**
 * Small fixed dimensions (places, event kinds, carrier codes) inlined into the big INSERTs as SQL
 * list literals. A hash join anywhere in an INSERT's plan stops DuckDB from using its parallel,
 * order-preserving batch insert: the whole statement then runs on one thread. A constant list
 * indexed per row needs no join, so those INSERTs use every core and still write in key order.
 */
import { CARRIER_CODES, EVENT_KINDS, OFFERS } from './catalog.js';
import { FULFILMENT_CENTRES, HUBS, METROS } from './geo.js';
import { lit, type Literal } from './sql-literals.js';

/** `values[idx]` for a 0-based SQL index expression, as a constant list of `type`. */
export function pick(values: readonly Literal[], idx: string, type: 'VARCHAR' | 'DOUBLE' | 'INTEGER'): string {
  return `([${values.map(lit).join(', ')}]::${type}[])[(${idx}) + 1]`;
}

/**
 * Every place a scan can happen at, as one list: fulfilment centres (index `fi`), then hubs
 * (`FULFILMENT_CENTRES.length + hi`), then metros (`… + HUBS.length + mi`).
 */
export const PLACES = [
  ...FULFILMENT_CENTRES.map((f) => ({ city: f.city, region: f.region, country: f.country, postal: f.postalPrefix, lat: f.lat, lng: f.lng })),
  ...HUBS.map((h) => ({ city: h.city, region: h.region, country: h.country, postal: h.postalCode, lat: h.lat, lng: h.lng })),
  ...METROS.map((m) => ({ city: m.city, region: m.region, country: m.country, postal: m.postalPrefix, lat: m.lat, lng: m.lng })),
];
export const HUB_BASE = FULFILMENT_CENTRES.length;
export const METRO_BASE = FULFILMENT_CENTRES.length + HUBS.length;

const CARRIERS = Object.keys(CARRIER_CODES);

/** Carrier index (into CARRIER_CODES' keys) of offer `oi`. */
export const offerCarrier = (oi: string): string => pick(OFFERS.map((o) => CARRIERS.indexOf(o.carrier)), oi, 'INTEGER');

/** Normalized status, carrier's raw code and description of event kind `ek` (EVENT_KINDS index) for offer `oi`. */
export function eventKindColumns(ek: string, oi: string): { status: string; code: string; description: string } {
  return {
    status: pick(EVENT_KINDS.map((e) => e.status), ek, 'VARCHAR'),
    code: pick(CARRIERS.flatMap((c) => CARRIER_CODES[c]), `${offerCarrier(oi)} * ${EVENT_KINDS.length} + ${ek}`, 'VARCHAR'),
    description: pick(EVENT_KINDS.map((e) => e.description), ek, 'VARCHAR'),
  };
}
