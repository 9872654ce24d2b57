/**
 * `returnRisk(orderId)` as `shipcast serve` runs it: a real socket on 127.0.0.1, keys from the CLI,
 * a generated warehouse; MODEL_NOT_READY until a model is trained, then the model trained by
 * `shipcast train returns` (picked up without a restart), NOT_FOUND for an unknown order, and the
 * roles that may read it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { serve } from '../../src/cli/serve-command.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import { createReturnsPredictor } from '../../src/ml/returns/predictor.js';
import { createLogger } from '../../src/log.js';
import type { Role } from '../../src/auth/roles.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-return-risk-'));
const env = { SHIPCAST_ENV: 'test', SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'silent', SHIPCAST_TF_BACKEND: 'wasm' };
const db = path.join(dir, 'app.duckdb');
// The service holds `db`; training runs on a copy of it, into the same model store.
const trainingDb = path.join(dir, 'train.duckdb');
const keys = {} as Record<Role, string>;
let running: { url: string; stop: () => Promise<void> };
let deliveredOrder: { order_id: string; delivered_at: Date };

beforeAll(async () => {
  const wh = await openWarehouse(db);
  await generateSample(wh, { seed: 7, shipments: 2500 });
  deliveredOrder = (await wh.one<{ order_id: string; delivered_at: Date }>(
    `SELECT order_id, delivered_at FROM shipments WHERE delivered_at IS NOT NULL ORDER BY delivered_at DESC LIMIT 1`,
  ))!;
  await wh.checkpoint();
  await wh.close();
  for (const role of ['email-system', 'data-scientist', 'leadership', 'admin'] as Role[]) {
    const rt = captureRuntime(env);
    expect(await runCli(['keys', 'create', '--role', role, '--db', db], rt)).toBe(0);
    keys[role] = rt.stdout.at(-1)!;
  }
  fs.copyFileSync(db, trainingDb);
  running = await serve(captureRuntime(env), { db, port: '0' });
}, 60_000);
afterAll(async () => {
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const query = (orderId: string) => `{ returnRisk(orderId: "${orderId}") { orderId probability modelVersion windowDays predictedAt delivered topFactors { name contribution } } }`;
const post = async (q: string, role: Role = 'admin') => {
  const res = await fetch(`${running.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[role]}` },
    body: JSON.stringify({ query: q }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data: { returnRisk: Record<string, any> } | null; errors?: { extensions: { code: string } }[] };
};
const codes = (b: { errors?: { extensions: { code: string } }[] }) => (b.errors ?? []).map((e) => e.extensions.code);

describe('returnRisk over HTTP', () => {
  it('is MODEL_NOT_READY before a model is trained, then serves the trained one', async () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(codes(await post(query(deliveredOrder.order_id)))).toEqual(['MODEL_NOT_READY']);

    const rt = captureRuntime(env);
    expect(await runCli(['train', 'returns', '--db', trainingDb, '--epochs', '4', '--json'], rt), rt.stderr.join('\n')).toBe(0);
    const trained = JSON.parse(rt.stdout.at(-1)!) as { version: string };

    const body = await post(query(deliveredOrder.order_id));
    expect(body.errors).toBeUndefined();
    const r = body.data!.returnRisk;
    expect(r).toMatchObject({ orderId: deliveredOrder.order_id, modelVersion: trained.version, windowDays: 30, delivered: true });
    expect(new Date(r.predictedAt).getTime()).toBe(new Date(deliveredOrder.delivered_at).getTime());
    expect(r.probability).toBeGreaterThan(0);
    expect(r.probability).toBeLessThan(1);
    expect(r.topFactors).toHaveLength(5);
    const mags = r.topFactors.map((f: { contribution: number }) => Math.abs(f.contribution));
    expect([...mags].sort((a, b) => b - a)).toEqual(mags);

    // The same model scoring the same warehouse in-process agrees (the instant is the delivery).
    const wh = await openWarehouse(trainingDb);
    try {
      const predictor = await createReturnsPredictor({ warehouse: wh, modelsDir: env.SHIPCAST_MODELS_DIR, log: createLogger({ level: 'silent' }) });
      const direct = (await predictor.predict([deliveredOrder.order_id])).get(deliveredOrder.order_id)!;
      expect(direct.probability).toBeCloseTo(r.probability, 12);
      expect(direct.topFactors).toEqual(r.topFactors);
    } finally {
      await wh.close();
    }
  }, 60_000);

  it('NOT_FOUND for an unknown order, naming the field', async () => {
    const body = await post(query('no-such-order'));
    expect(codes(body)).toEqual(['NOT_FOUND']);
    expect(body.data).toBeNull();
  });

  it('email-system, data-scientist and admin may read it; leadership may not', async () => {
    for (const role of ['email-system', 'data-scientist', 'admin'] as Role[]) {
      expect((await post(query(deliveredOrder.order_id), role)).errors, role).toBeUndefined();
    }
    const refused = await post(query(deliveredOrder.order_id), 'leadership');
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.data).toBeNull();
  });
});
