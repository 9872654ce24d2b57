/**
 * The parent values resolvers receive (codegen "mappers"): warehouse rows shaped for the API,
 * before field resolvers turn them into schema types. Status strings stay in the warehouse's
 * lower_snake form here; resolvers convert them at the edge.
 */
import type { EtaPrediction } from '../domain/eta.js';

export interface ShipmentRecord {
  shipmentId: string;
  orderId: string;
  trackingNumber: string;
  status: string;
  statusAt: Date | null;
  carrier: string;
  serviceLevel: string;
  isGuaranteed: boolean;
  promisedAt: Date | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  origin: PlaceRecord;
  destination: PlaceRecord;
}

export interface PlaceRecord {
  city: string | null;
  region: string | null;
  country: string | null;
}

export interface OrderRecord {
  orderId: string;
  customerId: string;
  status: string;
  channel: string | null;
  currency: string;
  subtotal: number | null;
  shippingCharged: number | null;
  total: number | null;
  purchasedAt: Date;
}

/** Only the customer columns the API may expose: no email, no street address. */
export interface CustomerRecord {
  customerId: string;
  firstName: string | null;
  locale: string;
  timeZone: string;
  city: string | null;
  region: string | null;
  country: string | null;
}

export interface TrackingEventRecord {
  source: string;
  eventId: string;
  trackingNumber: string;
  status: string;
  carrierStatusCode: string | null;
  description: string | null;
  location: PlaceRecord;
  occurredAt: Date;
}

/** A prediction as the API serves it: the domain prediction plus the tracking number asked for. */
export interface EtaRecord extends EtaPrediction {
  trackingNumber: string;
}

export interface ConnectionRecord<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export interface TrackingEventConnectionRecord extends ConnectionRecord<TrackingEventRecord> {
  totalCount: number;
}

export type TrainingJobStatusValue = 'queued' | 'running' | 'succeeded' | 'failed';

export interface TrainingJobRecord {
  jobId: string;
  kind: string;
  status: TrainingJobStatusValue;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  modelVersion: string | null;
  error: string | null;
}

export type EtaBasisEventRecord = NonNullable<EtaPrediction['latestEvent']>;

export type ShipmentConnectionRecord = ConnectionRecord<ShipmentRecord>;
