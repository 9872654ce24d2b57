import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { DomainEvents, type ShipmentMilestoneEvent, type ShipmentUpdatedEvent } from '../../src/domain/events.js';
import type { EtaPrediction, EtaPredictor } from '../../src/domain/eta.js';
import { createRouter, listen, type RunningServer } from '../../src/http/router.js';
import { createIngestion, type Ingestion, type IngestionOptions } from '../../src/ingest/ingestion.js';
import { replayDeadLetters } from '../../src/ingest/dead-letters.js';
import { signAfterShip, signEasyPost, signMailgun, signShippo } from '../../src/ingest/signatures.js';
import { silentLogger } from '../../src/log.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { canonicalEvent, OLD_SECRET, SECRET, signedTrackingRequest } from './helpers.js';

const config = loadConfig({
  SHIPCAST_ENV: 'test',
  SHIPCAST_WEBHOOK_SECRET: `${SECRET} ${OLD_SECRET}`,
  SHIPCAST_AFTERSHIP_SECRET: 'as-secret',
  SHIPCAST_EASYPOST_SECRET: 'ep-secret',
  SHIPCAST_SHIPPO_SECRET: 'sh-secret',
  MAILGUN_WEBHOOK_SIGNING_KEY: 'mg-key',
});

/** A stand-in predictor: P90 three days after now, so a shipment promised earlier is predicted late. */
class FixedPredictor implements EtaPredictor {
  calls: string[][] = [];
  async predict(ids: readonly string[], now = new Date()): Promise<Map<string, EtaPrediction>> {
    this.calls.push([...ids]);
    const d = (h: number) => new Date(now.getTime() + h * 3_600_000);
    return new Map(ids.map((id) => [id, { shipmentId: id, p10: d(24), p50: d(48), p90: d(72), confidence: 0.8, modelVersion: 'test-1', basis: 'IN_FLIGHT', predictedAt: now }]));
  }
  activeVersion() {
    return 'test-1';
  }
  async reload() {}
}

let wh: Warehouse;
let ing: Ingestion;
let server: RunningServer;
let events: DomainEvents;
let registry: Registry;
let predictor: FixedPredictor;
const milestones: ShipmentMilestoneEvent[] = [];
const updates: ShipmentUpdatedEvent[] = [];

async function start(opts: IngestionOptions = {}) {
  ing = createIngestion({ config, log: silentLogger(), warehouse: wh, events, metrics: registry, predictor: () => predictor }, { attachIntervalMs: 0, ...opts });
  server = await listen(createRouter(ing.routes), { host: '127.0.0.1', port: 0 });
}

async function send(req: Request): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(req);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const count = async (sql: string, params: (string | null)[] = []) => (await wh.one<{ n: number }>(`SELECT count(*) AS n FROM (${sql})`, params))!.n;

beforeEach(async () => {
  wh = await openWarehouse(':memory:');
  events = new DomainEvents();
  registry = new Registry();
  predictor = new FixedPredictor();
  milestones.length = 0;
  updates.length = 0;
  events.subscribe('shipment.milestone', (e) => void milestones.push(e));
  events.subscribe('shipment.updated', (e) => void updates.push(e));
  await wh.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, status, status_at, promised_at)
     VALUES ('s1', 'o1', 'TN-1', 'ups', 'ground', 'info_received', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z')`,
  );
});

afterEach(async () => {
  await server?.close();
  await ing?.close();
  await wh.close();
});

