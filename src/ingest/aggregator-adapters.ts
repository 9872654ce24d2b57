/**
 * Aggregator payloads (AfterShip, EasyPost, Shippo) → canonical tracking events. Pure. A payload
 * whose status cannot be mapped or whose required fields are missing becomes a rejected event
 * naming the aggregator's own field, so the dead letter says exactly what to fix.
 */
import crypto from 'node:crypto';
import { parseCanonicalBody, parseCanonicalEvent, type ParseOutcome } from './canonical-event.js';
import {
  AFTERSHIP_SUBTAGS, AFTERSHIP_TAGS, EASYPOST_STATUS_DETAILS, EASYPOST_STATUSES, SHIPPO_STATUSES, SHIPPO_SUBSTATUSES, mapStatus,
} from './status-mapping.js';

/** What an adapter made of one delivery: events to store, or an authentic payload that carries none. */
export type AdapterResult = { kind: 'events'; outcomes: ParseOutcome[] } | { kind: 'ignored'; reason: string };

export type TrackingSource = 'webhook' | 'aftership' | 'easypost' | 'shippo';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function reject(source: string, raw: unknown, field: string, message: string, eventId?: string): AdapterResult {
  return {
    kind: 'events',
    outcomes: [{ ok: false, rejected: { source, eventId: eventId ?? null, field, reason: `${field}: ${message}`, payload: JSON.stringify(raw) ?? 'null' } }],
  };
}

