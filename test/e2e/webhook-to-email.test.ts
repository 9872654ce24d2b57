/**
 * The whole path the product exists for, through one app as `npm start` builds it: a signed carrier
 * webhook moves a shipment, re-predicts its ETA with the trained model, and triggers exactly one
 * personalized email, which a duplicate delivery of the same webhook does not repeat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import { trainEta } from '../../src/ml/eta/train.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { SECRET, canonicalEvent, signedTrackingRequest } from '../ingest/helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-e2e-'));
let wh: Warehouse;
let app: App;
let version: string;

async function until(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const config = loadConfig({
    SHIPCAST_DB: path.join(dir, 'e2e.duckdb'), SHIPCAST_DATA_DIR: dir, SHIPCAST_MODELS_DIR: path.join(dir, 'models'),
    SHIPCAST_ENV: 'test', SHIPCAST_WEBHOOK_SECRET: SECRET, SHIPCAST_LINK_SECRET: 'e2e-link-secret-0123456789',
  });
  wh = await openWarehouse(config.dbPath);
  await generateSample(wh, { seed: 3, shipments: 1500, asOf: new Date() });
  const trained = await trainEta({ warehouse: wh, modelsDir: config.modelsDir, log: silentLogger() }, { seed: 1, epochs: 2 });
  trained.model.dispose();
  version = trained.version;
  app = await createApp(config, { log: silentLogger(), warehouse: wh });
}, 240_000);

afterAll(async () => {
  await app?.close();
  await wh?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('carrier webhook → in-flight ETA → one email', () => {
  it('sends exactly one out-for-delivery email with the active model, even when the webhook is delivered twice', async () => {
    const target = await wh.one<{ shipment_id: string; tracking_number: string; carrier: string }>(
      `SELECT s.shipment_id, s.tracking_number, s.carrier FROM shipments s
         JOIN orders o USING (order_id) JOIN customers c USING (customer_id)
        WHERE s.status = 'in_transit' AND c.consent_email_transactional AND c.email IS NOT NULL
          AND lower(c.email) NOT IN (SELECT address FROM email_suppressions)
        ORDER BY s.shipment_id LIMIT 1`,
    );
    expect(target, 'the sample has an in-transit shipment of a consenting customer').toBeDefined();
    const before = await wh.one<{ n: number }>('SELECT count(*) AS n FROM email_messages');
    const event = canonicalEvent({
      tracking_number: target!.tracking_number, carrier: target!.carrier, status: 'out_for_delivery',
      occurred_at: new Date(Date.now() - 60_000).toISOString(),
    });
    for (let i = 0; i < 2; i++) {
      const res = await app.handler(signedTrackingRequest('http://localhost', event));
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }

    const ofd = () =>
      wh.all<{ message_id: string; status: string; model_version: string | null }>(
        "SELECT message_id, status, model_version FROM email_messages WHERE shipment_id = $1 AND kind = 'out_for_delivery'",
        [target!.shipment_id],
      );
    await until(async () => (await ofd()).some((m) => m.status === 'sent'));
    await new Promise((r) => setTimeout(r, 500)); // room for a wrongful second send to show up
    const messages = await ofd();
    expect(messages).toHaveLength(1);
    expect(messages[0].model_version).toBe(version);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM email_messages'))!.n).toBe(before!.n + 1);
    const eml = fs.readFileSync(path.join(dir, 'outbox', `${messages[0].message_id}.eml`), 'utf8');
    expect(eml).toContain('out_for_delivery');

    const events = await wh.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events WHERE event_id = $1', [event.event_id as string]);
    expect(events!.n).toBe(1);
    const shipment = await wh.one<{ status: string }>('SELECT status FROM shipments WHERE shipment_id = $1', [target!.shipment_id]);
    expect(shipment!.status).toBe('out_for_delivery');

    // The API now serves an in-flight window from the same model, conditioned on that scan.
    const { key } = await app.ctx.graphql.apiKeys.create({ role: 'email-system' });
    const res = await app.handler(new Request('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: `{ predictedEta(trackingNumber: "${target!.tracking_number}") { basis modelVersion p10 p90 } }` }),
    }));
    const body = (await res.json()) as { data: { predictedEta: { basis: string; modelVersion: string; p10: string; p90: string } } };
    expect(body.data.predictedEta).toMatchObject({ basis: 'IN_FLIGHT', modelVersion: version });
    expect(Date.parse(body.data.predictedEta.p90)).toBeGreaterThanOrEqual(Date.parse(body.data.predictedEta.p10));
  }, 60_000);
});
