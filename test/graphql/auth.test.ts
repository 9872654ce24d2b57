import fs from 'node:fs';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, parseBearer } from '../../src/auth/api-keys.js';
import { PERMISSIONS, ROLES, roleAllows, type Permission, type Role } from '../../src/auth/roles.js';
import { rootFieldPermissions } from '../../src/graphql/permissions.js';
import { SCHEMA_PATH } from '../../src/graphql/server.js';
import { codes, createFixture, type Fixture } from './helpers.js';

let fx: Fixture;
/** A key only the revokeApiKey sample revokes (revoking is idempotent, so every allowed role may repeat it). */
let sacrificialKeyId: string;
beforeAll(async () => {
  fx = await createFixture();
  sacrificialKeyId = (await fx.apiKeys.create({ role: 'leadership', label: 'to revoke' })).info.keyId;
});
afterAll(() => fx.close());

/** One sample operation per root field of the core schema. */
const SAMPLES: Record<string, string> = {
  'Query.shipment': `{ shipment(trackingNumber: "TN1") { id } }`,
  'Query.shipments': `{ shipments(first: 1) { edges { cursor } } }`,
  'Query.predictedEta': `{ predictedEta(trackingNumber: "TN1") { p50 } }`,
  'Query.predictedEtas': `{ predictedEtas(trackingNumbers: ["TN1"]) { p50 } }`,
  'Query.models': `{ models { version } }`,
  'Query.model': `{ model(kind: ETA, version: "eta-test-1") { version } }`,
  'Query.trainingJob': `{ trainingJob(id: "none") { id } }`,
  'Mutation.trainModel': `mutation { trainModel(kind: RETURNS) { id status } }`,
  'Query.apiKeys': `{ apiKeys { id role } }`,
  'Mutation.createApiKey': `mutation { createApiKey(role: LEADERSHIP, label: "matrix") { apiKey { id } } }`,
  'Mutation.revokeApiKey': `mutation { revokeApiKey(id: "$SACRIFICIAL") { revokedAt } }`,
  'Mutation.activateModel': `mutation { activateModel(kind: ETA, version: "eta-test-1") { version active } }`,
};

/** Root fields declared in the core part of schema.graphql (before the email section). */
function coreRootFields(): string[] {
  const sdl = fs.readFileSync(SCHEMA_PATH, 'utf8').split('# --- email ---')[0];
  const out: string[] = [];
  for (const def of parse(sdl).definitions) {
    if (def.kind === 'ObjectTypeDefinition' && ['Query', 'Mutation', 'Subscription'].includes(def.name.value)) {
      for (const f of def.fields ?? []) out.push(`${def.name.value}.${f.name.value}`);
    }
  }
  return out;
}

describe('permissions', () => {
  it('every root field names exactly one permission, and the role matrix is as documented', () => {
    const perms = rootFieldPermissions(fx.server.schema);
    for (const f of coreRootFields()) expect(perms.has(f), f).toBe(true);
    expect(Object.keys(SAMPLES).sort()).toEqual(coreRootFields().filter((f) => !f.startsWith('Subscription.')).sort());
    const matrix = Object.fromEntries(ROLES.map((r) => [r, PERMISSIONS.filter((p) => roleAllows(r, p))]));
    expect(matrix).toEqual({
      'email-system': ['SHIPMENTS_READ', 'EMAIL_SEND', 'SCORES_READ'],
      'data-scientist': ['MODELS_READ', 'MODELS_TRAIN', 'SCORES_READ'],
      leadership: ['MODELS_READ', 'REPORTS_READ'],
      admin: [...PERMISSIONS],
    });
  });

  const cases: Array<[string, Role]> = Object.keys(SAMPLES).flatMap((f) => ROLES.map((r) => [f, r] as [string, Role]));
  it.each(cases)('%s as %s: allowed iff the role grants the permission', async (field, role) => {
    const permission = rootFieldPermissions(fx.server.schema).get(field) as Permission;
    const { body } = await fx.gql(SAMPLES[field].replace('$SACRIFICIAL', sacrificialKeyId), undefined, { key: fx.keys[role] });
    if (roleAllows(role, permission)) {
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    } else {
      expect(codes(body)).toEqual(['FORBIDDEN']);
      // Nothing leaks: the field is null (or the whole data, for non-null fields).
      expect(Object.values(body.data ?? {}).every((v) => v === null)).toBe(true);
    }
  });

  it('Subscription.shipmentUpdated: FORBIDDEN for roles without SHIPMENTS_READ', async () => {
    for (const role of ROLES) {
      if (roleAllows(role, 'SHIPMENTS_READ')) continue;
      const res = await fx.server.handler(
        new Request('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${fx.keys[role]}` },
          body: JSON.stringify({ query: 'subscription { shipmentUpdated(trackingNumber: "TN1") { status } }' }),
        }),
      );
      expect(await res.text()).toContain('"code":"FORBIDDEN"');
    }
  });
});

