/**
 * Email throughput: personalized emails rendered (MJML compiled once per template, variables filled
 * per message, ETA window from a batch predictor) and accepted by a local Mailgun-compatible
 * server through the real mailgun.js client. Target: >= 500 emails/s through the outbox worker.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { DomainEvents } from '../src/domain/events.js';
import { createMetricsRegistry } from '../src/observability/metrics.js';
import { createEmailCapability } from '../src/email/email-capability.js';
import { composeEmail } from '../src/email/compose.js';
import { loadShipmentContexts } from '../src/email/recipients.js';
import type { EtaPrediction, EtaPredictor } from '../src/domain/eta.js';

const N = Number(process.env.EMAIL_BENCH_N ?? 3000);

/** A batch predictor with per-shipment windows, so every email is personalized differently. */
function syntheticPredictor(): EtaPredictor {
  return {
    async predict(ids, now = new Date()) {
      const out = new Map<string, EtaPrediction>();
      for (const id of ids) {
        const h = Number(id.replace(/\D/g, '')) % 97;
        const p50 = new Date(now.getTime() + (24 + h) * 3_600_000);
        out.set(id, { shipmentId: id, p10: new Date(p50.getTime() - 20 * 3_600_000), p50, p90: new Date(p50.getTime() + 30 * 3_600_000), confidence: 0.8, modelVersion: 'bench', basis: 'IN_FLIGHT', predictedAt: now });
      }
      return out;
    },
    activeVersion: () => 'bench',
    async reload() {},
  };
}

/**
 * The local Mailgun-compatible server runs in its own process, as the real API would be remote:
 * parsing ~10 KB multipart bodies must not share the sender's event loop. It validates and counts
 * each request; `GET /count` reports how many it accepted.
 */
