import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, parsePersistedOperations } from '../../src/graphql/persisted-operations.js';
import { codes, createFixture, type Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

/** Limit rejections are client errors: nothing executes, and the message names the limit. */
const rejected = ({ status, body }: { status: number; body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }, pattern: RegExp) => {
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(1);
  expect(['BAD_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']).toContain(body.errors![0].extensions?.code);
  expect(body.errors![0].message).toMatch(pattern);
  expect(body.data ?? null).toBeNull();
};

describe('static limits (graphql-armor)', () => {
  it('rejects a query deeper than 10 levels (introspection included)', async () => {
    let sel = 'name';
    for (let i = 0; i < 9; i++) sel = `ofType { ${sel} }`;
    const deep = await fx.gql(`{ __type(name: "Shipment") { fields { type { ${sel} } } } }`);
    rejected(deep, /depth/i);
    const ok = await fx.gql(`{ __type(name: "Shipment") { fields { type { ofType { name } } } } }`);
    expect(ok.body.errors).toBeUndefined();
  });

  it('rejects a query whose cost exceeds the budget (page sizes multiply)', async () => {
    rejected(await fx.gql(`{ shipments(first: 100) { edges { node { events(first: 100) { edges { node { eventId status } } } } } } }`), /cost/i);
    const page = await fx.gql(`{ shipments(first: 100) { edges { node { trackingNumber eta { p50 } order { customer { locale } } } } } }`);
    expect(page.body.errors).toBeUndefined();
  });

  it('rejects more than 15 aliases', async () => {
    const alias = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: shipment(trackingNumber: "TN1") { id }`).join(' ')} }`;
    expect((await fx.gql(alias(15))).body.errors).toBeUndefined();
    rejected(await fx.gql(alias(16)), /alias/i);
  });

  it('rejects a document with too many tokens', async () => {
    rejected(await fx.gql(`{ ${Array.from({ length: 2600 }, () => '__typename').join(' ')} }`), /token/i);
  });

  it('rejects too many directives', async () => {
    rejected(await fx.gql(`{ __typename ${Array.from({ length: 11 }, () => '@skip(if: false)').join(' ')} }`), /directive/i);
  });
});

describe('request limits', () => {
  it('refuses an oversized body with 413 before authenticating or parsing', async () => {
    const res = await fx.server.handler(
      new Request('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(130 * 1024) } }),
      }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rate-limits per key with 429 RATE_LIMITED and Retry-After, leaving other keys alone', async () => {
    const slow = (await fx.apiKeys.create({ role: 'admin', ratePerSecond: 2 })).key;
    const statuses: number[] = [];
    let last: Awaited<ReturnType<Fixture['gql']>> | undefined;
    for (let i = 0; i < 6; i++) {
      last = await fx.gql('{ __typename }', undefined, { key: slow });
      statuses.push(last.status);
    }
    // A burst of twice the per-second rate passes, then the key is held to its rate.
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    expect(codes(last!.body)).toEqual(['RATE_LIMITED']);
    expect(Number(last!.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await fx.gql('{ __typename }')).status).toBe(200);
  });
});

describe('development mode', () => {
  it('serves GraphiQL to a browser without a key, but executes nothing without one', async () => {
    const dev = await createFixture({ graphiql: true });
    try {
      const page = await dev.server.handler(new Request('http://localhost/graphql', { headers: { accept: 'text/html' } }));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/graphiql/i);
      const query = await dev.server.handler(new Request('http://localhost/graphql?query=%7B__typename%7D', { headers: { accept: 'application/json' } }));
      expect(query.status).toBe(401);
    } finally {
      await dev.close();
    }
  });
});

describe('metrics', () => {
  it('counts requests refused before execution, by reason', async () => {
    const { Registry } = await import('prom-client');
    const metrics = new Registry();
    const m = await createFixture({ metrics });
    try {
      await m.gql('{ __typename }', undefined, { key: null });
      const text = await metrics.metrics();
      expect(text).toMatch(/shipcast_graphql_rejected_total\{reason="UNAUTHENTICATED"\} 1/);
    } finally {
      await m.close();
    }
  });
});

describe('persisted operations only', () => {
  const query = '{ shipment(trackingNumber: "TN1") { trackingNumber } }';
  let persisted: Fixture;
  beforeAll(async () => {
    persisted = await createFixture({ persistedOnly: true, persistedOperations: parsePersistedOperations(JSON.stringify({ [sha256Hex(query)]: query }), 'test') });
  });
  afterAll(() => persisted.close());

  const send = (payload: unknown) =>
    persisted.server.handler(
      new Request('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${persisted.keys.admin}` },
        body: JSON.stringify(payload),
      }),
    );

  it('runs a known persisted operation by hash', async () => {
    const res = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } });
    expect(await res.json()).toEqual({ data: { shipment: { trackingNumber: 'TN1' } } });
  });

  it('refuses arbitrary documents and unknown hashes', async () => {
    const arbitrary = (await (await send({ query })).json()) as any;
    expect(arbitrary.errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
    const unknown = (await (await send({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex('{ __typename }') } } })).json()) as any;
    expect(unknown.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses a manifest whose keys are not the hashes of their documents', () => {
    expect(() => parsePersistedOperations(JSON.stringify({ abc: query }), 'manifest.json')).toThrow(/not the sha256/);
  });
});
