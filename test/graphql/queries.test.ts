import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULK, codes, createFixture, DAY, type Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

describe('shipment queries', () => {
  it('serves a shipment with its order, minimal customer, events and ETA', async () => {
    const { status, body } = await fx.gql(`{
      shipment(trackingNumber: "TN1") {
        id trackingNumber status carrier service isGuaranteed promisedAt latenessRisk
        destination { city region country }
        order { id currency total customer { firstName locale timeZone city country } }
        events(first: 2) { totalCount edges { cursor node { eventId status description occurredAt location { city } } } pageInfo { hasNextPage endCursor } }
        eta { trackingNumber p10 p50 p90 confidence modelVersion basis latestEvent { eventId status } }
      }
    }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const s = body.data!.shipment;
    expect(s).toMatchObject({ id: 'S1', trackingNumber: 'TN1', status: 'IN_TRANSIT', carrier: 'ups', service: 'ground', latenessRisk: 'ON_TRACK' });
    expect(s.destination).toEqual({ city: 'São Paulo', region: 'SP', country: 'BR' });
    expect(s.order.customer).toEqual({ firstName: 'Ana', locale: 'pt-BR', timeZone: 'America/Sao_Paulo', city: 'São Paulo', country: 'BR' });
    expect(s.events.totalCount).toBe(3);
    expect(s.events.edges.map((e: any) => e.node.eventId)).toEqual(['e1', 'e2']);
    expect(s.events.pageInfo.hasNextPage).toBe(true);
    const next = await fx.gql(`query($after: String) { shipment(trackingNumber: "TN1") { events(first: 5, after: $after) { edges { node { eventId } } pageInfo { hasNextPage } } } }`, { after: s.events.pageInfo.endCursor });
    expect(next.body.data!.shipment.events.edges.map((e: any) => e.node.eventId)).toEqual(['e3']);
    expect(next.body.data!.shipment.events.pageInfo.hasNextPage).toBe(false);
    expect(s.eta).toMatchObject({ trackingNumber: 'TN1', confidence: 0.8, modelVersion: 'eta-test-1', basis: 'IN_FLIGHT', latestEvent: { eventId: 'e3', status: 'IN_TRANSIT' } });
  });

  it('ETA fields agree with the EtaPredictor output for the same shipment', async () => {
    const direct = (await fx.predictor.predict(['S2'])).get('S2')!;
    const { body } = await fx.gql(`{ predictedEta(trackingNumber: "TN2") { p10 p50 p90 confidence modelVersion basis } }`);
    expect(body.data!.predictedEta).toEqual({
      p10: direct.p10.toISOString(), p50: direct.p50.toISOString(), p90: direct.p90.toISOString(),
      confidence: direct.confidence, modelVersion: direct.modelVersion, basis: direct.basis,
    });
  });

  it('never exposes email or street address on Customer/Place', async () => {
    const { body } = await fx.gql(`{ c: __type(name: "Customer") { fields { name } } p: __type(name: "Place") { fields { name } } }`);
    const names = [...body.data!.c.fields, ...body.data!.p.fields].map((f: any) => f.name.toLowerCase());
    for (const banned of ['email', 'address', 'street', 'postalcode', 'postalprefix', 'lat', 'lng']) expect(names).not.toContain(banned);
    const bad = await fx.gql(`{ shipment(trackingNumber: "TN1") { order { customer { email } } } }`);
    expect(codes(bad.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('returns null for an unknown shipment and NOT_FOUND for predictedEta of one', async () => {
    const { body } = await fx.gql(`{ shipment(trackingNumber: "NOPE") { id } }`);
    expect(body.data!.shipment).toBeNull();
    const eta = await fx.gql(`{ predictedEta(trackingNumber: "NOPE") { p50 } }`);
    expect(codes(eta.body)).toEqual(['NOT_FOUND']);
    expect(eta.body.errors![0].extensions!.field).toBe('trackingNumber');
    const delivered = await fx.gql(`{ predictedEta(trackingNumber: "TN3") { p50 } }`);
    expect(delivered.body.data!.predictedEta).toBeNull();
  });

  it('finds a shipment that appears after a lookup missed it (misses are not cached)', async () => {
    expect(codes((await fx.gql(`{ predictedEta(trackingNumber: "LATE1") { p50 } }`)).body)).toEqual(['NOT_FOUND']);
    await fx.warehouse.run(`INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, status) VALUES ('S9', 'O1', 'LATE1', 'ups', 'ground', 'pending')`);
    const { body } = await fx.gql(`{ predictedEta(trackingNumber: "LATE1") { p50 } predictedEtas(trackingNumbers: ["LATE1", "TN1", "LATE1"]) { trackingNumber } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data!.predictedEta).toBeNull();
    expect(body.data!.predictedEtas.map((e: any) => e?.trackingNumber ?? null)).toEqual([null, 'TN1', null]);
    await fx.warehouse.run(`DELETE FROM shipments WHERE shipment_id = 'S9'`);
  });

  it('predictedEtas answers in input order with nulls, in one model call', async () => {
    fx.predictor.calls = [];
    const { body } = await fx.gql(`query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { trackingNumber p50 } }`, { t: ['TN2', 'NOPE', 'TN3', 'TN1'] });
    expect(body.data!.predictedEtas.map((e: any) => e?.trackingNumber ?? null)).toEqual(['TN2', null, null, 'TN1']);
    expect(fx.predictor.calls).toHaveLength(1);
  });

  it('refuses a batch above 1,000 and a page above 100', async () => {
    const t = Array.from({ length: 1001 }, (_, i) => `X${i}`);
    const big = await fx.gql(`query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { p50 } }`, { t });
    expect(codes(big.body)).toEqual(['BAD_INPUT']);
    expect(big.body.errors![0].message).toMatch(/trackingNumbers/);
    const ok = await fx.gql(`query($t: [String!]!) { predictedEtas(trackingNumbers: $t) { p50 } }`, { t: t.slice(0, 1000) });
    expect(ok.body.errors).toBeUndefined();
    const page = await fx.gql(`{ shipments(first: 101) { edges { cursor } } }`);
    expect(codes(page.body)).toEqual(['BAD_INPUT']);
    const events = await fx.gql(`{ shipment(trackingNumber: "TN1") { events(first: 0) { totalCount } } }`);
    expect(codes(events.body)).toEqual(['BAD_INPUT']);
  });

  it('a page of 100 shipments with ETAs costs one predict call', async () => {
    fx.predictor.calls = [];
    const { body } = await fx.gql(`{ shipments(first: 100) { edges { node { trackingNumber latenessRisk eta { p50 } order { id customer { locale } } } } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data!.shipments.edges).toHaveLength(100);
    expect(fx.predictor.calls).toHaveLength(1);
    expect(fx.predictor.calls[0]).toHaveLength(100);
  });

  it('pages through every shipment with Relay cursors', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await fx.gql(`query($after: String) { shipments(first: 40, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, { after });
      seen.push(...body.data!.shipments.edges.map((e: any) => e.node.id));
      if (!body.data!.shipments.pageInfo.hasNextPage) break;
      after = body.data!.shipments.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(BULK + 4);
    expect(new Set(seen).size).toBe(seen.length);
    const bad = await fx.gql(`{ shipments(after: "garbage") { edges { cursor } } }`);
    expect(codes(bad.body)).toEqual(['BAD_INPUT']);
  });

  it('filters by status, carrier, dates and lateness risk', async () => {
    const q = `query($f: ShipmentFilter) { shipments(filter: $f, first: 100) { edges { node { id } } pageInfo { hasNextPage } } }`;
    const ids = async (f: unknown) => (await fx.gql(q, { f })).body.data!.shipments.edges.map((e: any) => e.node.id);
    expect(await ids({ status: ['EXCEPTION', 'DELIVERED'] })).toEqual(['S3', 'S4']);
    expect(await ids({ carrier: ['dhl'] })).toEqual(['S4']);
    expect(await ids({ status: ['IN_TRANSIT'], carrier: ['ups'], promised: { to: new Date(fx.now + 7 * DAY).toISOString() } })).toEqual(['S1']);
    const shipped = await ids({ shipped: { from: new Date(fx.now - 20 * DAY).toISOString(), to: new Date(fx.now - 19 * DAY).toISOString() } });
    expect(shipped).toEqual(Array.from({ length: BULK }, (_, i) => `B${String(i).padStart(3, '0')}`).filter((_, i) => i % 10 === 0));
    const bulkAtRisk = Array.from({ length: BULK }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => `B${String(i).padStart(3, '0')}`);
    expect(await ids({ latenessRisk: ['AT_RISK'] })).toEqual([...bulkAtRisk, 'S2']);
    expect(await ids({ latenessRisk: ['LIKELY_LATE'] })).toEqual(['S4']);
    expect(await ids({ latenessRisk: ['AT_RISK', 'LIKELY_LATE'], carrier: ['ups', 'dhl'] })).toEqual([...bulkAtRisk.filter((id) => Number(id.slice(1)) % 2 === 0), 'S4']);
    expect(await ids({ latenessRisk: ['UNKNOWN'] })).toEqual(['S3']);
    const firstTwo = await fx.gql(`{ shipments(filter: { latenessRisk: [AT_RISK] }, first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`);
    expect(firstTwo.body.data!.shipments.edges.map((e: any) => e.node.id)).toEqual(['B000', 'B003']);
    expect(firstTwo.body.data!.shipments.pageInfo.hasNextPage).toBe(true);
    const bad = await fx.gql(q, { f: { shipped: { from: '2026-01-01' } } });
    expect(codes(bad.body)).toEqual(['BAD_INPUT']);
  });

  it('masks unexpected errors as INTERNAL without their message', async () => {
    fx.predictor.failWith = new Error('secret connection string postgres://x');
    try {
      const { body } = await fx.gql(`{ predictedEta(trackingNumber: "TN1") { p50 } }`);
      expect(codes(body)).toEqual(['INTERNAL']);
      expect(JSON.stringify(body)).not.toMatch(/secret/);
    } finally {
      fx.predictor.failWith = undefined;
    }
  });
});
