/**
 * Geography of the synthetic world: destination metros, fulfilment centres and sort hubs with
 * real-ish coordinates, plus the distance and zone rules carriers price and route by.
 */

/** A merchant warehouse parcels are handed off from. */
export interface FulfilmentCentre {
  code: string;
  city: string;
  region: string;
  country: string;
  postalPrefix: string;
  lat: number;
  lng: number;
  /** Fixed UTC offset in hours (standard time; DST is ignored on purpose, see docs/SYNTHETIC.md). */
  utcOffset: number;
}

/** A destination metro area customers live in. */
export interface Metro extends FulfilmentCentre {
  timeZone: string;
  locale: string;
  /** Relative share of customers. */
  weight: number;
}

const m = (code: string, city: string, region: string, country: string, postalPrefix: string, lat: number, lng: number, utcOffset: number, timeZone: string, weight: number, locale = 'en'): Metro =>
  ({ code, city, region, country, postalPrefix, lat, lng, utcOffset, timeZone, locale, weight });

export const METROS: readonly Metro[] = [
  m('NYC', 'New York', 'NY', 'US', '100', 40.71, -74.01, -5, 'America/New_York', 20),
  m('LAX', 'Los Angeles', 'CA', 'US', '900', 34.05, -118.24, -8, 'America/Los_Angeles', 13),
  m('CHI', 'Chicago', 'IL', 'US', '606', 41.88, -87.63, -6, 'America/Chicago', 9.5),
  m('HOU', 'Houston', 'TX', 'US', '770', 29.76, -95.37, -6, 'America/Chicago', 7),
  m('PHX', 'Phoenix', 'AZ', 'US', '850', 33.45, -112.07, -7, 'America/Phoenix', 5),
  m('PHL', 'Philadelphia', 'PA', 'US', '191', 39.95, -75.17, -5, 'America/New_York', 6),
  m('SAT', 'San Antonio', 'TX', 'US', '782', 29.42, -98.49, -6, 'America/Chicago', 2.5),
  m('SAN', 'San Diego', 'CA', 'US', '921', 32.72, -117.16, -8, 'America/Los_Angeles', 3.3),
  m('DAL', 'Dallas', 'TX', 'US', '752', 32.78, -96.8, -6, 'America/Chicago', 7.6),
  m('SJC', 'San Jose', 'CA', 'US', '951', 37.34, -121.89, -8, 'America/Los_Angeles', 2),
  m('AUS', 'Austin', 'TX', 'US', '787', 30.27, -97.74, -6, 'America/Chicago', 2.3),
  m('JAX', 'Jacksonville', 'FL', 'US', '322', 30.33, -81.66, -5, 'America/New_York', 1.6),
  m('CMH', 'Columbus', 'OH', 'US', '432', 39.96, -83.0, -5, 'America/New_York', 2.1),
  m('CLT', 'Charlotte', 'NC', 'US', '282', 35.23, -80.84, -5, 'America/New_York', 2.7),
  m('SEA', 'Seattle', 'WA', 'US', '981', 47.61, -122.33, -8, 'America/Los_Angeles', 4),
  m('DEN', 'Denver', 'CO', 'US', '802', 39.74, -104.99, -7, 'America/Denver', 3),
  m('BOS', 'Boston', 'MA', 'US', '021', 42.36, -71.06, -5, 'America/New_York', 4.9),
  m('BNA', 'Nashville', 'TN', 'US', '372', 36.16, -86.78, -6, 'America/Chicago', 2),
  m('DTT', 'Detroit', 'MI', 'US', '482', 42.33, -83.05, -5, 'America/Detroit', 4.3),
  m('PDX', 'Portland', 'OR', 'US', '972', 45.52, -122.68, -8, 'America/Los_Angeles', 2.5),
  m('LAS', 'Las Vegas', 'NV', 'US', '891', 36.17, -115.14, -8, 'America/Los_Angeles', 2.3),
  m('ATL', 'Atlanta', 'GA', 'US', '303', 33.75, -84.39, -5, 'America/New_York', 6.1),
  m('MIA', 'Miami', 'FL', 'US', '331', 25.76, -80.19, -5, 'America/New_York', 6.1),
  m('MSP', 'Minneapolis', 'MN', 'US', '554', 44.98, -93.27, -6, 'America/Chicago', 3.7),
  m('YTO', 'Toronto', 'ON', 'CA', 'M5V', 43.65, -79.38, -5, 'America/Toronto', 3, 'en-CA'),
  m('YVR', 'Vancouver', 'BC', 'CA', 'V6B', 49.28, -123.12, -8, 'America/Vancouver', 1.5, 'en-CA'),
  m('YMQ', 'Montreal', 'QC', 'CA', 'H2Y', 45.5, -73.57, -5, 'America/Toronto', 1.8, 'fr-CA'),
];