describe('authentication', () => {
  it('lets an admin issue and revoke keys over GraphQL while the service runs', async () => {
    const created = await fx.gql(`mutation { createApiKey(role: EMAIL_SYSTEM, label: "crm", ratePerSecond: 50) { key apiKey { id role label ratePerSecond revokedAt } } }`);
    const { key, apiKey } = created.body.data!.createApiKey;
    expect(apiKey).toMatchObject({ role: 'EMAIL_SYSTEM', label: 'crm', ratePerSecond: 50, revokedAt: null });
    expect((await fx.gql('{ shipment(trackingNumber: "TN1") { id } }', undefined, { key })).body.errors).toBeUndefined();
    const listed = await fx.gql('{ apiKeys { id role } }');
    expect(listed.body.data!.apiKeys).toContainEqual({ id: apiKey.id, role: 'EMAIL_SYSTEM' });
    expect(JSON.stringify(listed.body)).not.toContain(key);
    const revoked = await fx.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`);
    expect(revoked.body.data!.revokeApiKey.revokedAt).not.toBeNull();
    expect((await fx.gql('{ __typename }', undefined, { key })).status).toBe(401);
    expect(codes((await fx.gql(`mutation { revokeApiKey(id: "nope") { id } }`)).body)).toEqual(['NOT_FOUND']);
  });

  it('refuses a missing, malformed, unknown or revoked key with 401 UNAUTHENTICATED', async () => {
    const created = await fx.apiKeys.create({ role: 'admin' });
    expect((await fx.gql('{ __typename }', undefined, { key: created.key })).status).toBe(200);
    await fx.apiKeys.revoke(created.info.keyId);
    const unknown = `sck_000000000000_${'A'.repeat(43)}`;
    for (const key of [null, 'not-a-key', unknown, created.key]) {
      const { status, body, res } = await fx.gql('{ __typename }', undefined, { key });
      expect(status, String(key)).toBe(401);
      expect(codes(body)).toEqual(['UNAUTHENTICATED']);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const basic = await fx.gql('{ __typename }', undefined, { key: null, headers: { authorization: `Basic ${fx.keys.admin}` } });
    expect(basic.status).toBe(401);
  });

  it('stores only the hash of a key', async () => {
    const { key, info } = await fx.apiKeys.create({ role: 'leadership', label: 'dash' });
    const row = await fx.warehouse.one<Record<string, unknown>>('SELECT * FROM api_keys WHERE key_id = $1', [info.keyId]);
    expect(row!.key_hash).toBe(hashKey(key));
    // The secret is everything after the key id; base64url may itself contain '_'.
    expect(JSON.stringify(row)).not.toContain(key.split('_').slice(2).join('_'));
    expect((await fx.apiKeys.list()).map((k) => k.keyId)).toContain(info.keyId);
  });

  it('validates roles and ids', async () => {
    await expect(fx.apiKeys.create({ role: 'root' })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'role' });
    await expect(fx.apiKeys.revoke('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(parseBearer('Bearer abc')).toBe('abc');
    expect(parseBearer('bearer  abc ')).toBe('abc');
    expect(parseBearer('Basic abc')).toBeUndefined();
    expect(parseBearer(null)).toBeUndefined();
  });
});
