import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createEmailCapability, type EmailCapability } from '../../src/email/email-capability.js';
import { emailResolvers } from '../../src/graphql/email/email-resolvers.js';
import { codes, createFixture, type Fixture } from '../graphql/helpers.js';
import { fakePredictor, tempDir, testConfig, window } from './helpers.js';

let fx: Fixture;
let email: EmailCapability;

beforeEach(async () => {
  const warehouse = await openWarehouse(':memory:');
  const predictor = fakePredictor(window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z', 'eta-v7'));
  email = createEmailCapability({ config: testConfig(tempDir('shipcast-gql-email-')), log: silentLogger(), warehouse, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }), predictor });
  fx = await createFixture({ warehouse, resolvers: [emailResolvers({ service: email.service, warehouse })] });
});

afterEach(async () => {
  await email.close();
  await fx.close();
  await fx.warehouse.close();
});

const SEND = `mutation($tn: String!, $kind: EmailKind!, $resend: Boolean) {
  sendTransactionalEmail(trackingNumber: $tn, kind: $kind, resend: $resend) { id status kind stream trackingNumber }
}`;

describe('email over GraphQL', () => {
  it('sendTransactionalEmail is idempotent per (shipment, kind) unless resend, and needs EMAIL_SEND', async () => {
    const key = fx.keys['email-system'];
    const a = await fx.gql(SEND, { tn: 'TN1', kind: 'OUT_FOR_DELIVERY' }, { key });
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data!.sendTransactionalEmail).toMatchObject({ status: 'QUEUED', kind: 'OUT_FOR_DELIVERY', stream: 'TRANSACTIONAL', trackingNumber: 'TN1' });
    const b = await fx.gql(SEND, { tn: 'TN1', kind: 'OUT_FOR_DELIVERY' }, { key });
    expect(b.body.data!.sendTransactionalEmail.id).toBe(a.body.data!.sendTransactionalEmail.id);
    const c = await fx.gql(SEND, { tn: 'TN1', kind: 'OUT_FOR_DELIVERY', resend: true }, { key });
    expect(c.body.data!.sendTransactionalEmail.id).not.toBe(a.body.data!.sendTransactionalEmail.id);
    expect(codes((await fx.gql(SEND, { tn: 'TN1', kind: 'SHIPPED' }, { key: fx.keys['data-scientist'] })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await fx.gql(SEND, { tn: 'NOPE', kind: 'SHIPPED' }, { key })).body)).toEqual(['NOT_FOUND']);
  });

  it('emailMessages pages newest first with each message and its events', async () => {
    const key = fx.keys['email-system'];
    const sent = (await fx.gql(SEND, { tn: 'TN1', kind: 'OUT_FOR_DELIVERY' }, { key })).body.data!.sendTransactionalEmail;
    await fx.gql(SEND, { tn: 'TN2', kind: 'DELAY' }, { key });
    await email.worker.runOnce();
    await fx.warehouse.run(
      "INSERT INTO email_events (source, event_id, message_id, event, occurred_at, received_at) VALUES ('mailgun', 'ev-1', $1, 'delivered', now(), now())",
      [sent.id],
    );
    const Q = `query($after: String) { emailMessages(first: 1, after: $after, filter: { status: SENT }) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind status trackingNumber modelVersion subject events { source event } } } } }`;
    const p1 = await fx.gql(Q, {}, { key });
    expect(p1.body.errors).toBeUndefined();
    const c1 = p1.body.data!.emailMessages;
    expect(c1.totalCount).toBe(2);
    expect(c1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await fx.gql(Q, { after: c1.pageInfo.endCursor }, { key })).body.data!.emailMessages;
    expect(p2.pageInfo.hasNextPage).toBe(false);
    const nodes = [c1.edges[0].node, p2.edges[0].node];
    const tn1 = nodes.find((n: { trackingNumber: string }) => n.trackingNumber === 'TN1');
    expect(tn1).toMatchObject({ id: sent.id, status: 'SENT', modelVersion: 'eta-v7', subject: 'Chega hoje: seu pedido saiu para entrega', events: [{ source: 'mailgun', event: 'delivered' }] });
    const one = await fx.gql('query($id: ID!) { emailMessage(id: $id) { id status } }', { id: sent.id }, { key });
    expect(one.body.data!.emailMessage).toEqual({ id: sent.id, status: 'SENT' });
  });

  it('previewEmail renders without recording anything', async () => {
    const res = await fx.gql(
      'query { previewEmail(trackingNumber: "TN1", kind: DELAY, locale: EN) { subject stream locale tags modelVersion windowStart text html } }',
      {},
      { key: fx.keys['email-system'] },
    );
    expect(res.body.errors).toBeUndefined();
    const p = res.body.data!.previewEmail;
    expect(p).toMatchObject({ subject: 'Update: your delivery is running late', stream: 'TRANSACTIONAL', locale: 'en', tags: ['delay', 'transactional'], modelVersion: 'eta-v7', windowStart: '2026-12-02T20:00:00.000Z' });
    expect(p.text).toContain('Choose another delivery day');
    expect(p.html).toMatch(/^<!doctype html>/i);
    expect(await fx.warehouse.one('SELECT count(*) AS n FROM email_messages')).toEqual({ n: 0 });
  });
});
