/** `nextBestAction` and `nbaPolicyEvaluation` over a real socket, on a generated warehouse with a trained policy. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/http/router.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import { silentLogger } from '../../src/log.js';
import { trainNba } from '../../src/ml/nba/train.js';
import { createNbaService } from '../../src/ml/nba/service.js';
import { nbaResolvers } from '../../src/graphql/resolvers/nba.js';
import type { NextBestActionService } from '../../src/domain/nba.js';
import { createFixture, FixedPredictor, type Fixture } from './helpers.js';

const DAY = 86_400_000;
const AS_OF = new Date(Date.now() - DAY);
let dir: string;
let wh: Warehouse;
let fx: Fixture;
let srv: RunningServer;
let service: NextBestActionService;
let open: { tracking_number: string; shipment_id: string }[];
let version: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-gql-nba-'));
  wh = await openWarehouse(':memory:');
  await generateSample(wh, { seed: 9, shipments: 20_000, asOf: AS_OF });
  // Activated by override: at this size the gate usually refuses (docs/NBA.md).
  const r = await trainNba({ warehouse: wh, modelsDir: dir, log: silentLogger() }, { epochs: 8, override: true, bootstrap: 200 });
  r.scorer.model.dispose();
  version = r.version;
  open = await wh.all('SELECT tracking_number, shipment_id FROM shipments WHERE delivered_at IS NULL AND shipped_at IS NOT NULL AND promised_at IS NOT NULL ORDER BY shipment_id LIMIT 5');
  // The ETA window for the risk: P50 two days after each open shipment's promise.
  const windows = new Map<string, ConstructorParameters<typeof FixedPredictor>[0] extends Map<string, infer W> ? W : never>();
  for (const s of await wh.all<{ shipment_id: string; promised_at: Date }>('SELECT shipment_id, promised_at FROM shipments WHERE delivered_at IS NULL AND promised_at IS NOT NULL')) {
    const p50 = new Date(s.promised_at).getTime() + 2 * DAY;
    windows.set(s.shipment_id, { p10: new Date(p50 - DAY), p50: new Date(p50), p90: new Date(p50 + DAY), confidence: 0.8, modelVersion: 'eta-test', basis: 'IN_FLIGHT' });
  }
  const predictor = new FixedPredictor(windows);
  service = await createNbaService({ warehouse: wh, modelsDir: dir, log: silentLogger(), predictor: () => predictor });
  fx = await createFixture({ warehouse: wh, resolvers: [nbaResolvers({ service: () => service, modelsDir: dir })] });
  srv = await listen(fx.server.handler, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await srv?.close();
  await fx?.close();
  await wh?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function post(query: string, variables: Record<string, unknown>, key: string) {
  const res = await fetch(`${srv.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any } };
}

const NBA = `query($tn: ID!) { nextBestAction(trackingNumber: $tn) {
  decisionId shipmentId action propensity expectedValue policyVersion control decidedAt
  values { action expectedValue } topFactors { name contribution } } }`;

describe('nextBestAction over HTTP', () => {
  it('decides with the active policy, logs the decision, and explains it', async () => {
    expect(open.length).toBeGreaterThan(0);
    for (const s of open) {
      const { status, body } = await post(NBA, { tn: s.tracking_number }, fx.keys['email-system']);
      expect(status).toBe(200);
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      const d = body.data.nextBestAction;
      expect(d).toMatchObject({ shipmentId: s.shipment_id, policyVersion: version });
      expect(['NONE', 'APOLOGY_NOTICE', 'RESCHEDULE_OFFER', 'DISCOUNT_CODE', 'SHIPPING_REFUND']).toContain(d.action);
      expect(d.propensity).toBeGreaterThan(0);
      expect(d.propensity).toBeLessThanOrEqual(1);
      expect(d.values.find((v: any) => v.action === d.action).expectedValue).toBeCloseTo(d.expectedValue, 9);
      expect(d.values.some((v: any) => v.action === 'NONE')).toBe(true);
      expect(d.topFactors.length).toBeGreaterThan(0);
      const abs = d.topFactors.map((f: any) => Math.abs(f.contribution));
      expect([...abs].sort((a, b) => b - a)).toEqual(abs);
      const row = await wh.one<{ action: string; propensity: number; control: boolean; policy_version: string }>(
        'SELECT action, propensity, control, policy_version FROM nba_decisions WHERE decision_id = $1', [d.decisionId]);
      expect(row).toMatchObject({ action: d.action.toLowerCase(), control: d.control, policy_version: version });
      expect(row!.propensity).toBeCloseTo(d.propensity, 12);
    }
  });

  it('answers null for an unknown shipment and FORBIDDEN without SCORES_READ', async () => {
    expect((await post(NBA, { tn: 'NO-SUCH' }, fx.keys['email-system'])).body).toEqual({ data: { nextBestAction: null } });
    const leadership = await post(NBA, { tn: open[0].tracking_number }, fx.keys.leadership);
    expect(leadership.body.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
  });

  it('serves the stored policy evaluation to admins only', async () => {
    const q = `{ nbaPolicyEvaluation { policyVersion active decisions from to effectiveSampleSize gatePassed epsilon controlShare evaluatedAt
      logging { value lower upper } ips { value lower upper } snips { value lower upper } dr { value lower upper } } }`;
    const admin = await post(q, {}, fx.keys.admin);
    expect(admin.body.errors, JSON.stringify(admin.body.errors)).toBeUndefined();
    const e = admin.body.data.nbaPolicyEvaluation;
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'nba', version, 'evaluation.json'), 'utf8'));
    expect(e).toMatchObject({ policyVersion: version, active: true, decisions: stored.decisions.n, effectiveSampleSize: stored.report.ess, epsilon: 0.05, controlShare: 0.05 });
    expect(e.dr).toEqual(stored.report.dr);
    expect(e.gatePassed).toBe(stored.report.dr.lower > stored.report.logging.value);
    for (const role of ['email-system', 'data-scientist', 'leadership'] as const) {
      expect((await post(q, {}, fx.keys[role])).body.errors.map((x: any) => x.extensions.code)).toEqual(['FORBIDDEN']);
    }
    const missing = await post('{ nbaPolicyEvaluation(version: "nope") { policyVersion } }', {}, fx.keys.admin);
    expect(missing.body.errors.map((x: any) => x.extensions.code)).toEqual(['NOT_FOUND']);
  });
});
