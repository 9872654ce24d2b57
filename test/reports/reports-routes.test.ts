import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRouter, type FetchHandler } from '../../src/http/router.js';
import { createApiKeyStore } from '../../src/auth/api-keys.js';
import { silentLogger } from '../../src/log.js';
import { reportRoutes } from '../../src/reports/report-routes.js';
import { buildReport } from '../../src/reports/build-reports.js';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { AS_OF, sampleWarehouse } from './fixture.js';

describe('GET /reports/<name>.json', () => {
  let wh: Warehouse;
  let handler: FetchHandler;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    wh = await sampleWarehouse(400);
    const apiKeys = createApiKeyStore(wh);
    for (const role of ['leadership', 'admin', 'email-system', 'data-scientist']) keys[role] = (await apiKeys.create({ role })).key;
    handler = createRouter(reportRoutes({ warehouse: wh, apiKeys, log: silentLogger(), now: () => AS_OF }));
  });
  afterAll(async () => {
    await wh.close();
  });

  const get = (p: string, key?: string) =>
    handler(new Request(`http://127.0.0.1${p}`, { headers: key ? { authorization: `Bearer ${key}` } : {} }));

  it('401 without a key or with an unknown one', async () => {
    const a = await get('/reports/csat.json');
    expect(a.status).toBe(401);
    expect((await a.json()).error.code).toBe('UNAUTHENTICATED');
    const b = await get('/reports/csat.json', 'sck_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(b.status).toBe(401);
  });

  it('403 for roles without REPORTS_READ', async () => {
    for (const role of ['email-system', 'data-scientist']) {
      const res = await get('/reports/cost-to-serve.json', keys[role]);
      expect(res.status, role).toBe(403);
      expect((await res.json()).error.code).toBe('FORBIDDEN');
    }
  });

  it('200 for leadership and admin, equal to the report built directly', async () => {
    for (const role of ['leadership', 'admin']) {
      const res = await get('/reports/delivery-kpis.json', keys[role]);
      expect(res.status, role).toBe(200);
      const body = await res.json();
      const direct = await buildReport(wh, 'delivery-kpis', { now: AS_OF });
      expect(body.report).toEqual(JSON.parse(JSON.stringify(direct.report)));
    }
  });

  it('applies from/until (inclusive days) and rejects bad input by field', async () => {
    const res = await get('/reports/cost-to-serve.json?from=2026-04-01&until=2026-04-30', keys.leadership);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.meta.from).toBe('2026-04-01T00:00:00.000Z');
    expect(body.meta.until).toBe('2026-05-01T00:00:00.000Z');
    const all = await (await get('/reports/cost-to-serve.json', keys.leadership)).json();
    expect(body.report.overall.shipments).toBeLessThan(all.report.overall.shipments);
    const bad = await get('/reports/csat.json?from=2026-13-01', keys.leadership);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'BAD_INPUT', field: 'from' });
    const unknown = await get('/reports/secrets.json', keys.leadership);
    expect(unknown.status).toBe(404);
  });
});

describe('shipcast report', () => {
  it('writes the reports from a database file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipcast-report-cli-'));
    try {
      const db = path.join(dir, 'w.duckdb');
      const wh = await sampleWarehouse(300, db);
      await wh.close();
      const rt = captureRuntime({});
      const out = path.join(dir, 'out');
      const code = await runCli(['report', '--db', db, '--out', out, '--as-of', '2026-06-01', '--contact-cost', '*=6', '--json'], rt);
      expect(rt.stderr.join('\n')).toBe('');
      expect(code).toBe(0);
      const summary = JSON.parse(rt.stdout[0]!);
      expect(summary.shipments).toBeGreaterThan(250);
      expect((await readdir(out)).sort()).toEqual(['cost-to-serve.json', 'csat.json', 'delivery-kpis.json', 'email.json', 'index.html']);
      const bad = captureRuntime({});
      expect(await runCli(['report', '--db', db, '--out', out, '--from', 'yesterday'], bad)).not.toBe(0);
      expect(bad.stderr.join('\n')).toMatch(/from: must be a date/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
