/**
 * Mapping tables from each aggregator's status vocabulary into the normalized taxonomy
 * (`tracking_statuses` in 001_core.sql). A detail/subtag entry wins over the coarse status.
 * docs/INGESTION.md reproduces these tables; keep them in sync.
 */
import type { TrackingStatus } from './canonical-event.js';

/** AfterShip `tag` → status. */
export const AFTERSHIP_TAGS: Readonly<Record<string, TrackingStatus>> = {
  Pending: 'pending',
  InfoReceived: 'info_received',
  InTransit: 'in_transit',
  OutForDelivery: 'out_for_delivery',
  AttemptFail: 'failed_attempt',
  AvailableForPickup: 'available_for_pickup',
  Delivered: 'delivered',
  Exception: 'exception',
  Expired: 'expired',
};

/** AfterShip `subtag` refinements (return-to-sender is reported as an Exception subtag). */
export const AFTERSHIP_SUBTAGS: Readonly<Record<string, TrackingStatus>> = {
  Exception_010: 'return_to_sender',
  Exception_011: 'return_to_sender',
};

/** EasyPost Tracker `status` → status. */
export const EASYPOST_STATUSES: Readonly<Record<string, TrackingStatus>> = {
  unknown: 'pending',
  pre_transit: 'info_received',
  in_transit: 'in_transit',
  out_for_delivery: 'out_for_delivery',
  available_for_pickup: 'available_for_pickup',
  delivered: 'delivered',
  return_to_sender: 'return_to_sender',
  failure: 'exception',
  error: 'exception',
  cancelled: 'exception',
};

/** EasyPost `status_detail` refinements. */
export const EASYPOST_STATUS_DETAILS: Readonly<Record<string, TrackingStatus>> = {
  delayed: 'delivery_delayed',
  weather_delay: 'delivery_delayed',
  attempted_delivery: 'failed_attempt',
  return: 'return_to_sender',
  lost: 'exception',
  damaged: 'exception',
  refused: 'exception',
  held: 'exception',
  expired: 'expired',
};

/** Shippo `tracking_status.status` → status. */
export const SHIPPO_STATUSES: Readonly<Record<string, TrackingStatus>> = {
  UNKNOWN: 'pending',
  PRE_TRANSIT: 'info_received',
  TRANSIT: 'in_transit',
  DELIVERED: 'delivered',
  RETURNED: 'return_to_sender',
  FAILURE: 'exception',
};

/** Shippo `tracking_status.substatus.code` refinements. */
export const SHIPPO_SUBSTATUSES: Readonly<Record<string, TrackingStatus>> = {
  out_for_delivery: 'out_for_delivery',
  delivery_attempted: 'failed_attempt',
  notice_left: 'failed_attempt',
  delayed: 'delivery_delayed',
  pickup_available: 'available_for_pickup',
  return_to_sender: 'return_to_sender',
  package_damaged: 'exception',
  package_lost: 'exception',
  package_held: 'exception',
  package_undeliverable: 'exception',
  address_issue: 'exception',
};

/** Looks a code up in a detail table, then the coarse table; undefined when neither knows it. */
export function mapStatus(
  coarse: Readonly<Record<string, TrackingStatus>>,
  detail: Readonly<Record<string, TrackingStatus>>,
  status: string | undefined,
  detailCode: string | undefined | null,
): TrackingStatus | undefined {
  if (detailCode && Object.hasOwn(detail, detailCode)) return detail[detailCode];
  return status !== undefined && Object.hasOwn(coarse, status) ? coarse[status] : undefined;
}
