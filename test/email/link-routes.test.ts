import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createRouter, listen, type RunningServer } from '../../src/http/router.js';
import { createEmailCapability, type EmailCapability } from '../../src/email/email-capability.js';
import { createLinkSigner } from '../../src/email/link-tokens.js';
import { fakePredictor, seedShipment, tempDir, testConfig, window } from './helpers.js';

let wh: Warehouse;
let email: EmailCapability;
let server: RunningServer;
let outboxDir: string;
const predictor = fakePredictor(window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z', 'eta-v7'));
const DAY = new Date('2026-12-02T15:00:00Z');

beforeEach(async () => {
  predictor.set(window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z', 'eta-v7'));
  wh = await openWarehouse(':memory:');
  outboxDir = tempDir('shipcast-links-');
  // The default provider: the outbox mailer writing .eml files.
  email = createEmailCapability({ config: testConfig(outboxDir), log: silentLogger(), warehouse: wh, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }), predictor });
  server = await listen(createRouter(email.routes), { host: '127.0.0.1', port: 0 });
});

afterEach(async () => {
  await server.close();
  await email.close();
  await wh.close();
});

/** Sends one message through the outbox mailer and returns its links, taken from the .eml text part. */
async function sendOne(kind: 'shipped' | 'delivered' | 'return_label' | 'failed_attempt', offer?: { action: string }): Promise<{ id: string; links: Record<string, string> }> {
  const { shipmentId, customerId } = await seedShipment(wh, { consentPromotional: true });
  if (offer) await wh.run("INSERT INTO consent_records VALUES ($1, 'email', 'promotional', true, 'checkout', now())", [customerId]);
  const q = await email.service.enqueue({ shipmentId, kind, trigger: kind, idempotencyKey: `k-${kind}`, offer }, DAY);
  await email.worker.runOnce(DAY);
  const { getEmailMessage } = await import('../../src/email/message-queries.js');
  expect((await getEmailMessage(wh, q.id))?.status).toBe('sent');
  const fs = await import('node:fs');
  const eml = fs.readFileSync(`${outboxDir}/outbox/${q.id}.eml`, 'utf8');
  const text = Buffer.from(eml.split('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n')[1].split('--')[0].replace(/\r\n/g, ''), 'base64').toString('utf8');
  const html = Buffer.from(eml.split('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n')[1].split('--')[0].replace(/\r\n/g, ''), 'base64').toString('utf8');
  const links: Record<string, string> = {};
  for (const m of `${text}\n${html}\n${eml}`.matchAll(/https:\/\/ship\.example(\/email\/[a-z/.]+)\?t=([\w-]+\.[\w-]+)/g)) links[m[1]] = `${server.url}${m[1]}?t=${m[2]}`;
  return { id: q.id, links };
}

