import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EtaPrediction, EtaPredictor } from '../../src/domain/eta.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config.js';

/** One request as the fake Mailgun saw it: every multipart field, repeated ones as arrays. */
export interface RecordedRequest {
  path: string;
  authorization: string | null;
  fields: Record<string, string[]>;
  at: number;
}

export interface FakeMailgun {
  url: string;
  requests: RecordedRequest[];
  /** Responses to give, in order, before falling back to 200 "Queued". */
  script: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>;
  close(): Promise<void>;
}

/**
 * A Mailgun-compatible `POST /v3/:domain/messages` on 127.0.0.1:0 that records each multipart
 * request, parsed with the platform's `Request.formData()` (which keeps repeated fields).
 */
export async function startFakeMailgun(): Promise<FakeMailgun> {
  const requests: RecordedRequest[] = [];
  const script: FakeMailgun['script'] = [];
  let n = 0;
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || !/^\/v3\/[^/]+\/messages$/.test(path)) return send(404, { message: 'not found' });
    const form = await new Request('http://fake.mailgun/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
    const fields: Record<string, string[]> = {};
    for (const [k, v] of form.entries()) (fields[k] ??= []).push(typeof v === 'string' ? v : await v.text());
    requests.push({ path, authorization: req.headers.authorization ?? null, fields, at: Date.now() });
    const next = script.shift();
    if (next) return send(next.status, next.body ?? { message: `scripted ${next.status}` }, next.headers);
    n += 1;
    return send(200, { id: `<fake-${n}@mailgun.test>`, message: 'Queued. Thank you.' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ SHIPCAST_DATA_DIR: dataDir, SHIPCAST_DB: ':memory:', SHIPCAST_ENV: 'test', SHIPCAST_LINK_SECRET: 'test-link-secret-0123456789', SHIPCAST_PUBLIC_URL: 'https://ship.example', ...env });
}

export interface SeedOptions {
  shipmentId?: string;
  trackingNumber?: string;
  email?: string | null;
  locale?: string;
  timeZone?: string;
  consentPromotional?: boolean;
  status?: string;
  promisedAt?: string;
  deliveredAt?: string | null;
}

/** Inserts one customer, order and shipment; returns the ids. */
export async function seedShipment(wh: Warehouse, o: SeedOptions = {}): Promise<{ shipmentId: string; trackingNumber: string; customerId: string }> {
  const shipmentId = o.shipmentId ?? 'shp_1';
  const trackingNumber = o.trackingNumber ?? `BR-${shipmentId.replace(/\W/g, "").toUpperCase()}`;
  const customerId = `cus_${shipmentId}`;
  const orderId = `ord_${shipmentId}`;
  await wh.run(
    `INSERT INTO customers (customer_id, email, first_name, locale, time_zone, city, region, country, consent_email_promotional, created_at)
     VALUES ($1, $2, 'Ana', $3, $4, 'Campinas', 'SP', 'BR', $5, now())`,
    [customerId, o.email === undefined ? 'Ana.Silva@Example.com' : o.email, o.locale ?? 'en', o.timeZone ?? 'America/Sao_Paulo', o.consentPromotional ?? false],
  );
  await wh.run("INSERT INTO orders (order_id, customer_id, status, currency, total, purchased_at) VALUES ($1, $2, 'shipped', 'BRL', 120, now())", [orderId, customerId]);
  await wh.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, dest_postal_prefix, dest_city, dest_region, dest_country,
       shipped_at, promised_at, delivered_at, status)
     VALUES ($1, $2, $3, 'Correios', 'standard', '13083', 'Campinas', 'SP', 'BR', now(), $4::TIMESTAMPTZ, $5::TIMESTAMPTZ, $6)`,
    [shipmentId, orderId, trackingNumber, o.promisedAt ?? '2026-12-10T15:00:00Z', o.deliveredAt ?? null, o.status ?? 'in_transit'],
  );
  return { shipmentId, trackingNumber, customerId };
}

/** An `EtaPredictor` whose window the test sets; counts calls. */
export function fakePredictor(initial?: Omit<EtaPrediction, 'shipmentId'>): EtaPredictor & { set(p?: Omit<EtaPrediction, 'shipmentId'>): void; calls: number } {
  let current = initial;
  const p = {
    calls: 0,
    set(next?: Omit<EtaPrediction, 'shipmentId'>) {
      current = next;
    },
    async predict(ids: readonly string[]) {
      p.calls += 1;
      const out = new Map<string, EtaPrediction>();
      if (current) for (const id of ids) out.set(id, { ...current, shipmentId: id });
      return out;
    },
    activeVersion: () => current?.modelVersion,
    async reload() {},
  };
  return p;
}

export function window(p10: string, p50: string, p90: string, modelVersion = 'eta-v7'): Omit<EtaPrediction, 'shipmentId'> {
  return { p10: new Date(p10), p50: new Date(p50), p90: new Date(p90), confidence: 0.8, modelVersion, basis: 'IN_FLIGHT', predictedAt: new Date() };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
