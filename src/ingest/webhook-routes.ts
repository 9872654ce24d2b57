/**
 * HTTP surface of ingestion: `POST /webhooks/tracking` (canonical, Standard Webhooks),
 * `/webhooks/tracking/{aftership,easypost,shippo}` and `/webhooks/mailgun`. Every request goes
 * through the same gate — rate limit, content type, body size, signature — before anything is
 * parsed; nothing from a refused request is stored.
 */
import type { Config } from '../config.js';
import { isShipcastError } from '../errors.js';
import type { Route } from '../http/router.js';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { parseTrackingPayload } from './aggregator-adapters.js';
import type { RejectedEvent, TrackingEventInput } from './canonical-event.js';
import type { TrackingEventStore } from './event-store.js';
import { isJsonContentType, readBodyLimited } from './http-body.js';
import type { IngestMetrics } from './ingest-metrics.js';
import { mailgunSignatureOf, recordMailgunDelivery, MAILGUN_SOURCE } from './mailgun-events.js';
import type { RateLimiter } from './rate-limit.js';
import { verifyAfterShip, verifyEasyPost, verifyMailgun, verifyShippo, verifyStandardWebhook, type VerifyResult } from './signatures.js';

export interface WebhookDeps {
  config: Config;
  log: Logger;
  warehouse: Warehouse;
  store: TrackingEventStore;
  metrics: IngestMetrics;
  limiter: RateLimiter;
  bodyLimitBytes: number;
  toleranceSeconds: number;
  /** Mailgun's timestamp window; wider, because its persisted tokens are the replay defence (see docs/INGESTION.md). */
  mailgunToleranceSeconds: number;
  now: () => Date;
}

const errorJson = (status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers?: HeadersInit) =>
  Response.json({ error: { code, message, ...extra } }, { status, headers });

type Verifier = (req: Request, body: string, d: WebhookDeps) => VerifyResult;

/** The signature scheme of each tracking source (the canonical one is labelled `webhook`). */
const TRACKING_VERIFIERS: Readonly<Record<string, Verifier>> = {
  webhook: (req, body, d) => verifyStandardWebhook(req.headers, body, d.config.webhooks.secrets, d.now(), d.toleranceSeconds),
  aftership: (req, body, d) => verifyAfterShip(req.headers, body, d.config.webhooks.aftershipSecret),
  easypost: (req, body, d) => verifyEasyPost(req.headers, body, d.config.webhooks.easypostSecret),
  shippo: (req, body, d) => verifyShippo(req.headers, new URL(req.url), body, d.config.webhooks.shippoSecret, d.now(), d.toleranceSeconds),
};

/**
 * The gate shared by every webhook: returns the raw body, or the refusal to send. Logs say why,
 * never the secret, the signature or the body.
 */
async function admit(req: Request, source: string, d: WebhookDeps): Promise<{ body: string } | { refusal: Response }> {
  const refuse = (reason: string, res: Response) => {
    d.metrics.rejected.inc({ source, reason });
    return { refusal: res };
  };
  const wait = d.limiter.take(source);
  if (wait > 0) {
    return refuse('rate_limited', errorJson(429, 'RATE_LIMITED', `rate limit for ${source} exceeded`, {}, { 'retry-after': String(Math.max(1, Math.ceil(wait))) }));
  }
  if (!isJsonContentType(req.headers.get('content-type'))) {
    return refuse('bad_content_type', errorJson(415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type: expected application/json', { field: 'content-type' }));
  }
  try {
    return { body: await readBodyLimited(req, d.bodyLimitBytes) };
  } catch (e) {
    if (isShipcastError(e) && e.code === 'PAYLOAD_TOO_LARGE') return refuse('too_large', errorJson(413, e.code, e.message, { field: 'body' }));
    throw e;
  }
}

function unauthenticated(source: string, reason: string, d: WebhookDeps): Response {
  d.metrics.rejected.inc({ source, reason: 'unauthenticated' });
  d.log.warn({ source, reason }, 'webhook refused: not authenticated');
  return errorJson(401, 'UNAUTHENTICATED', 'signature verification failed');
}

/** Stores what a tracking delivery carried and answers only after the commit. */
async function ingestTracking(source: string, body: string, d: WebhookDeps): Promise<Response> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    const rejected: RejectedEvent = { source, eventId: null, field: 'body', reason: `body: not valid JSON (${(e as Error).message})`, payload: body };
    await d.store.submit([], [rejected]);
    d.metrics.events.inc({ source, outcome: 'dead_lettered' });
    return errorJson(400, 'BAD_INPUT', rejected.reason, { field: 'body' });
  }
  const parsed = parseTrackingPayload(source, json);
  if (parsed.kind === 'ignored') {
    d.metrics.events.inc({ source, outcome: 'ignored' });
    return Response.json({ accepted: 0, duplicates: 0, ignored: parsed.reason });
  }
  const events: TrackingEventInput[] = [];
  const rejected: RejectedEvent[] = [];
  for (const o of parsed.outcomes) o.ok ? events.push(o.event) : rejected.push(o.rejected);
  d.metrics.events.inc({ source, outcome: 'received' }, parsed.outcomes.length);
  const r = await d.store.submit(events, rejected);
  if (r.accepted) d.metrics.events.inc({ source, outcome: 'accepted' }, r.accepted);
  if (r.duplicates) d.metrics.events.inc({ source, outcome: 'duplicate' }, r.duplicates);
  if (r.deadLettered) d.metrics.events.inc({ source, outcome: 'dead_lettered' }, r.deadLettered);
  const counts = { accepted: r.accepted, duplicates: r.duplicates, dead_lettered: r.deadLettered };
  if (rejected.length === 0) return Response.json(counts);
  d.log.info({ source, field: rejected[0].field, count: rejected.length }, 'malformed events dead-lettered');
  return Response.json(
    { error: { code: 'BAD_INPUT', message: rejected[0].reason, field: rejected[0].field }, ...counts, rejected: rejected.map((x) => ({ field: x.field, reason: x.reason })) },
    { status: 422 },
  );
}

