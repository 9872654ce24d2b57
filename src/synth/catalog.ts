/**
 * What the synthetic merchant sells and how it ships: product categories, carriers, their
 * service offers and the transit, pricing and promise rules attached to them.
 */

export interface Category {
  name: string;
  /** Share of order lines. */
  share: number;
  priceMedian: number;
  priceSigma: number;
  weightMedianG: number;
  /** Additive effect on the log-odds of a return. */
  returnLogit: number;
}

export const CATEGORIES: readonly Category[] = [
  { name: 'apparel', share: 0.24, priceMedian: 35, priceSigma: 0.6, weightMedianG: 450, returnLogit: 1.3 },
  { name: 'shoes', share: 0.1, priceMedian: 80, priceSigma: 0.45, weightMedianG: 1100, returnLogit: 1.1 },
  { name: 'electronics', share: 0.14, priceMedian: 120, priceSigma: 0.9, weightMedianG: 900, returnLogit: -0.1 },
  { name: 'home', share: 0.16, priceMedian: 45, priceSigma: 0.7, weightMedianG: 2200, returnLogit: -0.4 },
  { name: 'beauty', share: 0.12, priceMedian: 22, priceSigma: 0.5, weightMedianG: 300, returnLogit: -0.9 },
  { name: 'toys', share: 0.09, priceMedian: 30, priceSigma: 0.6, weightMedianG: 800, returnLogit: -0.5 },
  { name: 'books', share: 0.07, priceMedian: 18, priceSigma: 0.4, weightMedianG: 600, returnLogit: -1.2 },
  { name: 'sports', share: 0.08, priceMedian: 55, priceSigma: 0.7, weightMedianG: 1800, returnLogit: 0 },
];

export type ServiceKind = 'ground' | 'express' | 'overnight' | 'intl_standard' | 'intl_express';

export interface Offer {
  carrier: string;
  serviceLevel: string;
  kind: ServiceKind;
  international: boolean;
  guaranteed: boolean;
  /** Share of shipments choosing this offer among domestic (or international) ones. */
  share: number;
  /** Carrier-specific multiplier on the service's base median transit. */
  carrierMult: number;
  /** Log-scale spread of transit days. */
  sigma: number;
  baseFee: number;
  perKg: number;
}

export const OFFERS: readonly Offer[] = [
  { carrier: 'blueline', serviceLevel: 'ground', kind: 'ground', international: false, guaranteed: false, share: 0.4, carrierMult: 1.0, sigma: 0.28, baseFee: 7.2, perKg: 0.9 },
  { carrier: 'redwood', serviceLevel: 'ground', kind: 'ground', international: false, guaranteed: false, share: 0.3, carrierMult: 1.1, sigma: 0.36, baseFee: 6.6, perKg: 0.85 },
  { carrier: 'blueline', serviceLevel: 'express', kind: 'express', international: false, guaranteed: true, share: 0.12, carrierMult: 1.0, sigma: 0.22, baseFee: 16.5, perKg: 2.1 },
  { carrier: 'redwood', serviceLevel: 'express', kind: 'express', international: false, guaranteed: false, share: 0.1, carrierMult: 1.08, sigma: 0.26, baseFee: 14.9, perKg: 1.9 },
  { carrier: 'blueline', serviceLevel: 'overnight', kind: 'overnight', international: false, guaranteed: true, share: 0.08, carrierMult: 1.0, sigma: 0.18, baseFee: 29, perKg: 3.4 },
  { carrier: 'polaris', serviceLevel: 'international_standard', kind: 'intl_standard', international: true, guaranteed: false, share: 0.75, carrierMult: 1.0, sigma: 0.4, baseFee: 18, perKg: 3 },
  { carrier: 'polaris', serviceLevel: 'international_express', kind: 'intl_express', international: true, guaranteed: false, share: 0.25, carrierMult: 1.0, sigma: 0.3, baseFee: 38, perKg: 5.5 },
];

