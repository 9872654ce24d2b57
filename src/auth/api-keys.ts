/**
 * API keys: `sck_<keyId>_<secret>` with 256 random bits. Only the SHA-256 of the whole key is
 * stored, so a leaked table cannot be replayed; the key itself is shown once, at creation.
 */
import crypto from 'node:crypto';
import type { Warehouse } from '../warehouse/warehouse.js';
import { ShipcastError, ValidationError } from '../errors.js';
import { isRole, type Role } from './roles.js';

/** Who is calling, once a key has been verified. */
export interface Principal {
  keyId: string;
  role: Role;
  /** Per-key request budget; undefined means the server default. */
  ratePerSecond?: number;
}

export interface ApiKeyInfo {
  keyId: string;
  role: Role;
  label: string | null;
  ratePerSecond: number | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface ApiKeyStore {
  /** Creates a key; the returned `key` is the only copy of the secret. */
  create(opts: { role: string; label?: string; ratePerSecond?: number }): Promise<{ key: string; info: ApiKeyInfo }>;
  list(): Promise<ApiKeyInfo[]>;
  /** Revokes a key (idempotent); NOT_FOUND for an unknown id. */
  revoke(keyId: string): Promise<ApiKeyInfo>;
  /** The principal of a valid, unrevoked key, or undefined. */
  authenticate(key: string): Promise<Principal | undefined>;
}

const KEY_PATTERN = /^sck_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function parseBearer(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

interface KeyRow {
  key_id: string;
  role: string;
  label: string | null;
  rate_per_second: number | null;
  created_at: Date;
  revoked_at: Date | null;
}

function toInfo(r: KeyRow): ApiKeyInfo {
  if (!isRole(r.role)) throw new ShipcastError('INTERNAL', `api key ${r.key_id} has unknown role ${r.role}`);
  return { keyId: r.key_id, role: r.role, label: r.label, ratePerSecond: r.rate_per_second, createdAt: r.created_at, revokedAt: r.revoked_at };
}

const COLUMNS = 'key_id, role, label, rate_per_second, created_at, revoked_at';

/**
 * Warehouse-backed key store. Verified keys are cached for `cacheTtlMs` so that authentication
 * costs no query per request; a revocation through this store takes effect at once.
 */
export function createApiKeyStore(warehouse: Warehouse, opts: { cacheTtlMs?: number; now?: () => number } = {}): ApiKeyStore {
  const ttl = opts.cacheTtlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { principal: Principal; until: number }>();
  const MAX_CACHE = 10_000;

  return {
    async create({ role, label, ratePerSecond }) {
      if (!isRole(role)) throw new ValidationError('role', `must be one of email-system, data-scientist, leadership, admin (got "${role}")`);
      if (ratePerSecond !== undefined && (!Number.isInteger(ratePerSecond) || ratePerSecond < 1)) {
        throw new ValidationError('rate', 'must be a positive integer (requests per second)');
      }
      const keyId = crypto.randomBytes(6).toString('hex');
      const key = `sck_${keyId}_${crypto.randomBytes(32).toString('base64url')}`;
      const createdAt = new Date(now());
      await warehouse.run(
        'INSERT INTO api_keys (key_id, key_hash, role, label, rate_per_second, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [keyId, hashKey(key), role, label ?? null, ratePerSecond ?? null, createdAt],
      );
      return { key, info: { keyId, role, label: label ?? null, ratePerSecond: ratePerSecond ?? null, createdAt, revokedAt: null } };
    },
    async list() {
      return (await warehouse.all<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, key_id`)).map(toInfo);
    },
    async revoke(keyId) {
      const row = await warehouse.one<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_id = $1`, [keyId]);
      if (!row) throw new ShipcastError('NOT_FOUND', `id: no API key ${keyId}`, { field: 'id' });
      if (row.revoked_at === null) {
        row.revoked_at = new Date(now());
        await warehouse.run('UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1', [keyId, row.revoked_at]);
      }
      for (const [h, c] of cache) if (c.principal.keyId === keyId) cache.delete(h);
      return toInfo(row);
    },
    async authenticate(key) {
      if (!KEY_PATTERN.test(key)) return undefined;
      const h = hashKey(key);
      const hit = cache.get(h);
      if (hit && hit.until > now()) return hit.principal;
      const row = await warehouse.one<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [h]);
      if (!row) {
        cache.delete(h);
        return undefined;
      }
      const info = toInfo(row);
      const principal: Principal = { keyId: info.keyId, role: info.role, ratePerSecond: info.ratePerSecond ?? undefined };
      if (cache.size >= MAX_CACHE) cache.clear();
      cache.set(h, { principal, until: now() + ttl });
      return principal;
    },
  };
}