const SERVER_SOURCE = `
import { spawn } from 'node:child_process';
let accepted = 0;
const server = http.createServer(async (req, res) => {
  if (req.method === 'GET') { res.end(String(accepted)); return; }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const form = await new Request('http://mg/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
  if (!form.get('to') || !form.get('html') || !form.get('text') || !form.get('v:message_id') || form.getAll('o:tag').length !== 2) {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"missing field"}');
    return;
  }
  accepted += 1;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '<' + accepted + '@bench>', message: 'Queued. Thank you.' }));
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function fakeMailgun(): Promise<{ url: string; accepted: () => Promise<number>; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`fake Mailgun exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    accepted: async () => Number(await (await fetch(`${url}/count`)).text()),
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export default async function emailBench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-email-bench-'));
  const wh = await openWarehouse(':memory:');
  const mg = await fakeMailgun();
  try {
    await wh.run(`INSERT INTO customers (customer_id, email, first_name, locale, time_zone, city, country, created_at)
      SELECT 'c' || i, 'customer' || i || '@example.com', 'Name' || i, CASE WHEN i % 2 = 0 THEN 'pt-BR' ELSE 'en' END,
             CASE WHEN i % 3 = 0 THEN 'America/Sao_Paulo' WHEN i % 3 = 1 THEN 'America/New_York' ELSE 'Europe/Lisbon' END, 'City' || (i % 50), 'BR', now()
      FROM range(${N}) t(i)`);
    await wh.run(`INSERT INTO orders (order_id, customer_id, status, currency, purchased_at) SELECT 'o' || i, 'c' || i, 'shipped', 'BRL', now() FROM range(${N}) t(i)`);
    await wh.run(`INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, dest_city, promised_at, status)
      SELECT 's' || i, 'o' || i, 'BR' || lpad(i::VARCHAR, 9, '0'), 'Correios', 'standard', 'City' || (i % 50), now() + INTERVAL 3 DAY, 'in_transit' FROM range(${N}) t(i)`);
    const config = loadConfig({ SHIPCAST_DATA_DIR: dir, SHIPCAST_ENV: 'test', SHIPCAST_LINK_SECRET: 'bench-link-secret-0123456789', SHIPCAST_MAILER: 'mailgun', MAILGUN_API_KEY: 'k', MAILGUN_DOMAIN: 'mg.bench', MAILGUN_URL: mg.url });
    const predictor = syntheticPredictor();
    const cap = createEmailCapability({ config, log: silentLogger(), warehouse: wh, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }), predictor, worker: { batchSize: 128, concurrency: 32, lanes: 3, pollMs: 20 } });

    // Render only (no I/O): the composer and the compiled templates.
    const ids = Array.from({ length: N }, (_, i) => `s${i}`);
    const ctxs = await loadShipmentContexts(wh, ids.slice(0, 1000));
    const preds = await predictor.predict(ids.slice(0, 1000));
    const kinds = ['shipped', 'delay', 'out_for_delivery', 'delivered'] as const;
    const compose = { renderer: (await import('../src/email/templates/render.js')).createTemplateRenderer(), signer: cap.signer, senders: { transactional: { domain: 'mg.bench', from: 'B <b@mg.bench>' } }, publicUrl: 'https://x', brand: 'B' };
    const tc0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < 1000; i++) {
      const id = `s${i}`;
      bytes += composeEmail({ messageId: `m${i}`, kind: kinds[i % 4], stream: 'transactional', trigger: 'manual', ctx: ctxs.get(id)!, prediction: preds.get(id) }, compose).email.html.length;
    }
    const renderPerSec = 1000 / ((performance.now() - tc0) / 1000);

    // Baseline in the same run: the bare provider path (mailgun.js → this server) for pre-rendered
    // messages, no warehouse, no rendering. The pipeline's figure is read against it.
    const sample = composeEmail({ messageId: 'm0', kind: 'shipped', stream: 'transactional', trigger: 'manual', ctx: ctxs.get('s0')!, prediction: preds.get('s0') }, compose).email;
    const sendMany = async (count: number, prefix: string) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < count) await cap.mailer.send({ ...sample, messageId: `${prefix}${next++}` });
      }));
    };
    await sendMany(300, 'warm'); // JIT and connection warm-up, not measured
    const BASE = 1000;
    const tb0 = performance.now();
    await sendMany(BASE, 'b');
    const providerOnlyPerSec = BASE / ((performance.now() - tb0) / 1000);
    const acceptedBeforeDrain = await mg.accepted();

    // Enqueue one at a time (as a lone API call would), then the rest in batches of 250 (as the
    // micro-batched milestone trigger does); urgent kinds so quiet hours do not hold them.
    const req = (i: number) => ({ shipmentId: `s${i}`, kind: i % 2 ? ('out_for_delivery' as const) : ('delay' as const), trigger: 'bench', idempotencyKey: `s${i}|bench` });
    const SINGLE = 200;
    const ts0 = performance.now();
    for (let i = 0; i < SINGLE; i++) await cap.service.enqueue(req(i));
    const singleSec = (performance.now() - ts0) / 1000;
    const te0 = performance.now();
    for (let i = SINGLE; i < N; i += 250) await cap.service.enqueueMany(Array.from({ length: Math.min(250, N - i) }, (_, k) => req(i + k)));
    const enqueueSec = (performance.now() - te0) / 1000;

    // Drain: claim, predict (batched), render, send through mailgun.js, record.
    const t0 = performance.now();
    await cap.start();
    while ((await mg.accepted()) - acceptedBeforeDrain < N) await new Promise((r) => setTimeout(r, 50));
    const sendSec = (performance.now() - t0) / 1000;
    await cap.close();
    const sent = await wh.one<{ n: number }>("SELECT count(*) AS n FROM email_messages WHERE status = 'sent'");
    return {
      emails: N,
      renderOnlyPerSec: Math.round(renderPerSec),
      avgHtmlBytes: Math.round(bytes / 1000),
      enqueueSinglePerSec: Math.round(SINGLE / singleSec),
      enqueueBatchedPerSec: Math.round((N - SINGLE) / enqueueSec),
      providerOnlyPerSec: Math.round(providerOnlyPerSec),
      renderedAndAcceptedPerSec: Math.round(N / sendSec),
      pipelineVsProvider: Number((N / sendSec / providerOnlyPerSec).toFixed(2)),
      loadAverage1m: Number(os.loadavg()[0].toFixed(1)),
      drainSeconds: Number(sendSec.toFixed(2)),
      recordedSent: sent?.n,
      target: '>= 500 emails/s rendered and accepted',
      meetsTarget: N / sendSec >= 500 && sent?.n === N,
    };
  } finally {
    await mg.close();
    await wh.close();
  }
}
