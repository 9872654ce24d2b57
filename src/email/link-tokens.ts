import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ShipcastError } from '../errors.js';

/** What a link may do. A token minted for one scope is refused by every other endpoint. */
export type LinkScope = 'track' | 'reschedule' | 'return' | 'survey' | 'eta' | 'unsubscribe';

/**
 * Lifetimes per scope. Action links are short-lived; the live-ETA image and unsubscribe links must
 * keep working while the email sits in an inbox (RFC 8058 asks unsubscribe links to stay valid).
 */
export const LINK_TTL_SECONDS: Record<LinkScope, number> = {
  track: 14 * 86_400,
  reschedule: 3 * 86_400,
  return: 14 * 86_400,
  survey: 14 * 86_400,
  eta: 30 * 86_400,
  unsubscribe: 90 * 86_400,
};

export interface LinkClaims {
  scope: LinkScope;
  /** The message the link was sent in (an opaque random id, never a customer or order id). */
  messageId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** Signs and verifies link tokens: `base64url(scope.messageId.exp).base64url(HMAC-SHA256)`. */
export interface LinkSigner {
  sign(scope: LinkScope, messageId: string, now?: Date): string;
  /** Returns the claims, or throws UNAUTHENTICATED for a tampered, expired or wrongly scoped token. */
  verify(token: string, scope: LinkScope, now?: Date): LinkClaims;
}

export function createLinkSigner(secret: string | Buffer, ttl: Record<LinkScope, number> = LINK_TTL_SECONDS): LinkSigner {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (key.length < 16) throw new ShipcastError('BAD_CONFIG', 'SHIPCAST_LINK_SECRET: must be at least 16 bytes', { field: 'SHIPCAST_LINK_SECRET' });
  const mac = (payload: string) => crypto.createHmac('sha256', key).update(payload).digest();
  const refuse = (why: string) => new ShipcastError('UNAUTHENTICATED', `link token ${why}`, { field: 't' });
  return {
    sign(scope, messageId, now = new Date()) {
      const exp = Math.floor(now.getTime() / 1000) + ttl[scope];
      const payload = Buffer.from(`${scope}.${messageId}.${exp}`, 'utf8').toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token, scope, now = new Date()) {
      const [payload, sig, extra] = token.split('.');
      if (!payload || !sig || extra !== undefined) throw refuse('is malformed');
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(payload);
      if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw refuse('signature is invalid');
      const [s, messageId, expStr] = Buffer.from(payload, 'base64url').toString('utf8').split('.');
      if (s !== scope) throw refuse(`is not valid for ${scope}`);
      const exp = Number(expStr);
      if (!messageId || !Number.isFinite(exp)) throw refuse('is malformed');
      if (exp * 1000 <= now.getTime()) throw refuse('has expired');
      return { scope, messageId, exp };
    },
  };
}

/** True when `resolveLinkSecret` would find a key without creating one (API replicas must not invent their own). */
export function linkSecretReadable(linkSecret: string | undefined, dataDir: string): boolean {
  return Boolean(linkSecret) || fs.existsSync(path.join(dataDir, 'link-secret'));
}

/**
 * The link secret: `config.linkSecret` when set, otherwise a random 32-byte key generated once and
 * persisted (mode 0600) as `<dataDir>/link-secret`, so links survive restarts with no setup.
 */
export function resolveLinkSecret(linkSecret: string | undefined, dataDir: string): Buffer {
  if (linkSecret) return Buffer.from(linkSecret, 'utf8');
  const file = path.join(dataDir, 'link-secret');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const fresh = crypto.randomBytes(32);
  try {
    // 'wx' so two processes starting together agree on whichever key was written first.
    fs.writeFileSync(file, fresh.toString('base64'), { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    throw e;
  }
}