function trackingRoute(path: string, source: string, d: WebhookDeps): Route {
  return {
    method: 'POST',
    path,
    handler: async (req) => {
      const t0 = performance.now();
      const gate = await admit(req, source, d);
      if ('refusal' in gate) return gate.refusal;
      const v = TRACKING_VERIFIERS[source](req, gate.body, d);
      if (!v.ok) return unauthenticated(source, v.reason, d);
      try {
        return await ingestTracking(source, gate.body, d);
      } catch (err) {
        d.log.error({ err, source }, 'ingest failed; nothing acknowledged');
        return errorJson(500, 'INTERNAL', 'could not store the events; retry');
      } finally {
        d.metrics.latency.observe({ source }, (performance.now() - t0) / 1000);
      }
    },
  };
}

/**
 * Mailgun retries any non-2xx except 406, so an authentic event we cannot use is dead-lettered
 * and answered 406 (naming the field): retrying would not fix it, `replay dead-letters` will.
 */
function mailgunRoute(d: WebhookDeps): Route {
  const source = MAILGUN_SOURCE;
  return {
    method: 'POST',
    path: '/webhooks/mailgun',
    handler: async (req) => {
      const t0 = performance.now();
      const gate = await admit(req, source, d);
      if ('refusal' in gate) return gate.refusal;
      let json: unknown;
      try {
        json = JSON.parse(gate.body);
      } catch {
        return unauthenticated(source, 'body is not JSON, so it carries no signature', d);
      }
      const sig = mailgunSignatureOf(json);
      if (!sig) return unauthenticated(source, 'missing signature block', d);
      const v = verifyMailgun(sig, d.config.mail.mailgun.webhookSigningKey, d.now(), d.mailgunToleranceSeconds);
      if (!v.ok) return unauthenticated(source, v.reason, d);
      try {
        d.metrics.events.inc({ source, outcome: 'received' });
        const r = await recordMailgunDelivery(d.warehouse, sig.token, json, d.now());
        if (r.outcome === 'replayed') return unauthenticated(source, 'replayed token', d);
        if (r.outcome === 'dead_lettered') {
          d.metrics.events.inc({ source, outcome: 'dead_lettered' });
          return errorJson(406, 'BAD_INPUT', r.rejected!.reason, { field: r.rejected!.field });
        }
        d.metrics.events.inc({ source, outcome: r.outcome });
        return Response.json({ accepted: r.outcome === 'accepted' ? 1 : 0, duplicates: r.outcome === 'duplicate' ? 1 : 0 });
      } catch (err) {
        d.log.error({ err, source }, 'mailgun event not stored; nothing acknowledged');
        return errorJson(500, 'INTERNAL', 'could not store the event; retry');
      } finally {
        d.metrics.latency.observe({ source }, (performance.now() - t0) / 1000);
      }
    },
  };
}

/** The five webhook routes. */
export function webhookRoutes(d: WebhookDeps): Route[] {
  return [
    trackingRoute('/webhooks/tracking', 'webhook', d),
    trackingRoute('/webhooks/tracking/aftership', 'aftership', d),
    trackingRoute('/webhooks/tracking/easypost', 'easypost', d),
    trackingRoute('/webhooks/tracking/shippo', 'shippo', d),
    mailgunRoute(d),
  ];
}
