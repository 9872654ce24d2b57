/**
 * The `NextBestActionService` of the active NBA policy: builds the shipment's context point in
 * time, scores the eligible actions, chooses (exploration and control group included) and logs
 * the decision in `nba_decisions`. The risk score is the ETA window's probability of missing the
 * promise, so the service needs the ETA predictor.
 */
import crypto from 'node:crypto';
import { NBA_ACTION_NAMES, type NbaDecision, type NextBestActionService } from '../../domain/nba.js';
import type { EtaPredictor } from '../../domain/eta.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Logger } from '../../log.js';
import { ShipcastError, ValidationError } from '../../errors.js';
import { createFileModelStore } from '../registry/file-model-store.js';
import { initTf, type TfBackendChoice } from '../backend.js';
import { loadNbaBundle, type NbaBundle } from './bundle.js';
import { laneZones, shipmentFacts, type ShipmentFacts } from './context-sql.js';
import type { NbaContext } from './data.js';
import { lateProbability } from './risk.js';
import { actionValues, topFactors } from './score.js';
import { choose, stableUnit } from './policy.js';

export interface NbaServiceDeps {
  warehouse: Warehouse;
  modelsDir: string;
  log: Logger;
  predictor: () => EtaPredictor;
  tfBackend?: TfBackendChoice;
}

/** The policy's context from the shipment's facts and its risk (rounded as the generator logs them). */
export function decisionContext(f: ShipmentFacts, risk: number, at: Date, zoneFallback: number): NbaContext {
  return {
    carrier: f.carrier,
    service_level: f.serviceLevel,
    zone: f.zone ?? zoneFallback,
    risk_score: Math.round(risk * 1e4) / 1e4,
    disruption: f.disruption,
    days_to_promise: Math.round(((f.promisedAt!.getTime() - at.getTime()) / 86_400_000) * 100) / 100,
    order_value: f.orderValue,
    category: f.category,
    shipping_paid: f.shippingPaid,
    email_consent: f.emailConsent,
    promo_consent: f.promoConsent,
    out_for_delivery: f.outForDelivery,
  };
}

const ZONES_REFRESH_MS = 3_600_000;

export async function createNbaService(deps: NbaServiceDeps): Promise<NextBestActionService> {
  const store = createFileModelStore(deps.modelsDir);
  let bundle: NbaBundle | undefined;
  let tfReady = false;
  let zones: { at: number; map: Promise<Map<string, number>> } | undefined;
  /** The lanes' zones, re-read at most hourly (new lanes appear with new invoices). */
  const laneZoneMap = () => {
    if (!zones || Date.now() - zones.at > ZONES_REFRESH_MS) zones = {
        at: Date.now(),
        map: laneZones(deps.warehouse).catch((e: unknown) => {
          zones = undefined;
          throw e;
        }),
      };
    return zones.map;
  };

  async function reload(): Promise<void> {
    const version = await store.activeVersion('nba');
    if (!version) {
      bundle?.model.dispose();
      bundle = undefined;
      return;
    }
    if (bundle?.version === version) return;
    if (!tfReady) {
      await initTf(deps.tfBackend ?? 'auto', deps.log);
      tfReady = true;
    }
    const next = await loadNbaBundle(store, version);
    bundle?.model.dispose();
    bundle = next;
    deps.log.info({ version }, 'NBA policy loaded');
  }
  await reload();

  return {
    activeVersion: () => bundle?.version,
    reload,
    async decide(input): Promise<NbaDecision | undefined> {
      if (!input.trackingNumber && !input.shipmentId) throw new ValidationError('trackingNumber', 'a tracking number or shipment id is required');
      const b = bundle;
      if (!b) throw new ShipcastError('MODEL_NOT_READY', 'no active NBA policy: run `shipcast train nba` first');
      const at = input.at ?? new Date();
      const facts = await shipmentFacts(deps.warehouse, input, at, await laneZoneMap());
      // Nothing to decide for an unknown or already delivered shipment.
      if (!facts || (facts.deliveredAt && facts.deliveredAt <= at)) return undefined;
      if (!facts.promisedAt) throw new ValidationError('promised_at', `shipment ${facts.shipmentId} has no promised delivery date to be late against`);
      const eta = (await deps.predictor().predict([facts.shipmentId], at)).get(facts.shipmentId);
      if (!eta) throw new ShipcastError('MODEL_NOT_READY', `no ETA window for shipment ${facts.shipmentId}: the risk score needs one`);
      const zoneMean = b.spec.numeric.find((n) => n.name === 'zone')?.mean ?? 0;
      const context = decisionContext(facts, lateProbability(eta, facts.promisedAt), at, zoneMean);
      const values = actionValues(b, [context])[0];
      const choice = choose(values, b.policy, { shipmentId: facts.shipmentId, u: stableUnit(`nba-explore:${facts.shipmentId}:${at.toISOString()}`) });
      const k = NBA_ACTION_NAMES.indexOf(choice.action);
      const decision: NbaDecision = {
        decisionId: `nba_${crypto.randomUUID()}`,
        shipmentId: facts.shipmentId,
        action: choice.action,
        propensity: choice.propensity,
        policyVersion: b.version,
        control: choice.control,
        expectedValue: values[k]!,
        values: Object.fromEntries(NBA_ACTION_NAMES.flatMap((a, j) => (values[j] === undefined ? [] : [[a, values[j]!]]))),
        factors: topFactors(b, context, k),
        decidedAt: at,
      };
      await deps.warehouse.run(
        `INSERT INTO nba_decisions (decision_id, customer_id, order_id, shipment_id, decided_at, context, action, propensity, policy_version, control)
         VALUES ($1, $2, $3, $4, $5::TIMESTAMPTZ, $6::JSON, $7, $8, $9, $10)`,
        [decision.decisionId, facts.customerId, facts.orderId, facts.shipmentId, at.toISOString(), JSON.stringify(context), decision.action, decision.propensity, b.version, decision.control],
      );
      return decision;
    },
  };
}
