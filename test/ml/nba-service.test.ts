import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import type { EtaPrediction, EtaPredictor } from '../../src/domain/eta.js';
import type { NextBestActionService } from '../../src/domain/nba.js';
import { silentLogger } from '../../src/log.js';
import { initTf } from '../../src/ml/backend.js';
import { readLoggedDecisions } from '../../src/ml/nba/data.js';
import { fitNbaModel } from '../../src/ml/nba/fit.js';
import { writeNbaBundle } from '../../src/ml/nba/bundle.js';
import { createFileModelStore } from '../../src/ml/registry/file-model-store.js';
import { DEFAULT_NBA_REWARD, realizedReward } from '../../src/ml/nba/reward.js';
import { createNbaService, DECISION_REUSE_HOURS } from '../../src/ml/nba/service.js';
import { fillOutcomes } from '../../src/ml/nba/outcomes.js';
import { isEligible } from '../../src/ml/nba/eligibility.js';
import { lateProbability } from '../../src/ml/nba/risk.js';
import { NBA_AS_OF, nbaWarehouse } from './nba-fixture.js';

const DAY = 86_400_000;

/** An in-test EtaPredictor: every open shipment's P50 sits `lateDays` after its promise. */
class PromiseRelativePredictor implements EtaPredictor {
  constructor(private wh: Warehouse, private lateDays: number) {}
  async predict(ids: readonly string[], now = new Date()): Promise<Map<string, EtaPrediction>> {
    const out = new Map<string, EtaPrediction>();
    for (const id of ids) {
      const r = await this.wh.one<{ promised_at: Date }>('SELECT promised_at FROM shipments WHERE shipment_id = $1', [id]);
      if (!r) continue;
      const p50 = new Date(r.promised_at).getTime() + this.lateDays * DAY;
      out.set(id, { shipmentId: id, p10: new Date(p50 - DAY), p50: new Date(p50), p90: new Date(p50 + 2 * DAY), confidence: 0.8, modelVersion: 'eta-fixed', basis: 'IN_FLIGHT', predictedAt: now });
    }
    return out;
  }
  activeVersion() {
    return 'eta-fixed';
  }
  async reload() {}
}