describe('email link endpoints', () => {
  it('the live-ETA image shows the current window, and falls back to the window at send time', async () => {
    const { links } = await sendOne('shipped');
    const url = links['/email/eta.svg'];
    expect(url).toBeDefined();
    let res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/image\/svg\+xml/);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const first = await res.text();
    expect(first).toContain('Wed, Dec 2 – Fri, Dec 4');
    expect(first).toContain('Live estimate');
    predictor.set(window('2026-12-06T15:00:00Z', '2026-12-07T15:00:00Z', '2026-12-08T15:00:00Z', 'eta-v8'));
    res = await fetch(url);
    const moved = await res.text();
    expect(moved).toContain('Sun, Dec 6 – Tue, Dec 8');
    predictor.set(undefined);
    const fallback = await (await fetch(url)).text();
    expect(fallback).toContain('Wed, Dec 2 – Fri, Dec 4');
    expect(fallback).toContain('Estimate as of');
  });

  it('refuses tampered, wrongly scoped and expired tokens', async () => {
    const { id, links } = await sendOne('shipped');
    const good = links['/email/l/track'];
    expect((await fetch(good)).status).toBe(200);
    const tokenOf = (u: string) => new URL(u).searchParams.get('t') ?? '';
    const [payload, sig] = tokenOf(good).split('.');
    const flipped = `${payload}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect((await fetch(`${server.url}/email/l/track?t=${flipped}`)).status).toBe(401);
    expect((await fetch(`${server.url}/email/l/reschedule?t=${tokenOf(good)}`)).status).toBe(401);
    const expired = email.signer.sign('track', id, new Date(Date.now() - 15 * 86_400_000));
    expect((await fetch(`${server.url}/email/l/track?t=${expired}`)).status).toBe(401);
    const foreign = createLinkSigner('some-other-secret-1234567').sign('track', id);
    expect((await fetch(`${server.url}/email/l/track?t=${foreign}`)).status).toBe(401);
    const clicks = await wh.all('SELECT event, url FROM email_events');
    expect(clicks).toEqual([{ event: 'clicked', url: '/email/l/track' }]);
  });

  it('one-click unsubscribe (RFC 8058) suppresses the promotional stream and records consent withdrawal', async () => {
    const { links } = await sendOne('delivered', { action: 'discount_10' });
    const url = links['/email/unsubscribe'];
    expect(url).toBeDefined();
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await wh.all('SELECT * FROM email_suppressions')).toEqual([]); // GET never unsubscribes
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect(await wh.all('SELECT address, stream, reason FROM email_suppressions')).toEqual([{ address: 'ana.silva@example.com', stream: 'promotional', reason: 'unsubscribe' }]);
    expect(await wh.one('SELECT consent_email_promotional FROM customers')).toEqual({ consent_email_promotional: false });
    expect(await wh.one('SELECT granted, source FROM consent_records ORDER BY recorded_at DESC LIMIT 1')).toEqual({ granted: false, source: 'unsubscribe_link' });
    // The next offer is refused; delivery notices still go out.
    const sid = (await wh.one<{ shipment_id: string }>('SELECT shipment_id FROM shipments'))!.shipment_id;
    expect(await email.service.enqueue({ shipmentId: sid, kind: 'delivered', trigger: 'manual', idempotencyKey: 'again', offer: { action: 'discount_10' } }, DAY)).toMatchObject({ status: 'suppressed', reason: 'suppressed: unsubscribe' });
    expect((await email.service.enqueue({ shipmentId: sid, kind: 'shipped', trigger: 'manual', idempotencyKey: 'tx' }, DAY)).status).toBe('queued');
  });

  it('the return link shows the return, and the click is recorded', async () => {
    const { links, id } = await sendOne('return_label');
    await wh.run("INSERT INTO returns (return_id, order_id, status, return_tracking_number, requested_at) VALUES ('r1', 'ord_shp_1', 'label_sent', 'RT123', now())");
    const res = await fetch(links['/email/l/return']);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('label sent');
    expect(html).toContain('RT123');
    expect(await wh.all('SELECT message_id, event, url FROM email_events')).toEqual([{ message_id: id, event: 'clicked', url: '/email/l/return' }]);
  });

  it('the reschedule link offers days and records the choice', async () => {
    const { links, id } = await sendOne('failed_attempt');
    const url = links['/email/l/reschedule'];
    const form = await (await fetch(url)).text();
    const day = /name="day" value="(\d{4}-\d{2}-\d{2})"/.exec(form)?.[1];
    expect(day).toBeDefined();
    const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await post('day=tomorrow')).status).toBe(400);
    expect((await post(`day=${day}`)).status).toBe(200);
    expect(await wh.all('SELECT message_id, requested_day::VARCHAR AS day FROM email_reschedule_requests')).toEqual([{ message_id: id, day }]);
  });

  it('the survey link records a CSAT answer', async () => {
    const { links } = await sendOne('delivered');
    const url = links['/email/l/survey'];
    expect((await fetch(url)).status).toBe(200);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'score=5' });
    expect(res.status).toBe(200);
    expect(await wh.all("SELECT score, source FROM csat_responses")).toEqual([{ score: 5, source: 'survey' }]);
  });
});
