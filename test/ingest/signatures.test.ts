import { describe, expect, it } from 'vitest';
import {
  signAfterShip, signEasyPost, signMailgun, signShippo, signStandardWebhook,
  verifyAfterShip, verifyEasyPost, verifyMailgun, verifyShippo, verifyStandardWebhook,
} from '../../src/ingest/signatures.js';
import { OLD_SECRET, SECRET } from './helpers.js';

const body = '{"event_id":"e1"}';
const now = new Date('2026-03-01T12:00:00Z');
const ts = Math.floor(now.getTime() / 1000);

function swHeaders(sig: string, t = ts, id = 'msg_1'): Headers {
  return new Headers({ 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': sig });
}

describe('Standard Webhooks', () => {
  it('accepts a valid signature and matches the spec test vector', () => {
    expect(verifyStandardWebhook(swHeaders(signStandardWebhook(SECRET, 'msg_1', ts, body)), body, [SECRET], now)).toEqual({ ok: true });
    // Test vector from the Standard Webhooks spec repository.
    const vector = signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(vector).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('refuses a tampered body, a wrong secret and a missing header', () => {
    const sig = signStandardWebhook(SECRET, 'msg_1', ts, body);
    expect(verifyStandardWebhook(swHeaders(sig), '{"event_id":"e2"}', [SECRET], now)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifyStandardWebhook(swHeaders(sig), body, [OLD_SECRET], now).ok).toBe(false);
    expect(verifyStandardWebhook(new Headers({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts) }), body, [SECRET], now)).toEqual({ ok: false, reason: 'missing webhook-signature' });
    expect(verifyStandardWebhook(swHeaders(sig), body, [], now)).toEqual({ ok: false, reason: 'no secret configured' });
  });

  it('refuses timestamps outside the 5-minute tolerance, in either direction', () => {
    for (const t of [ts - 301, ts + 301]) {
      const r = verifyStandardWebhook(swHeaders(signStandardWebhook(SECRET, 'msg_1', t, body), t), body, [SECRET], now);
      expect(r.ok).toBe(false);
    }
    const edge = ts - 299;
    expect(verifyStandardWebhook(swHeaders(signStandardWebhook(SECRET, 'msg_1', edge, body), edge), body, [SECRET], now).ok).toBe(true);
  });

  it('supports rotation: several configured secrets and several signatures in the header', () => {
    const oldSig = signStandardWebhook(OLD_SECRET, 'msg_1', ts, body);
    expect(verifyStandardWebhook(swHeaders(oldSig), body, [SECRET, OLD_SECRET], now).ok).toBe(true);
    const both = `v1,AAAA ${signStandardWebhook(SECRET, 'msg_1', ts, body)}`;
    expect(verifyStandardWebhook(swHeaders(both), body, [SECRET], now).ok).toBe(true);
    expect(verifyStandardWebhook(swHeaders(oldSig.replace('v1,', 'v2,')), body, [OLD_SECRET], now)).toEqual({ ok: false, reason: 'no v1 signature' });
  });
});

describe('aggregator schemes', () => {
  it('AfterShip: base64 HMAC of the body in aftership-hmac-sha256', () => {
    const h = new Headers({ 'aftership-hmac-sha256': signAfterShip('as-secret', body) });
    expect(verifyAfterShip(h, body, 'as-secret').ok).toBe(true);
    expect(verifyAfterShip(h, body, 'other').ok).toBe(false);
    expect(verifyAfterShip(h, `${body} `, 'as-secret').ok).toBe(false);
    expect(verifyAfterShip(new Headers(), body, 'as-secret')).toEqual({ ok: false, reason: 'missing aftership-hmac-sha256' });
  });

  it('EasyPost: hmac-sha256-hex= in X-Hmac-Signature, secret NFKD-normalized', () => {
    const secret = 'ｓｅｃｒｅｔ'; // full-width letters normalize to "secret" under NFKD
    const h = new Headers({ 'x-hmac-signature': signEasyPost('secret', body) });
    expect(verifyEasyPost(h, body, secret).ok).toBe(true);
    expect(verifyEasyPost(new Headers({ 'x-hmac-signature': 'sha1=abc' }), body, 'secret')).toEqual({ ok: false, reason: 'malformed x-hmac-signature' });
    expect(verifyEasyPost(h, body, 'nope').ok).toBe(false);
  });

  it('Shippo: HMAC header with timestamp, or the URL token, both compared in constant time', () => {
    const url = new URL('http://x/webhooks/tracking/shippo');
    const h = new Headers({ 'shippo-auth-signature': signShippo('sh-secret', ts, body) });
    expect(verifyShippo(h, url, body, 'sh-secret', now).ok).toBe(true);
    expect(verifyShippo(h, url, body, 'sh-secret', new Date(now.getTime() + 400_000)).ok).toBe(false);
    expect(verifyShippo(new Headers(), new URL('http://x/?token=sh-secret'), body, 'sh-secret', now).ok).toBe(true);
    expect(verifyShippo(new Headers(), new URL('http://x/?token=guess'), body, 'sh-secret', now)).toEqual({ ok: false, reason: 'token mismatch' });
    expect(verifyShippo(new Headers(), url, body, 'sh-secret', now).ok).toBe(false);
  });

  it('Mailgun: hex HMAC of timestamp+token', () => {
    const sig = { timestamp: String(ts), token: 'tok-1', signature: signMailgun('mg-key', String(ts), 'tok-1') };
    expect(verifyMailgun(sig, 'mg-key', now).ok).toBe(true);
    expect(verifyMailgun({ ...sig, token: 'tok-2' }, 'mg-key', now).ok).toBe(false);
    expect(verifyMailgun(sig, 'mg-key', new Date(now.getTime() + 3_600_000)).ok).toBe(false);
    expect(verifyMailgun(sig, undefined, now)).toEqual({ ok: false, reason: 'no signing key configured' });
  });
});
