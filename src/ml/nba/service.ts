/**
 * The `NextBestActionService` of the active NBA policy: builds the shipment's context point in
 * time, scores the eligible actions, chooses (exploration and control group included) and logs
 * the decision in `nba_decisions`. The risk score is the ETA window's probability of missing the
 * promise, so the service needs the ETA predictor.
 *
 * A shipment gets one decision per policy version and `DECISION_REUSE_HOURS`: asking again within
 * that time returns the logged decision instead of drawing a new one. Otherwise a caller that asks
 * twice (an email system polling the API) would log two decisions for one thing done, and could
 * keep asking until exploration gave the action it wanted, which would make the logged
 * propensities wrong for off-policy evaluation.
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
import { parseContext, type NbaContext } from './data.js';
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

/** How long a logged decision answers for its shipment (same policy version) before a new one is drawn. */
export const DECISION_REUSE_HOURS = 24;

interface LoggedRow {
  decision_id: string;
  decided_at: Date;
  context: string;
  action: string;
  propensity: number;
  control: boolean;
}

/** Expected values of the eligible actions, the chosen one's, and its top factors. */
function explain(b: NbaBundle, context: NbaContext, action: NbaDecision['action'], values = actionValues(b, [context])[0]) {
  const k = NBA_ACTION_NAMES.indexOf(action);
  return {
    expectedValue: values[k]!,
    values: Object.fromEntries(NBA_ACTION_NAMES.flatMap((a, j) => (values[j] === undefined ? [] : [[a, values[j]!]]))),
    factors: topFactors(b, context, k),
  };
}

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
      const logged = await deps.warehouse.one<LoggedRow>(
        `SELECT decision_id, decided_at, context::VARCHAR AS context, action, propensity, control FROM nba_decisions
         WHERE shipment_id = $1 AND policy_version = $2 AND decided_at <= $3::TIMESTAMPTZ AND decided_at > $3::TIMESTAMPTZ - to_hours($4::INTEGER)
         ORDER BY decided_at DESC LIMIT 1`,
        [facts.shipmentId, b.version, at.toISOString(), DECISION_REUSE_HOURS],
      );
      if (logged) {
        // The values and factors are a pure function of the logged context and the policy, so they are recomputed, not stored.
        const action = logged.action as NbaDecision['action'];
        return {
          decisionId: logged.decision_id,
          shipmentId: facts.shipmentId,
          action,
          propensity: logged.propensity,
          policyVersion: b.version,
          control: logged.control,
          ...explain(b, parseContext(JSON.parse(logged.context)), action),
          decidedAt: new Date(logged.decided_at),
        };
      }
      const eta = (await deps.predictor().predict([facts.shipmentId], at)).get(facts.shipmentId);
      if (!eta) throw new ShipcastError('MODEL_NOT_READY', `no ETA window for shipment ${facts.shipmentId}: the risk score needs one`);
      const zoneMean = b.spec.numeric.find((n) => n.name === 'zone')?.mean ?? 0;
      const context = decisionContext(facts, lateProbability(eta, facts.promisedAt), at, zoneMean);
      const values = actionValues(b, [context])[0];
      const choice = choose(values, b.policy, { shipmentId: facts.shipmentId, u: stableUnit(`nba-explore:${facts.shipmentId}:${at.toISOString()}`) });
      const decision: NbaDecision = {
        decisionId: `nba_${crypto.randomUUID()}`,
        shipmentId: facts.shipmentId,
        action: choice.action,
        propensity: choice.propensity,
        policyVersion: b.version,
        control: choice.control,
        ...explain(b, context, choice.action, values),
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