export const FULFILMENT_CENTRES: readonly FulfilmentCentre[] = [
  { code: 'RNO', city: 'Reno', region: 'NV', country: 'US', postalPrefix: '895', lat: 39.53, lng: -119.81, utcOffset: -8 },
  { code: 'DFW', city: 'Fort Worth', region: 'TX', country: 'US', postalPrefix: '761', lat: 32.76, lng: -97.33, utcOffset: -6 },
  { code: 'CMH', city: 'Groveport', region: 'OH', country: 'US', postalPrefix: '431', lat: 39.85, lng: -82.89, utcOffset: -5 },
  { code: 'ABE', city: 'Allentown', region: 'PA', country: 'US', postalPrefix: '181', lat: 40.6, lng: -75.49, utcOffset: -5 },
];

/** Carrier sort hubs that appear in in-transit scans. */
export const HUBS: readonly { city: string; region: string; country: string; postalCode: string; lat: number; lng: number }[] = [
  { city: 'Memphis', region: 'TN', country: 'US', postalCode: '38118', lat: 35.06, lng: -89.98 },
  { city: 'Louisville', region: 'KY', country: 'US', postalCode: '40209', lat: 38.17, lng: -85.74 },
  { city: 'Indianapolis', region: 'IN', country: 'US', postalCode: '46241', lat: 39.72, lng: -86.29 },
  { city: 'Ontario', region: 'CA', country: 'US', postalCode: '91761', lat: 34.06, lng: -117.6 },
  { city: 'Hodgkins', region: 'IL', country: 'US', postalCode: '60525', lat: 41.77, lng: -87.86 },
  { city: 'Atlanta', region: 'GA', country: 'US', postalCode: '30349', lat: 33.64, lng: -84.43 },
  { city: 'Secaucus', region: 'NJ', country: 'US', postalCode: '07094', lat: 40.79, lng: -74.06 },
  { city: 'Salt Lake City', region: 'UT', country: 'US', postalCode: '84104', lat: 40.76, lng: -111.98 },
  { city: 'Kansas City', region: 'MO', country: 'US', postalCode: '64153', lat: 39.3, lng: -94.71 },
  { city: 'Mesquite', region: 'TX', country: 'US', postalCode: '75149', lat: 32.77, lng: -96.6 },
];

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km between two lat/lng points (haversine). */
export function haversineKm(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLng = (lng2 - lng1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Upper distance bounds (km) of zones 2..7, after the usual US parcel zone chart (150, 300, 600, 1000, 1400, 1800 miles). */
const ZONE_BOUNDS_KM = [241, 483, 966, 1609, 2253, 2897];

/** Carrier pricing zone 2..8 for a hand-off → destination distance. */
export function zoneForDistance(km: number): number {
  if (!Number.isFinite(km) || km < 0) throw new RangeError(`distance must be a non-negative number, got ${km}`);
  const i = ZONE_BOUNDS_KM.findIndex((b) => km < b);
  return i === -1 ? 8 : i + 2;
}