/** Base median transit in days (hand-off → delivery) before carrier, lane and seasonal effects. */
export function baseMedianDays(kind: ServiceKind, zone: number, distanceKm: number): number {
  switch (kind) {
    case 'ground':
      return [1.2, 1.8, 2.6, 3.3, 4.0, 4.6, 5.2][zone - 2];
    case 'express':
      return 1.5 + 0.08 * (zone - 2);
    case 'overnight':
      return 0.85 + 0.03 * (zone - 2);
    case 'intl_standard':
      return 4 + distanceKm / 1200;
    case 'intl_express':
      return 1.8 + distanceKm / 3000;
  }
}

/**
 * Business days after the hand-off day that the checkout promises. Quotes come from the carrier's
 * published chart, which knows zones but not lane-specific slowness, so slow lanes run late.
 */
export function quotedBusinessDays(kind: ServiceKind, chartMedianDays: number): number {
  switch (kind) {
    case 'ground':
      return Math.ceil(chartMedianDays * 1.25);
    case 'express':
      return 2;
    case 'overnight':
      return 1;
    case 'intl_standard':
      return Math.ceil(chartMedianDays * 1.2) + 1;
    case 'intl_express':
      return 3;
  }
}

/** Which delivery calendar a service follows (ground-like services skip holidays). */
export function deliveryClass(kind: ServiceKind): 'ground' | 'express' {
  return kind === 'ground' || kind === 'intl_standard' ? 'ground' : 'express';
}

/** Kinds of tracking event the generator emits, with their normalized status. */
export const EVENT_KINDS = [
  { kind: 'label', status: 'info_received', description: 'Shipment information received' },
  { kind: 'pickup', status: 'in_transit', description: 'Picked up' },
  { kind: 'depart_origin', status: 'in_transit', description: 'Departed origin facility' },
  { kind: 'arrive_hub', status: 'in_transit', description: 'Arrived at sort facility' },
  { kind: 'depart_hub', status: 'in_transit', description: 'Departed sort facility' },
  { kind: 'weather_delay', status: 'delivery_delayed', description: 'Delayed by severe weather' },
  { kind: 'customs_hold', status: 'delivery_delayed', description: 'Held by customs for inspection' },
  { kind: 'address_issue', status: 'exception', description: 'Address information needed' },
  { kind: 'damaged', status: 'exception', description: 'Package damaged in transit' },
  { kind: 'out_for_delivery', status: 'out_for_delivery', description: 'Out for delivery' },
  { kind: 'failed_attempt', status: 'failed_attempt', description: 'Delivery attempted: no one available' },
  { kind: 'delivered', status: 'delivered', description: 'Delivered' },
  { kind: 'return_to_sender', status: 'return_to_sender', description: 'Returning to sender' },
] as const;

/** Each carrier's raw status codes, in EVENT_KINDS order: the normalizer's job is to map these. */
export const CARRIER_CODES: Record<string, readonly string[]> = {
  blueline: ['MP', 'PU', 'DP', 'AR', 'DP', 'WX', 'CH', 'AD', 'DM', 'OD', 'NA', 'DL', 'RS'],
  redwood: ['003', '010', '015', '020', '021', '050', '051', '060', '061', '040', '045', '099', '070'],
  polaris: ['PX-LBL', 'PX-ACC', 'PX-DEP', 'PX-ARR', 'PX-DEP', 'PX-WTH', 'PX-CUS', 'PX-ADR', 'PX-DMG', 'PX-OFD', 'PX-NAT', 'PX-POD', 'PX-RTS'],
};

/** Tracking number prefix per carrier. */
export const TRACKING_PREFIX: Record<string, string> = { blueline: 'BL', redwood: 'RW', polaris: 'PX' };

/** First names for customers (kept short; emails use example.com, a reserved domain). */
export const FIRST_NAMES = ['Ava', 'Liam', 'Noah', 'Emma', 'Mia', 'Lucas', 'Sofia', 'Ethan', 'Chloe', 'Mateo', 'Aria', 'Leo', 'Zoe', 'Omar', 'Priya', 'Wei', 'Fatima', 'Diego', 'Hana', 'Kofi', 'Nina', 'Ivan', 'Lea', 'Sam'];
