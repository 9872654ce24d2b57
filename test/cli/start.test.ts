import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureRuntime } from '../../src/cli/runtime.js';
import { start } from '../../src/cli/start-command.js';

describe('shipcast start (the main job)', () => {
  it('creates the warehouse, generates, trains and serves; a second run reuses everything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-start-'));
    const env = {
      SHIPCAST_DB: path.join(dir, 'shipcast.duckdb'),
      SHIPCAST_DATA_DIR: dir,
      SHIPCAST_MODELS_DIR: path.join(dir, 'models'),
      SHIPCAST_SAMPLE_SHIPMENTS: '1500',
      SHIPCAST_ETA_EPOCHS: '2',
      SHIPCAST_ENV: 'test',
    };
    const first = await start(captureRuntime(env), { serve: false });
    expect(first.report).toMatchObject({ generated: true, trained: true, trainedReturns: true, createdAdminKey: true });
    expect(fs.existsSync(env.SHIPCAST_DB)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'models', 'eta', 'active'), 'utf8').trim()).toBe(first.report.etaVersion);
    expect(fs.readFileSync(path.join(dir, 'models', 'returns', 'active'), 'utf8').trim()).toBe(first.report.returnsVersion);
    expect((fs.statSync(first.report.adminKeyFile).mode & 0o777).toString(8)).toBe('600');
    expect(fs.readFileSync(first.report.reportPage, 'utf8')).toContain('<html');

    const rt = captureRuntime(env);
    const second = await start(rt, { port: '0' });
    try {
      expect(second.report).toMatchObject({
        generated: false, trained: false, createdAdminKey: false, etaVersion: first.report.etaVersion, trainedReturns: false, returnsVersion: first.report.returnsVersion,
      });
      expect(rt.stderr.filter((l) => /^\[\d\/\d\]/.test(l)).map((l) => l.slice(0, 5))).toEqual(['[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]']);
      expect(second.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
      const key = fs.readFileSync(first.report.adminKeyFile, 'utf8').trim();
      const res = await fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ shipments(first: 1) { edges { node { trackingNumber } } } }' }),
      });
      const body = (await res.json()) as { data: { shipments: { edges: unknown[] } } };
      expect(body.data.shipments.edges).toHaveLength(1);
      // The returns model trained by the first run serves returnRisk.
      const order = await fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ shipments(first: 1, filter: { status: [DELIVERED] }) { edges { node { order { id } } } } }' }),
      });
      const orderId = ((await order.json()) as { data: { shipments: { edges: { node: { order: { id: string } } }[] } } }).data.shipments.edges[0].node.order.id;
      const risk = await fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: `{ returnRisk(orderId: "${orderId}") { probability modelVersion } }` }),
      });
      expect(((await risk.json()) as { data: { returnRisk: { modelVersion: string } } }).data.returnRisk.modelVersion).toBe(first.report.returnsVersion);
    } finally {
      await second.stop();
    }
  }, 300_000);
});
