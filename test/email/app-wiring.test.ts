import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { silentLogger } from '../../src/log.js';
import { seedShipment, tempDir, testConfig, waitFor } from './helpers.js';

describe('email in the app', () => {
  // out_for_delivery is urgent, so quiet hours never hold it whatever time the test runs.
  it('a milestone event becomes one .eml in the outbox, and its live-ETA link answers through the app', async () => {
    const dir = tempDir('shipcast-app-email-');
    const config = testConfig(dir, { SHIPCAST_MODELS_DIR: path.join(dir, 'models') });
    const app = await createApp(config, { log: silentLogger() });
    try {
      const { shipmentId, trackingNumber } = await seedShipment(app.ctx.warehouse, { promisedAt: '2026-12-10T15:00:00Z' });
      const event = { type: 'shipment.milestone' as const, milestone: 'out_for_delivery' as const, shipmentId, trackingNumber, causeId: 'tracking:e1', occurredAt: new Date() };
      app.ctx.events.publish('shipment.milestone', event);
      app.ctx.events.publish('shipment.milestone', { ...event, causeId: 'tracking:e2' });
      const outbox = path.join(dir, 'outbox');
      await waitFor(() => fs.existsSync(outbox) && fs.readdirSync(outbox).filter((f) => f.endsWith('.eml')).length > 0, 10_000);
      await waitFor(async () => (await app.ctx.warehouse.one<{ n: number }>("SELECT count(*) AS n FROM email_messages WHERE status = 'sent'"))?.n === 1, 10_000);
      const files = fs.readdirSync(outbox).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      const eml = fs.readFileSync(path.join(outbox, files[0]), 'utf8');
      expect(eml).toContain('From: Shipcast <shipping@notify.shipcast.invalid>');
      expect(eml).toContain('Subject: Arriving today: your order is out for delivery');
      expect(eml).toContain('X-Shipcast-Tags: out_for_delivery, transactional');
      const id = files[0].replace('.eml', '');
      const token = app.ctx.email.signer.sign('eta', id);
      const res = await app.handler(new Request(`http://localhost/email/eta.svg?t=${token}`));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('by Thu, Dec 10'); // no trained model: the promise, in São Paulo time
      expect((await app.handler(new Request(`http://localhost/email/eta.svg?t=${token}x`))).status).toBe(401);
      // The GraphQL mutation reaches the same service: idempotent for (shipment, kind).
      const { key } = await app.ctx.graphql.apiKeys.create({ role: 'email-system', label: 'test' });
      const res2 = await app.handler(new Request('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: `mutation { sendTransactionalEmail(trackingNumber: "${trackingNumber}", kind: OUT_FOR_DELIVERY) { id status } }` }),
      }));
      const body = (await res2.json()) as { data: { sendTransactionalEmail: { id: string; status: string } } };
      expect(body.data.sendTransactionalEmail).toEqual({ id, status: 'SENT' });
    } finally {
      await app.close();
    }
  }, 30_000);
});
