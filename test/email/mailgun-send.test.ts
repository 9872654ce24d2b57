import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createEmailCapability, type EmailCapability } from '../../src/email/email-capability.js';
import { fakePredictor, seedShipment, startFakeMailgun, tempDir, testConfig, waitFor, window, type FakeMailgun } from './helpers.js';

let mg: FakeMailgun;
let wh: Warehouse;
let email: EmailCapability;
let events: DomainEvents;
const predictor = fakePredictor(window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z', 'eta-v7'));
const DAY = new Date('2026-12-02T15:00:00Z'); // noon in São Paulo: outside quiet hours

beforeAll(async () => {
  mg = await startFakeMailgun();
});
afterAll(async () => {
  await mg.close();
});

beforeEach(async () => {
  mg.requests.length = 0;
  mg.script.length = 0;
  wh = await openWarehouse(':memory:');
  events = new DomainEvents();
  const config = testConfig(tempDir('shipcast-email-'), {
    SHIPCAST_MAILER: 'mailgun', MAILGUN_API_KEY: 'key-test', MAILGUN_DOMAIN: 'mg.example.com', MAILGUN_PROMO_DOMAIN: 'offers.example.com', MAILGUN_URL: mg.url,
  });
  email = createEmailCapability({ config, log: silentLogger(), warehouse: wh, events, metrics: createMetricsRegistry({ defaultMetrics: false }), predictor, worker: { pollMs: 20, backoffBaseMs: 20 } });
});

afterEach(async () => {
  await email.close();
  await wh.close();
});

const message = (id: string) => wh.one<Record<string, unknown>>('SELECT m.*, o.status AS outbox_status, o.attempts, o.last_error, o.eta_p10 FROM email_messages m JOIN email_outbox o USING (message_id) WHERE message_id = $1', [id]);

describe('sending through mailgun.js', () => {
  it('sends a transactional email with the exact Mailgun fields and records it', async () => {
    const { shipmentId } = await seedShipment(wh);
    const q = await email.service.enqueue({ shipmentId, kind: 'shipped', trigger: 'shipped', idempotencyKey: `${shipmentId}|shipped|shipped` }, DAY);
    expect(await email.worker.runOnce(DAY)).toBe(1);
    expect(mg.requests).toHaveLength(1);
    const r = mg.requests[0];
    expect(r.path).toBe('/v3/mg.example.com/messages');
    expect(r.authorization).toBe(`Basic ${Buffer.from('api:key-test').toString('base64')}`);
    const f = r.fields;
    expect(f.from).toEqual(['Shipcast <shipping@mg.example.com>']);
    expect(f.to).toEqual(['Ana.Silva@Example.com']);
    expect(f.subject).toEqual(['Your order is on its way']);
    expect(f['o:tag']).toEqual(['shipped', 'transactional']);
    expect(f['v:message_id']).toEqual([q.id]);
    expect(f['h:Message-Id']).toEqual([`<${q.id}@mg.example.com>`]);
    expect(f['o:testmode']).toEqual(['yes']);
    expect(f['h:List-Unsubscribe']).toBeUndefined();
    expect(f.text[0]).toContain('Expected delivery: Wed, Dec 2 – Fri, Dec 4');
    expect(f.html[0]).toContain('Wed, Dec 2 – Fri, Dec 4');
    expect(f.html[0]).toContain('https://ship.example/email/eta.svg?t=');
    expect(f.text[0]).not.toMatch(/shp_1|ord_shp_1|cus_shp_1/);
    const row = await message(q.id);
    expect(row).toMatchObject({ status: 'sent', outbox_status: 'sent', provider: 'mailgun', provider_message_id: '<fake-1@mailgun.test>', model_version: 'eta-v7', subject: 'Your order is on its way', stream: 'transactional', attempts: 1 });
    expect(new Date(row!.eta_p10 as string).toISOString()).toBe('2026-12-02T20:00:00.000Z');
  });

  it('sends promotional mail only with recorded consent, from its own domain, with one-click unsubscribe', async () => {
    const { shipmentId, customerId } = await seedShipment(wh, { consentPromotional: true });
    await wh.run("INSERT INTO consent_records VALUES ($1, 'email', 'promotional', true, 'checkout', now())", [customerId]);
    const q = await email.service.enqueue({ shipmentId, kind: 'delivered', trigger: 'manual', idempotencyKey: 'k-promo', offer: { action: 'discount_10', code: 'THANKS10' } }, DAY);
    expect(q.stream).toBe('promotional');
    await email.worker.runOnce(DAY);
    const f = mg.requests[0].fields;
    expect(mg.requests[0].path).toBe('/v3/offers.example.com/messages');
    expect(f.from).toEqual(['Shipcast <offers@offers.example.com>']);
    expect(f['o:tag']).toEqual(['delivered', 'promotional']);
    expect(f['h:List-Unsubscribe'][0]).toMatch(/^<https:\/\/ship\.example\/email\/unsubscribe\?t=[\w-]+\.[\w-]+>$/);
    expect(f['h:List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    expect(f['v:message_id']).toEqual([q.id]);
    expect(f.text[0]).toContain('10% off your next order with code THANKS10');
  });

  it('refuses a promotional message without consent, and records the refusal', async () => {
    const { shipmentId } = await seedShipment(wh, { consentPromotional: true }); // opt-in flag but no consent record
    await expect(email.service.enqueue({ shipmentId, kind: 'delivered', trigger: 'manual', idempotencyKey: 'k-p', offer: { action: 'discount_10' } }, DAY)).rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    await email.worker.runOnce(DAY);
    expect(mg.requests).toHaveLength(0);
    const row = await wh.one<{ status: string; last_error: string }>("SELECT status, last_error FROM email_outbox WHERE idempotency_key = 'k-p'");
    expect(row).toEqual({ status: 'refused', last_error: 'no consent: promotional email needs a recorded opt-in' });
  });

  it('never sends to suppressed addresses, even when the suppression arrives after enqueue', async () => {
    const a = await seedShipment(wh, { shipmentId: 's_a', email: 'bounced@example.com' });
    await wh.run("INSERT INTO email_suppressions VALUES ('bounced@example.com', 'all', 'hard_bounce', 'ev1', now())");
    const qa = await email.service.enqueue({ shipmentId: a.shipmentId, kind: 'shipped', trigger: 'shipped', idempotencyKey: 'ka' }, DAY);
    expect(qa).toMatchObject({ status: 'suppressed', reason: 'suppressed: hard_bounce' });
    const b = await seedShipment(wh, { shipmentId: 's_b', email: 'later@example.com' });
    const qb = await email.service.enqueue({ shipmentId: b.shipmentId, kind: 'out_for_delivery', trigger: 'out_for_delivery', idempotencyKey: 'kb' }, DAY);
    expect(qb.status).toBe('queued');
    await wh.run("INSERT INTO email_suppressions VALUES ('later@example.com', 'transactional', 'complaint', 'ev2', now())");
    await email.worker.runOnce(DAY);
    expect(mg.requests).toHaveLength(0);
    expect((await message(qb.id))?.status).toBe('suppressed');
    // An unsubscribe from offers does not block delivery notices.
    const c = await seedShipment(wh, { shipmentId: 's_c', email: 'offers-off@example.com' });
    await wh.run("INSERT INTO email_suppressions VALUES ('offers-off@example.com', 'promotional', 'unsubscribe', 'ev3', now())");
    await email.service.enqueue({ shipmentId: c.shipmentId, kind: 'shipped', trigger: 'shipped', idempotencyKey: 'kc' }, DAY);
    await email.worker.runOnce(DAY);
    expect(mg.requests.map((r) => r.fields.to[0])).toEqual(['offers-off@example.com']);
  });

  it('retries a 429 after the Retry-After it was given, then succeeds', async () => {
    const { shipmentId } = await seedShipment(wh);
    mg.script.push({ status: 429, headers: { 'retry-after': '1' }, body: { message: 'Too many requests' } });
    const q = await email.service.enqueue({ shipmentId, kind: 'out_for_delivery', trigger: 'out_for_delivery', idempotencyKey: 'k429' });
    await email.worker.start();
    await waitFor(async () => (await message(q.id))?.status === 'sent', 8000);
    expect(mg.requests).toHaveLength(2);
    expect(mg.requests[1].at - mg.requests[0].at).toBeGreaterThanOrEqual(950);
    expect(mg.requests[1].fields['v:message_id']).toEqual([q.id]);
    expect((await message(q.id))?.attempts).toBe(2);
  });

  it('backs off and retries a 503 without Retry-After', async () => {
    const { shipmentId } = await seedShipment(wh);
    mg.script.push({ status: 503, body: { message: 'unavailable' } }, { status: 502, body: { message: 'bad gateway' } });
    const q = await email.service.enqueue({ shipmentId, kind: 'delay', trigger: 'delayed', idempotencyKey: 'k503' });
    await email.worker.start();
    await waitFor(async () => (await message(q.id))?.status === 'sent', 8000);
    expect(mg.requests).toHaveLength(3);
    expect((await message(q.id))?.attempts).toBe(3);
  });

  it('records a permanent failure with its reason and does not retry it', async () => {
    const { shipmentId } = await seedShipment(wh);
    mg.script.push({ status: 400, body: { message: "'to' parameter is not a valid address" } });
    const q = await email.service.enqueue({ shipmentId, kind: 'failed_attempt', trigger: 'failed_attempt', idempotencyKey: 'k400' });
    await email.worker.runOnce();
    await email.worker.runOnce();
    expect(mg.requests).toHaveLength(1);
    const row = await message(q.id);
    expect(row).toMatchObject({ status: 'failed', outbox_status: 'failed' });
    expect(row?.last_error).toMatch(/mailgun 400: .*not a valid address/);
  });

  it('turns milestone events into one email each, however often they arrive', async () => {
    const { shipmentId, trackingNumber } = await seedShipment(wh);
    await email.worker.start();
    const ev = (causeId: string) => ({ type: 'shipment.milestone' as const, milestone: 'out_for_delivery' as const, shipmentId, trackingNumber, causeId, occurredAt: new Date() });
    events.publish('shipment.milestone', ev('tracking:e1'));
    events.publish('shipment.milestone', ev('tracking:e1'));
    events.publish('shipment.milestone', ev('aftership:e9'));
    await waitFor(() => mg.requests.length >= 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(mg.requests).toHaveLength(1);
    expect(mg.requests[0].fields['o:tag']).toEqual(['out_for_delivery', 'transactional']);
    expect(await wh.one('SELECT count(*) AS n FROM email_outbox')).toEqual({ n: 1 });
  });

  it('sendTransactional is idempotent per (shipment, kind) unless resend', async () => {
    const { trackingNumber } = await seedShipment(wh);
    const a = await email.service.sendTransactional(trackingNumber, 'delivered');
    const b = await email.service.sendTransactional(trackingNumber, 'delivered');
    expect(b.id).toBe(a.id);
    const c = await email.service.sendTransactional(trackingNumber, 'delivered', { resend: true });
    expect(c.id).not.toBe(a.id);
    await expect(email.service.sendTransactional('NOPE', 'delivered')).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'trackingNumber' });
  });

  it('holds non-urgent mail through the customer\'s quiet hours but not urgent mail', async () => {
    const night = new Date('2026-12-02T02:00:00Z'); // 23:00 in São Paulo
    await seedShipment(wh, { shipmentId: 's_n1' });
    await seedShipment(wh, { shipmentId: 's_n2', email: 'two@example.com' });
    await email.service.enqueue({ shipmentId: 's_n1', kind: 'shipped', trigger: 'shipped', idempotencyKey: 'q1' }, night);
    await email.service.enqueue({ shipmentId: 's_n2', kind: 'out_for_delivery', trigger: 'out_for_delivery', idempotencyKey: 'q2' }, night);
    await email.worker.runOnce(new Date('2026-12-02T03:00:00Z'));
    expect(mg.requests.map((r) => r.fields['o:tag'][0])).toEqual(['out_for_delivery']);
    await email.worker.runOnce(new Date('2026-12-02T10:59:00Z'));
    expect(mg.requests).toHaveLength(1);
    await email.worker.runOnce(new Date('2026-12-02T11:00:00Z'));
    expect(mg.requests.map((r) => r.fields['o:tag'][0])).toEqual(['out_for_delivery', 'shipped']);
  });
});
