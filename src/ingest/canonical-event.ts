/**
 * The canonical tracking event every way in (webhooks, aggregator adapters, NDJSON, streams) is
 * normalized to before it is stored. Pure: validation only, no I/O.
 */
import { z } from 'zod';

/** The normalized taxonomy; mirrors the rows of `tracking_statuses` in 001_core.sql. */
export const TRACKING_STATUSES = [
  'pending', 'info_received', 'in_transit', 'delivery_delayed', 'out_for_delivery', 'failed_attempt',
  'available_for_pickup', 'exception', 'return_to_sender', 'delivered', 'expired',
] as const;
export type TrackingStatus = (typeof TRACKING_STATUSES)[number];

const text = (max: number) => z.string().trim().min(1).max(max);

const LocationSchema = z.object({
  city: text(200).optional().nullable(),
  region: text(200).optional().nullable(),
  country: text(3).optional().nullable(),
  postal_code: text(32).optional().nullable(),
  lat: z.number().min(-90).max(90).optional().nullable(),
  lng: z.number().min(-180).max(180).optional().nullable(),
});

/** Wire shape of `POST /webhooks/tracking` and of each NDJSON line. */
export const CanonicalEventSchema = z.object({
  event_id: text(200),
  tracking_number: text(100),
  carrier: text(100).optional().nullable(),
  status: z.enum(TRACKING_STATUSES),
  carrier_status_code: text(200).optional().nullable(),
  occurred_at: z.iso.datetime({ offset: true }),
  location: LocationSchema.optional().nullable(),
  description: z.string().max(2000).optional().nullable(),
});

/** A validated event ready to be stored. */
export interface TrackingEventInput {
  source: string;
  eventId: string;
  trackingNumber: string;
  carrier: string | null;
  status: TrackingStatus;
  carrierStatusCode: string | null;
  description: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  postalCode: string | null;
  lat: number | null;
  lng: number | null;
  occurredAt: Date;
}

/** An authentic event that failed validation; it goes to the dead-letter table. */
export interface RejectedEvent {
  source: string;
  eventId: string | null;
  /** Dotted path of the first offending field, e.g. `[2].occurred_at` or `msg.tag`. */
  field: string;
  reason: string;
  /** The raw event, re-serialized for storage and replay. */
  payload: string;
}

export type ParseOutcome = { ok: true; event: TrackingEventInput } | { ok: false; rejected: RejectedEvent };

/** Formats a zod issue path as `a.b[0].c`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(body)' : out;
}

function rawEventId(raw: unknown): string | null {
  const id = (raw as { event_id?: unknown } | null)?.event_id;
  return typeof id === 'string' && id.length > 0 ? id.slice(0, 200) : null;
}

/** Validates one canonical event; `prefix` locates it in the request (e.g. `[3]`). */
export function parseCanonicalEvent(raw: unknown, source: string, prefix = ''): ParseOutcome {
  const r = CanonicalEventSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = fieldPath(prefix, issue.path);
    return { ok: false, rejected: { source, eventId: rawEventId(raw), field, reason: `${field}: ${issue.message}`, payload: JSON.stringify(raw) ?? 'null' } };
  }
  const e = r.data;
  const loc = e.location ?? {};
  return {
    ok: true,
    event: {
      source,
      eventId: e.event_id,
      trackingNumber: e.tracking_number,
      carrier: e.carrier ?? null,
      status: e.status,
      carrierStatusCode: e.carrier_status_code ?? null,
      description: e.description ?? null,
      city: loc.city ?? null,
      region: loc.region ?? null,
      country: loc.country ?? null,
      postalCode: loc.postal_code ?? null,
      lat: loc.lat ?? null,
      lng: loc.lng ?? null,
      occurredAt: new Date(e.occurred_at),
    },
  };
}

/** A request body holds one event or an array of them; each element is validated on its own. */
export function parseCanonicalBody(body: unknown, source: string): ParseOutcome[] {
  if (Array.isArray(body)) return body.map((raw, i) => parseCanonicalEvent(raw, source, `[${i}]`));
  return [parseCanonicalEvent(body, source)];
}