/** Aggregators sometimes send local times without an offset; those are read as UTC (documented). */
function isoWithOffset(v: string): string {
  return /(?:Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`;
}

/** Builds the canonical event and validates it; a failure is reported against the aggregator payload. */
function finish(source: string, raw: unknown, canonical: Obj): AdapterResult {
  const r = parseCanonicalEvent(canonical, source);
  if (!r.ok) r.rejected.payload = JSON.stringify(raw);
  return { kind: 'events', outcomes: [r] };
}

/** AfterShip tracking webhook: `{event, event_id, msg: {tracking_number, slug, tag, subtag, checkpoints[]}, ts}`. */
export function fromAfterShip(raw: unknown): AdapterResult {
  const src = 'aftership';
  const body = obj(raw);
  if (!body) return reject(src, raw, '(body)', 'expected a JSON object');
  const event = str(body.event);
  if (event !== undefined && event !== 'tracking_update') return { kind: 'ignored', reason: `event ${event} carries no tracking update` };
  const eventId = str(body.event_id);
  if (!eventId) return reject(src, raw, 'event_id', 'required');
  const msg = obj(body.msg);
  if (!msg) return reject(src, raw, 'msg', 'required', eventId);
  const trackingNumber = str(msg.tracking_number);
  if (!trackingNumber) return reject(src, raw, 'msg.tracking_number', 'required', eventId);
  const checkpoints = Array.isArray(msg.checkpoints) ? msg.checkpoints.map(obj).filter((c): c is Obj => c !== undefined) : [];
  const last = checkpoints.at(-1);
  const tag = str(last?.tag) ?? str(msg.tag);
  const subtag = str(last?.subtag) ?? str(msg.subtag);
  const status = mapStatus(AFTERSHIP_TAGS, AFTERSHIP_SUBTAGS, tag, subtag);
  if (!status) return reject(src, raw, 'msg.tag', `unknown AfterShip tag ${JSON.stringify(tag ?? null)}`, eventId);
  const when = str(last?.checkpoint_time) ?? str(msg.updated_at) ?? (num(body.ts) !== undefined ? new Date(num(body.ts)! * 1000).toISOString() : undefined);
  if (!when) return reject(src, raw, 'msg.checkpoints[].checkpoint_time', 'required (no checkpoint time, updated_at or ts)', eventId);
  const coords = Array.isArray(last?.coordinates) ? (last.coordinates as unknown[]) : [];
  return finish(src, raw, {
    event_id: eventId,
    tracking_number: trackingNumber,
    carrier: str(msg.slug),
    status,
    carrier_status_code: subtag ?? tag,
    occurred_at: isoWithOffset(when),
    location: last
      ? { city: str(last.city), region: str(last.state), country: str(last.country_iso3) ?? str(last.country_name), postal_code: str(last.zip), lat: num(coords[0]), lng: num(coords[1]) }
      : undefined,
    description: str(last?.message) ?? str(msg.subtag_message),
  });
}

/** EasyPost Event whose `result` is a Tracker (`tracker.created` / `tracker.updated`). */
export function fromEasyPost(raw: unknown): AdapterResult {
  const src = 'easypost';
  const body = obj(raw);
  if (!body) return reject(src, raw, '(body)', 'expected a JSON object');
  const description = str(body.description);
  if (description !== undefined && !description.startsWith('tracker.')) return { kind: 'ignored', reason: `event ${description} carries no tracking update` };
  const eventId = str(body.id);
  if (!eventId) return reject(src, raw, 'id', 'required');
  const tracker = obj(body.result);
  if (!tracker || tracker.object !== 'Tracker') return reject(src, raw, 'result', 'expected a Tracker object', eventId);
  const trackingNumber = str(tracker.tracking_code);
  if (!trackingNumber) return reject(src, raw, 'result.tracking_code', 'required', eventId);
  const details = Array.isArray(tracker.tracking_details) ? tracker.tracking_details.map(obj).filter((d): d is Obj => d !== undefined) : [];
  const last = details.at(-1);
  const statusCode = str(tracker.status);
  const detailCode = str(tracker.status_detail) ?? str(last?.status_detail);
  const status = mapStatus(EASYPOST_STATUSES, EASYPOST_STATUS_DETAILS, statusCode, detailCode);
  if (!status) return reject(src, raw, 'result.status', `unknown EasyPost status ${JSON.stringify(statusCode ?? null)}`, eventId);
  const when = str(last?.datetime) ?? str(tracker.updated_at) ?? str(body.created_at);
  if (!when) return reject(src, raw, 'result.tracking_details[].datetime', 'required (no detail datetime, updated_at or created_at)', eventId);
  const loc = obj(last?.tracking_location);
  return finish(src, raw, {
    event_id: eventId,
    tracking_number: trackingNumber,
    carrier: str(tracker.carrier),
    status,
    carrier_status_code: detailCode ? `${statusCode}/${detailCode}` : statusCode,
    occurred_at: isoWithOffset(when),
    location: loc ? { city: str(loc.city), region: str(loc.state), country: str(loc.country), postal_code: str(loc.zip) } : undefined,
    description: str(last?.message),
  });
}

/**
 * Shippo `track_updated`. Shippo sends no event id: the status object's `object_id` identifies
 * it, and when absent a digest of (tracking number, status, status date) does, so a redelivery
 * stays a duplicate.
 */
export function fromShippo(raw: unknown): AdapterResult {
  const src = 'shippo';
  const body = obj(raw);
  if (!body) return reject(src, raw, '(body)', 'expected a JSON object');
  const event = str(body.event);
  if (event !== undefined && event !== 'track_updated') return { kind: 'ignored', reason: `event ${event} carries no tracking update` };
  const data = obj(body.data);
  if (!data) return reject(src, raw, 'data', 'required');
  const trackingNumber = str(data.tracking_number);
  if (!trackingNumber) return reject(src, raw, 'data.tracking_number', 'required');
  const ts = obj(data.tracking_status);
  if (!ts) return reject(src, raw, 'data.tracking_status', 'required');
  const statusCode = str(ts.status);
  const sub = str(obj(ts.substatus)?.code);
  const status = mapStatus(SHIPPO_STATUSES, SHIPPO_SUBSTATUSES, statusCode, sub);
  if (!status) return reject(src, raw, 'data.tracking_status.status', `unknown Shippo status ${JSON.stringify(statusCode ?? null)}`);
  const when = str(ts.status_date);
  if (!when) return reject(src, raw, 'data.tracking_status.status_date', 'required');
  const eventId =
    str(ts.object_id) ?? `sha256:${crypto.createHash('sha256').update(`${trackingNumber}|${statusCode}|${sub ?? ''}|${when}`).digest('hex').slice(0, 32)}`;
  const loc = obj(ts.location);
  return finish(src, raw, {
    event_id: eventId,
    tracking_number: trackingNumber,
    carrier: str(data.carrier),
    status,
    carrier_status_code: sub ? `${statusCode}/${sub}` : statusCode,
    occurred_at: isoWithOffset(when),
    location: loc ? { city: str(loc.city), region: str(loc.state), country: str(loc.country), postal_code: str(loc.zip) } : undefined,
    description: str(ts.status_details),
  });
}

/** The parser of each tracking source; dead-letter replay re-runs the same one. */
export const TRACKING_PARSERS: Readonly<Record<string, (raw: unknown, source: string) => AdapterResult>> = {
  aftership: (raw) => fromAfterShip(raw),
  easypost: (raw) => fromEasyPost(raw),
  shippo: (raw) => fromShippo(raw),
};

/** Parses a payload of `source`: an aggregator's format, or the canonical shape for any other source. */
export function parseTrackingPayload(source: string, raw: unknown): AdapterResult {
  const p = TRACKING_PARSERS[source];
  return p ? p(raw, source) : { kind: 'events', outcomes: parseCanonicalBody(raw, source) };
}
