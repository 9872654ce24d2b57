/**
 * Webhook signature schemes. Every comparison is constant-time (`crypto.timingSafeEqual` over
 * fixed-length digests) and every function is pure over (headers, raw body, secrets, now).
 * A failure returns a reason for the log; the reason never contains a secret or the body.
 */
import crypto from 'node:crypto';

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Five minutes, as the Standard Webhooks spec recommends. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

function hmac(key: Buffer | string, data: Buffer | string): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest();
}

/** Compares a computed digest with a received one without leaking where they differ. */
export function digestsEqual(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && crypto.timingSafeEqual(expected, received);
}

/** Constant-time equality of two strings (hashed first, so their lengths do not leak either). */
export function secretsEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest());
}

function decodeBase64(s: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(s) ? Buffer.from(s, 'base64') : undefined;
}

function decodeHex(s: string): Buffer | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(s) ? Buffer.from(s, 'hex') : undefined;
}

function checkTimestamp(raw: string | null | undefined, now: Date, toleranceSeconds: number): VerifyResult {
  if (!raw) return fail('missing timestamp');
  if (!/^\d{1,12}$/.test(raw)) return fail('malformed timestamp');
  const skew = Math.abs(now.getTime() / 1000 - Number(raw));
  return skew > toleranceSeconds ? fail(`timestamp outside the ${toleranceSeconds}s tolerance`) : { ok: true };
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks (https://www.standardwebhooks.com): the canonical /webhooks/tracking scheme.

/** The HMAC key of a `whsec_<base64>` secret; any other string is used as its own UTF-8 bytes. */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** Builds the `webhook-signature` value for a message (senders, tests, the bench). */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${hmac(standardWebhookKey(secret), `${id}.${timestamp}.${body}`).toString('base64')}`;
}

/**
 * Verifies `webhook-id` / `webhook-timestamp` / `webhook-signature`. The signature header may
 * carry several space-separated `v1,<base64>` entries and `secrets` may list several keys
 * (rotation): any match passes.
 */
export function verifyStandardWebhook(
  headers: Headers,
  body: string,
  secrets: readonly string[],
  now: Date = new Date(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (secrets.length === 0) return fail('no secret configured');
  const id = headers.get('webhook-id');
  const sigHeader = headers.get('webhook-signature');
  if (!id) return fail('missing webhook-id');
  if (!sigHeader) return fail('missing webhook-signature');
  const ts = headers.get('webhook-timestamp');
  const t = checkTimestamp(ts, now, toleranceSeconds);
  if (!t.ok) return t;
  const received = sigHeader
    .split(' ')
    .map((s) => s.split(','))
    .filter(([version, sig]) => version === 'v1' && sig !== undefined)
    .map(([, sig]) => decodeBase64(sig))
    .filter((b): b is Buffer => b !== undefined);
  if (received.length === 0) return fail('no v1 signature');
  const content = `${id}.${ts}.${body}`;
  for (const secret of secrets) {
    const expected = hmac(standardWebhookKey(secret), content);
    for (const r of received) if (digestsEqual(expected, r)) return { ok: true };
  }
  return fail('signature mismatch');
}

// ---------------------------------------------------------------------------------------------
// AfterShip tracking: `aftership-hmac-sha256` = base64(HMAC-SHA256(secret, raw body)).

export function signAfterShip(secret: string, body: string): string {
  return hmac(secret, body).toString('base64');
}

export function verifyAfterShip(headers: Headers, body: string, secret: string | undefined): VerifyResult {
  if (!secret) return fail('no secret configured');
  const header = headers.get('aftership-hmac-sha256');
  if (!header) return fail('missing aftership-hmac-sha256');
  const received = decodeBase64(header.trim());
  if (!received) return fail('malformed aftership-hmac-sha256');
  return digestsEqual(hmac(secret, body), received) ? { ok: true } : fail('signature mismatch');
}

// ---------------------------------------------------------------------------------------------
// EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(secret), raw body)>`.

export function signEasyPost(secret: string, body: string): string {
  return `hmac-sha256-hex=${hmac(secret.normalize('NFKD'), body).toString('hex')}`;
}

export function verifyEasyPost(headers: Headers, body: string, secret: string | undefined): VerifyResult {
  if (!secret) return fail('no secret configured');
  const header = headers.get('x-hmac-signature');
  if (!header) return fail('missing x-hmac-signature');
  const m = /^hmac-sha256-hex=([0-9a-fA-F]+)$/.exec(header.trim());
  const received = m ? decodeHex(m[1]) : undefined;
  if (!received) return fail('malformed x-hmac-signature');
  return digestsEqual(hmac(secret.normalize('NFKD'), body), received) ? { ok: true } : fail('signature mismatch');
}

// ---------------------------------------------------------------------------------------------
// Shippo. Its docs offer an IP allowlist, a self-generated `?token=` on the webhook URL, and HMAC
// (enabled through Shippo support). We accept either the token or the HMAC header
// `Shippo-Auth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` with
// the 5-minute tolerance; the IP allowlist belongs in the reverse proxy.

export function signShippo(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmac(secret, `${timestamp}.${body}`).toString('hex')}`;
}

export function verifyShippo(
  headers: Headers,
  url: URL,
  body: string,
  secret: string | undefined,
  now: Date = new Date(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (!secret) return fail('no secret configured');
  const header = headers.get('shippo-auth-signature');
  if (header) {
    const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
    const t = parts.get('t');
    const ts = checkTimestamp(t, now, toleranceSeconds);
    if (!ts.ok) return ts;
    const received = decodeHex(parts.get('v1') ?? '');
    if (!received) return fail('malformed shippo-auth-signature');
    return digestsEqual(hmac(secret, `${t}.${body}`), received) ? { ok: true } : fail('signature mismatch');
  }
  const token = url.searchParams.get('token');
  if (token === null) return fail('missing shippo-auth-signature and token');
  return secretsEqual(secret, token) ? { ok: true } : fail('token mismatch');
}

// ---------------------------------------------------------------------------------------------
// Mailgun: `signature.signature` = hex HMAC-SHA256(signing key, timestamp + token).

export interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
}

export function signMailgun(signingKey: string, timestamp: string, token: string): string {
  return hmac(signingKey, timestamp + token).toString('hex');
}

/** Checks the HMAC and the timestamp; the token's freshness is checked against the store. */
export function verifyMailgun(
  sig: MailgunSignature,
  signingKey: string | undefined,
  now: Date = new Date(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (!signingKey) return fail('no signing key configured');
  const t = checkTimestamp(sig.timestamp, now, toleranceSeconds);
  if (!t.ok) return t;
  const received = decodeHex(sig.signature);
  if (!received) return fail('malformed signature');
  return digestsEqual(hmac(signingKey, sig.timestamp + sig.token), received) ? { ok: true } : fail('signature mismatch');
}
