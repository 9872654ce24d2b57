/**
 * The online tail updates end to end on a synthetic warehouse: `shipcast train eta --until`,
 * `shipcast predict eta`, then the serving predictor. The CLI writes each order's window as the
 * updates stood at its purchase; serving uses them as they stand at `now`. So a shipment served at
 * its own purchase time must get exactly the CLI's window, and the updates must have moved by then.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { generateSample } from '../../src/synth/generate.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { createEtaPredictor } from '../../src/ml/eta/predictor.js';
import { loadEtaBundle } from '../../src/ml/eta/bundle.js';
import { replayStream } from '../../src/ml/eta/adaptive-scoring.js';
import { createFileModelStore } from '../../src/ml/registry/file-model-store.js';
import { conditionOnUndelivered } from '../../src/ml/eta/survival.js';
import { silentLogger } from '../../src/log.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-aci-'));
const db = path.join(dir, 'eta.duckdb');
const csv = path.join(dir, 'pred.csv');
const modelsDir = path.join(dir, 'models');
const env = { SHIPCAST_ENV: 'test', SHIPCAST_MODELS_DIR: modelsDir, SHIPCAST_DATA_DIR: path.join(dir, 'data'), SHIPCAST_LOG_LEVEL: 'silent', SHIPCAST_TF_BACKEND: 'wasm' };
let until: string;
let cliOut: string[];

async function cli(args: string[]): Promise<string[]> {
  const rt = captureRuntime(env);
  const code = await runCli(args, rt);
  expect(code, rt.stderr.join('\n')).toBe(0);
  return rt.stdout;
}

async function withWh<T>(f: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await openWarehouse(db);
  try {
    return await f(wh);
  } finally {
    await wh.close();
  }
}

beforeAll(async () => {
  until = await withWh(async (wh) => {
    await generateSample(wh, { seed: 11, shipments: 2000, asOf: new Date('2026-06-01T00:00:00Z') });
    const r = await wh.one<{ d: string }>(`SELECT strftime(quantile_disc(purchased_at, 0.6), '%Y-%m-%d') AS d FROM orders`);
    return r!.d;
  });
  await cli(['train', 'eta', '--db', db, '--epochs', '2', '--until', until]);
  cliOut = await cli(['predict', 'eta', '--db', db, '--from', until, '--out', csv]);
}, 240_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('online tail updates: CLI and serving', () => {
  it('serve a shipment at its purchase with the CLI window, after the updates have moved', async () => {
    expect(cliOut.join('\n')).toMatch(/use the online-updated tails \((\d+) outcomes replayed\)/);
    const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => {
      const c = l.split(',');
      return { shipmentId: c[1], p10: Date.parse(c[5]), p50: Date.parse(c[6]), p90: Date.parse(c[7]) };
    });
    await withWh(async (wh) => {
      const bundle = await loadEtaBundle(createFileModelStore(modelsDir));
      expect(bundle.calibration.adaptive).toBeDefined();
      const purchased = new Map(
        (await wh.all<{ shipment_id: string; t: Date }>(`SELECT s.shipment_id, o.purchased_at AS t FROM shipments s JOIN orders o USING (order_id)`)).map((r) => [r.shipment_id, r.t.getTime()]),
      );
      // The last purchases of the stream, one per hour, so each is served with its own replay.
      const byHour = new Map<number, (typeof rows)[number]>();
      for (const r of [...rows].sort((a, b) => purchased.get(b.shipmentId)! - purchased.get(a.shipmentId)!)) {
        const hour = Math.floor(purchased.get(r.shipmentId)! / 3_600_000);
        if (!byHour.has(hour)) byHour.set(hour, r);
        if (byHour.size === 6) break;
      }
      let compared = 0;
      let movedFromFixed = 0;
      for (const r of byHour.values()) {
        const now = new Date(purchased.get(r.shipmentId)!);
        const replay = await replayStream(wh, bundle, { until: now });
        expect(replay!.levels.updates).toBeGreaterThan(0);
        if (Math.abs(replay!.adjustment.upper - bundle.calibration.atPurchase.upper) > 1e-9) movedFromFixed++;
        const predictor = await createEtaPredictor({ warehouse: wh, modelsDir, log: silentLogger() });
        const eta = (await predictor.predict([r.shipmentId], now)).get(r.shipmentId);
        if (!eta || eta.basis !== 'AT_PURCHASE') continue;
        const expected = conditionOnUndelivered([r.p10, r.p50, r.p90], now.getTime());
        [eta.p10, eta.p50, eta.p90].forEach((d, k) => expect(Math.abs(d.getTime() - expected[k]), `${r.shipmentId} q${k}`).toBeLessThanOrEqual(1));
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(3);
      expect(movedFromFixed).toBeGreaterThan(0);
      bundle.model.dispose();
    });
  });
});