describe('canonical tracking webhook', () => {
  it('stores a signed event before the 2xx, moves the shipment, publishes milestone + update with the re-predicted ETA', async () => {
    await start();
    const ev = canonicalEvent({ event_id: 'e1' });
    const r = await send(signedTrackingRequest(server.url, ev));
    expect(r).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, dead_lettered: 0 } });
    // The 2xx came after the commit: the row is there without waiting for anything.
    expect(await count("SELECT * FROM tracking_events WHERE source = 'webhook' AND event_id = 'e1' AND shipment_id = 's1'")).toBe(1);
    const s = await wh.one<{ status: string; shipped_at: Date }>("SELECT status, shipped_at FROM shipments WHERE shipment_id = 's1'");
    expect(s).toMatchObject({ status: 'in_transit', shipped_at: new Date('2026-01-02T10:00:00Z') });
    await ing.idle();
    expect(milestones.map((m) => m.milestone)).toEqual(['shipped', 'predictive_delay']);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ shipmentId: 's1', status: 'in_transit' });
    expect(updates[0].eta?.modelVersion).toBe('test-1');
    expect(predictor.calls).toEqual([['s1']]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/shipcast_ingest_events_total\{source="webhook",outcome="accepted"\} 1/);
    expect(metrics).toMatch(/shipcast_ingest_event_to_prediction_seconds_count 1/);
  });

  it('is idempotent by (source, event_id): a duplicate gets 2xx and changes nothing', async () => {
    await start();
    const ev = canonicalEvent({ event_id: 'dup', status: 'out_for_delivery' });
    expect((await send(signedTrackingRequest(server.url, ev))).body).toMatchObject({ accepted: 1 });
    await ing.idle();
    const before = milestones.length;
    const again = await send(signedTrackingRequest(server.url, [ev, ev]));
    expect(again).toEqual({ status: 200, body: { accepted: 0, duplicates: 2, dead_lettered: 0 } });
    await ing.idle();
    expect(milestones.length).toBe(before);
    expect(await count("SELECT * FROM tracking_events WHERE event_id = 'dup'")).toBe(1);
  });

  it('orders by occurred_at: a late older scan never moves the status backwards', async () => {
    await start();
    await send(signedTrackingRequest(server.url, canonicalEvent({ event_id: 'new', status: 'out_for_delivery', occurred_at: '2026-01-02T12:00:00Z' })));
    await send(signedTrackingRequest(server.url, canonicalEvent({ event_id: 'old', status: 'in_transit', occurred_at: '2026-01-02T06:00:00Z' })));
    // Within one batch too: the latest by event time wins whatever the array order.
    await send(signedTrackingRequest(server.url, [
      canonicalEvent({ event_id: 'b2', status: 'delivered', occurred_at: '2026-01-03T09:00:00Z' }),
      canonicalEvent({ event_id: 'b1', status: 'failed_attempt', occurred_at: '2026-01-03T08:00:00Z' }),
    ]));
    const s = await wh.one<{ status: string; status_at: Date; delivered_at: Date }>("SELECT status, status_at, delivered_at FROM shipments WHERE shipment_id = 's1'");
    expect(s).toEqual({ status: 'delivered', status_at: new Date('2026-01-03T09:00:00Z'), delivered_at: new Date('2026-01-03T09:00:00Z') });
    expect(await count("SELECT * FROM tracking_events WHERE shipment_id = 's1'")).toBe(4);
    await ing.idle();
    expect(milestones.filter((m) => m.milestone !== 'predictive_delay').map((m) => m.milestone)).toEqual(['out_for_delivery', 'delivered']);
  });

  it('dead-letters an authentic malformed event with a 4xx naming the field, stores the valid ones, and replays after a fix', async () => {
    await start();
    const good = canonicalEvent({ event_id: 'g1' });
    const bad = canonicalEvent({ event_id: 'b1', occurred_at: 'last tuesday' });
    const r = await send(signedTrackingRequest(server.url, [good, bad]));
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: { code: 'BAD_INPUT', field: '[1].occurred_at' }, accepted: 1, dead_lettered: 1 });
    const dl = await wh.all<{ dead_letter_id: number; field: string; event_id: string }>('SELECT dead_letter_id, field, event_id FROM ingest_dead_letters');
    expect(dl).toEqual([{ dead_letter_id: 1, field: '[1].occurred_at', event_id: 'b1' }]);
    // The sender retries the same delivery: still one dead letter.
    await send(signedTrackingRequest(server.url, [good, bad]));
    expect(await count('SELECT * FROM ingest_dead_letters')).toBe(1);
    expect((await replayDeadLetters(wh, ing.store)).stillFailing).toBe(1);
    // An operator fixes the payload; the replay stores it.
    await wh.run("UPDATE ingest_dead_letters SET payload = replace(payload, 'last tuesday', '2026-01-02T11:00:00Z')");
    expect(await replayDeadLetters(wh, ing.store)).toEqual({ replayed: 1, stillFailing: 0, eventsAccepted: 1 });
    expect(await count("SELECT * FROM tracking_events WHERE event_id = 'b1'")).toBe(1);
    expect(await count('SELECT * FROM ingest_dead_letters WHERE replayed_at IS NOT NULL')).toBe(1);
  });

  it('refuses forged, expired, unsigned and old-rotation-less requests with 401 and stores nothing', async () => {
    await start();
    const ev = canonicalEvent({ event_id: 'x' });
    const forged = signedTrackingRequest(server.url, ev, { secret: `whsec_${Buffer.from('attacker').toString('base64')}` });
    const expired = signedTrackingRequest(server.url, ev, { at: Math.floor(Date.now() / 1000) - 600 });
    const unsigned = new Request(`${server.url}/webhooks/tracking`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ev) });
    const malformedUnsigned = new Request(`${server.url}/webhooks/tracking`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    for (const req of [forged, expired, unsigned, malformedUnsigned]) {
      const r = await send(req);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'signature verification failed' } });
    }
    expect(await count('SELECT * FROM tracking_events')).toBe(0);
    expect(await count('SELECT * FROM ingest_dead_letters')).toBe(0);
    // The previous secret is still listed (rotation), so its signatures pass.
    expect((await send(signedTrackingRequest(server.url, ev, { secret: OLD_SECRET }))).status).toBe(200);
  });

  it('checks content type, body size and the per-source rate limit', async () => {
    await start({ bodyLimitBytes: 2048, rateLimit: { ratePerSecond: 1, burst: 2 } });
    const text = JSON.stringify(canonicalEvent());
    const plain = await fetch(`${server.url}/webhooks/tracking`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
    expect(plain.status).toBe(415);
    const big = signedTrackingRequest(server.url, canonicalEvent({ description: 'x'.repeat(1900), location: { city: 'y'.repeat(190) } }));
    expect((await send(big)).body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
    const limited = await fetch(signedTrackingRequest(server.url, canonicalEvent()));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    // Another source has its own bucket.
    const as = JSON.stringify({ event: 'tracking_update', event_id: 'r1', msg: { tracking_number: 'TN-1', tag: 'InTransit', checkpoints: [{ checkpoint_time: '2026-01-02T00:00:00Z', tag: 'InTransit' }] } });
    const res = await fetch(`${server.url}/webhooks/tracking/aftership`, { method: 'POST', headers: { 'content-type': 'application/json', 'aftership-hmac-sha256': signAfterShip('as-secret', as) }, body: as });
    expect(res.status).toBe(200);
  });

  it('keeps events of unknown tracking numbers and attaches them when the shipment appears', async () => {
    await start();
    await send(signedTrackingRequest(server.url, canonicalEvent({ event_id: 'u1', tracking_number: 'LATE-1', status: 'in_transit', occurred_at: '2026-01-05T00:00:00Z' })));
    await send(signedTrackingRequest(server.url, canonicalEvent({ event_id: 'u2', tracking_number: 'LATE-1', status: 'out_for_delivery', occurred_at: '2026-01-06T00:00:00Z' })));
    expect(await count("SELECT * FROM tracking_events WHERE tracking_number = 'LATE-1' AND shipment_id IS NULL")).toBe(2);
    await wh.run("INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level) VALUES ('s2', 'o2', 'LATE-1', 'ups', 'ground')");
    const changes = await ing.store.attachUnmatched();
    expect(changes.map((c) => [c.shipmentId, c.status])).toEqual([['s2', 'out_for_delivery']]);
    expect(await count("SELECT * FROM tracking_events WHERE shipment_id = 's2'")).toBe(2);
    expect((await wh.one<{ status: string }>("SELECT status FROM shipments WHERE shipment_id = 's2'"))?.status).toBe('out_for_delivery');
  });
});

