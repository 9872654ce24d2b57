import crypto from 'node:crypto';
import { signStandardWebhook } from '../../src/ingest/signatures.js';

export const SECRET = `whsec_${Buffer.from('test-secret-key-0123456789abcdef').toString('base64')}`;
export const OLD_SECRET = `whsec_${Buffer.from('previous-secret-key-abcdefghijkl').toString('base64')}`;

/** A Standard Webhooks signed request for `POST {base}/webhooks/tracking`. */
export function signedTrackingRequest(base: string, body: unknown, opts: { secret?: string; at?: number; id?: string } = {}): Request {
  const text = JSON.stringify(body);
  const at = opts.at ?? Math.floor(Date.now() / 1000);
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  return new Request(`${base}/webhooks/tracking`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(at),
      'webhook-signature': signStandardWebhook(opts.secret ?? SECRET, id, at, text),
    },
    body: text,
  });
}

export function canonicalEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `ev_${crypto.randomUUID()}`,
    tracking_number: 'TN-1',
    carrier: 'ups',
    status: 'in_transit',
    occurred_at: '2026-01-02T10:00:00Z',
    location: { city: 'Memphis', region: 'TN', country: 'US' },
    ...over,
  };
}