describe('NBA service on a real DuckDB', () => {
  let wh: Warehouse;
  let dir: string;
  let service: NextBestActionService;
  beforeAll(async () => {
    await initTf('auto', silentLogger());
    wh = await nbaWarehouse(20_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-nba-svc-'));
    const fitted = await fitNbaModel(await readLoggedDecisions(wh), { seed: 1, epochs: 10 });
    const store = createFileModelStore(dir);
    await store.register({ kind: 'nba', version: 'nba-svc', createdAt: new Date().toISOString(), dataFingerprint: 'x' }, {}, (d) =>
      writeNbaBundle(d, { model: fitted.model, spec: fitted.spec, reward: DEFAULT_NBA_REWARD, policy: { epsilon: 0.1, controlShare: 0.2 } }));
    fitted.model.dispose();
    service = await createNbaService({ warehouse: wh, modelsDir: dir, log: silentLogger(), predictor: () => new PromiseRelativePredictor(wh, 1) });
  });
  afterAll(async () => {
    await wh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to decide before a policy is active, then decides once one is', async () => {
    expect(service.activeVersion()).toBeUndefined();
    await expect(service.decide({ trackingNumber: 'x' })).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    await createFileModelStore(dir).activate('nba', 'nba-svc');
    await service.reload();
    expect(service.activeVersion()).toBe('nba-svc');
  });

  it('decides for an open shipment from its point-in-time context and logs the decision', async () => {
    const open = await wh.all<{ tracking_number: string; shipment_id: string }>(
      'SELECT tracking_number, shipment_id FROM shipments WHERE delivered_at IS NULL AND shipped_at IS NOT NULL ORDER BY shipment_id LIMIT 40');
    expect(open.length).toBeGreaterThan(10);
    let controls = 0;
    for (const s of open) {
      const d = (await service.decide({ trackingNumber: s.tracking_number, at: NBA_AS_OF }))!;
      expect(d.shipmentId).toBe(s.shipment_id);
      expect(d.policyVersion).toBe('nba-svc');
      expect(d.propensity).toBeGreaterThan(0);
      expect(d.values[d.action]).toBe(d.expectedValue);
      if (d.control) expect(d.action).toBe('none');
      controls += Number(d.control);
      expect(d.factors.length).toBeGreaterThan(0);
      const row = await wh.one<{ context: string; action: string; propensity: number; control: boolean; policy_version: string; outcome: string | null }>(
        'SELECT context::VARCHAR AS context, action, propensity, control, policy_version, outcome FROM nba_decisions WHERE decision_id = $1', [d.decisionId]);
      expect(row).toMatchObject({ action: d.action, control: d.control, policy_version: 'nba-svc', outcome: null });
      expect(row!.propensity).toBeCloseTo(d.propensity, 12);
      const ctx = JSON.parse(row!.context);
      expect(isEligible(d.action, ctx)).toBe(true);
      for (const a of Object.keys(d.values)) expect(isEligible(a as never, ctx)).toBe(true);
      // P50 one day after the promise: the risk is the window's probability of missing it.
      expect(ctx.risk_score).toBeGreaterThan(0.5);
    }
    expect(controls).toBeLessThan(open.length);
  });

  it('asking again within the reuse window returns the logged decision, not a new draw; after it a new decision is logged', async () => {
    const s = (await wh.one<{ tracking_number: string; shipment_id: string }>(
      'SELECT tracking_number, shipment_id FROM shipments WHERE delivered_at IS NULL AND shipped_at IS NOT NULL ORDER BY shipment_id DESC LIMIT 1'))!;
    const count = async () => (await wh.one<{ n: number }>('SELECT count(*) AS n FROM nba_decisions WHERE shipment_id = $1', [s.shipment_id]))!.n;
    const at = new Date(NBA_AS_OF.getTime() - 2 * DAY);
    const first = (await service.decide({ trackingNumber: s.tracking_number, at }))!;
    const again = (await service.decide({ shipmentId: s.shipment_id, at: new Date(at.getTime() + (DECISION_REUSE_HOURS - 1) * 3_600_000) }))!;
    expect(again).toEqual(first);
    expect(await count()).toBe(1);
    const later = (await service.decide({ trackingNumber: s.tracking_number, at: new Date(at.getTime() + (DECISION_REUSE_HOURS + 1) * 3_600_000) }))!;
    expect(later.decisionId).not.toBe(first.decisionId);
    expect(await count()).toBe(2);
  });

  it('returns nothing for delivered and unknown shipments, and names a missing input', async () => {
    const delivered = await wh.one<{ tracking_number: string }>('SELECT tracking_number FROM shipments WHERE delivered_at < $1::TIMESTAMPTZ LIMIT 1', [NBA_AS_OF.toISOString()]);
    expect(await service.decide({ trackingNumber: delivered!.tracking_number, at: NBA_AS_OF })).toBeUndefined();
    expect(await service.decide({ trackingNumber: 'NO-SUCH', at: NBA_AS_OF })).toBeUndefined();
    await expect(service.decide({})).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'trackingNumber' });
  });

  it('fills in outcomes once the window has passed, from what the warehouse recorded', async () => {
    const at = new Date(NBA_AS_OF.getTime() - 120 * DAY);
    const past = await wh.all<{ shipment_id: string }>(
      `SELECT shipment_id FROM shipments WHERE shipped_at < $1::TIMESTAMPTZ AND delivered_at > $1::TIMESTAMPTZ ORDER BY shipment_id LIMIT 30`, [at.toISOString()]);
    const ids: string[] = [];
    for (const s of past) ids.push((await service.decide({ shipmentId: s.shipment_id, at }))!.decisionId);
    const n = await fillOutcomes(wh, { now: NBA_AS_OF });
    expect(n).toBe(ids.length);
    expect(await fillOutcomes(wh, { now: NBA_AS_OF })).toBe(0);
    for (const id of ids) {
      const r = await wh.one<{ outcome: string; reward: number; context: string; customer_id: string; decided_at: Date; outcome_at: Date }>(
        'SELECT outcome, reward, context::VARCHAR AS context, customer_id, decided_at, outcome_at FROM nba_decisions WHERE decision_id = $1', [id]);
      const outcome = JSON.parse(r!.outcome);
      expect(r!.reward).toBeCloseTo(realizedReward(outcome, JSON.parse(r!.context)), 9);
      expect(new Date(r!.outcome_at).getTime() - new Date(r!.decided_at).getTime()).toBe(90 * DAY);
      const repeat = await wh.one<{ n: number }>(
        `SELECT count(*) AS n FROM orders WHERE customer_id = $1 AND purchased_at > $2::TIMESTAMPTZ AND purchased_at <= $2::TIMESTAMPTZ + INTERVAL 90 DAY`,
        [r!.customer_id, new Date(r!.decided_at).toISOString()]);
      expect(outcome.repeat_purchase).toBe(Number(repeat!.n) > 0);
    }
  });

  it('the risk is the ETA window\'s probability of missing the promise', () => {
    const w = { p10: new Date(0), p50: new Date(10 * DAY), p90: new Date(20 * DAY) };
    expect(lateProbability(w, new Date(10 * DAY))).toBeCloseTo(0.5, 12);
    expect(lateProbability(w, new Date(20 * DAY))).toBeCloseTo(0.1, 12);
    expect(lateProbability(w, new Date(5 * DAY))).toBeCloseTo(0.7, 12);
    expect(lateProbability(w, new Date(-100 * DAY))).toBe(0.99);
  });
});