describe('aggregator endpoints', () => {
  it('accepts each aggregator signed with its own scheme, and refuses a wrong one', async () => {
    await start();
    const post = (path: string, body: string, headers: Record<string, string>) =>
      send(new Request(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }));
    const ep = JSON.stringify({ object: 'Event', id: 'evt_9', description: 'tracker.updated', result: { object: 'Tracker', tracking_code: 'TN-1', status: 'out_for_delivery', tracking_details: [{ datetime: '2026-01-02T15:00:00Z' }] } });
    expect((await post('/webhooks/tracking/easypost', ep, { 'x-hmac-signature': signEasyPost('ep-secret', ep) })).status).toBe(200);
    expect((await post('/webhooks/tracking/easypost', ep, { 'x-hmac-signature': signEasyPost('wrong', ep) })).status).toBe(401);
    const sh = JSON.stringify({ event: 'track_updated', data: { tracking_number: 'TN-1', tracking_status: { object_id: 'st_9', status: 'DELIVERED', status_date: '2026-01-02T18:00:00Z' } } });
    expect((await post('/webhooks/tracking/shippo', sh, { 'shippo-auth-signature': signShippo('sh-secret', Math.floor(Date.now() / 1000), sh) })).status).toBe(200);
    expect((await post('/webhooks/tracking/shippo?token=sh-secret', sh, {})).body).toMatchObject({ duplicates: 1 });
    const as = JSON.stringify({ event: 'tracking_update', event_id: 'as1', msg: { tracking_number: 'TN-1', tag: 'Nope' } });
    const r = await post('/webhooks/tracking/aftership', as, { 'aftership-hmac-sha256': signAfterShip('as-secret', as) });
    expect(r).toMatchObject({ status: 422, body: { error: { field: 'msg.tag' } } });
    const rows = await wh.all<{ source: string; status: string }>("SELECT source, status FROM tracking_events ORDER BY occurred_at");
    expect(rows).toEqual([{ source: 'easypost', status: 'out_for_delivery' }, { source: 'shippo', status: 'delivered' }]);
    expect((await wh.one<{ source: string }>('SELECT source FROM ingest_dead_letters'))?.source).toBe('aftership');
  });
});

describe('Mailgun events', () => {
  const mg = (eventData: Record<string, unknown>, token = `tok-${Math.random()}`, key = 'mg-key') => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return JSON.stringify({ signature: { timestamp, token, signature: signMailgun(key, timestamp, token) }, 'event-data': eventData });
  };
  const post = (body: string) => send(new Request(`${server.url}/webhooks/mailgun`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
  const ts = Date.now() / 1000;

  it('records events, feeds suppressions, and rejects forged and replayed tokens', async () => {
    await start();
    await wh.run("INSERT INTO email_messages (message_id, kind, stream, provider_message_id, status, created_at) VALUES ('m1', 'shipped', 'transactional', '<abc@mg.example>', 'sent', now())");
    const delivered = mg({ id: 'mg1', event: 'delivered', timestamp: ts, recipient: 'A@Example.com', message: { headers: { 'message-id': 'abc@mg.example' } } }, 'tok-1');
    expect((await post(delivered)).status).toBe(200);
    // Mailgun retrying the same delivery (same token, same event) is a duplicate, not a replay.
    expect((await post(delivered)).body).toEqual({ accepted: 0, duplicates: 1 });
    // The same token reused for another event is a replay: 401, nothing stored.
    expect((await post(mg({ id: 'mg-evil', event: 'complained', timestamp: ts, recipient: 'x@example.com' }, 'tok-1'))).status).toBe(401);
    expect((await post(mg({ id: 'mg-f', event: 'complained', timestamp: ts, recipient: 'x@example.com' }, 'tok-f', 'forged-key'))).status).toBe(401);
    for (const e of [
      { id: 'mg2', event: 'failed', severity: 'permanent', reason: 'bounce', timestamp: ts, recipient: 'bounce@example.com' },
      { id: 'mg3', event: 'failed', severity: 'temporary', timestamp: ts, recipient: 'soft@example.com' },
      { id: 'mg4', event: 'complained', timestamp: ts, recipient: 'angry@example.com' },
      { id: 'mg5', event: 'unsubscribed', timestamp: ts, recipient: 'bye@example.com' },
      { id: 'mg6', event: 'opened', timestamp: ts, recipient: 'a@example.com' },
      { id: 'mg7', event: 'clicked', timestamp: ts, recipient: 'a@example.com', url: 'https://shop.example/track' },
    ]) expect((await post(mg(e))).status).toBe(200);
    const evs = await wh.all<{ event_id: string; event: string; message_id: string | null; severity: string | null }>('SELECT event_id, event, message_id, severity FROM email_events ORDER BY event_id');
    expect(evs.map((e) => e.event)).toEqual(['delivered', 'failed', 'failed', 'complained', 'unsubscribed', 'opened', 'clicked']);
    expect(evs[0].message_id).toBe('m1');
    expect(await wh.all('SELECT address, stream, reason FROM email_suppressions ORDER BY address')).toEqual([
      { address: 'angry@example.com', stream: 'all', reason: 'complaint' },
      { address: 'bounce@example.com', stream: 'all', reason: 'hard_bounce' },
      { address: 'bye@example.com', stream: 'promotional', reason: 'unsubscribe' },
    ]);
    expect(await count("SELECT * FROM email_events WHERE event_id IN ('mg-evil', 'mg-f')")).toBe(0);
  });

  it('accepts a retry signed hours ago (Mailgun retries for 8 h) but refuses a signature older than the window', async () => {
    await start();
    const signedAt = (hoursAgo: number, token: string, id: string) => {
      const timestamp = String(Math.floor(Date.now() / 1000 - hoursAgo * 3600));
      return JSON.stringify({ signature: { timestamp, token, signature: signMailgun('mg-key', timestamp, token) }, 'event-data': { id, event: 'opened', timestamp: ts } });
    };
    expect((await post(signedAt(4, 'tok-old', 'mg-old'))).status).toBe(200);
    expect((await post(signedAt(9, 'tok-expired', 'mg-expired'))).status).toBe(401);
    expect(await count("SELECT * FROM email_events WHERE event_id = 'mg-expired'")).toBe(0);
  });

  it('dead-letters an authentic event it cannot use with 406 naming the field', async () => {
    await start();
    const r = await post(mg({ id: 'mg9', event: 'failed', timestamp: ts, recipient: 'b@example.com' }));
    expect(r).toMatchObject({ status: 406, body: { error: { field: 'event-data.severity' } } });
    expect(await count("SELECT * FROM ingest_dead_letters WHERE source = 'mailgun'")).toBe(1);
    expect(await count('SELECT * FROM email_events')).toBe(0);
  });
});
