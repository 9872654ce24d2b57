/**
 * `nextBestAction(trackingNumber)` (permission SCORES_READ): the active policy's decision for one
 * shipment, decided and logged by the app's `NextBestActionService`; and `nbaPolicyEvaluation`
 * (POLICY_EVAL_READ, admin only): the off-policy evaluation stored with a policy version.
 */
import type { NbaAction as DomainAction, NextBestActionService } from '../../domain/nba.js';
import { ShipcastError } from '../../errors.js';
import { createFileModelStore } from '../../ml/registry/file-model-store.js';
import { readEvaluation } from '../../ml/nba/train.js';
import { activationDecision } from '../../ml/nba/ope.js';
import type { NbaAction, Resolvers } from '../generated/resolvers-types.js';

const toApi = (a: DomainAction) => a.toUpperCase() as NbaAction;

export function nbaResolvers(deps: { service: () => NextBestActionService | undefined; modelsDir: string }): Resolvers {
  const store = createFileModelStore(deps.modelsDir);
  return {
    Query: {
      nextBestAction: async (_root, args, ctx) => {
        const service = deps.service();
        // Picks up a policy trained or activated since startup (one small file read).
        await service?.reload();
        if (!service?.activeVersion()) throw new ShipcastError('MODEL_NOT_READY', 'no next-best-action policy is active: a trained policy goes live only when its off-policy gate passes (`shipcast train nba`), or by `shipcast activate nba <version> --override`');
        const d = await service.decide({ trackingNumber: args.trackingNumber, at: ctx.now });
        if (!d) return null;
        return {
          decisionId: d.decisionId,
          shipmentId: d.shipmentId,
          action: toApi(d.action),
          propensity: d.propensity,
          expectedValue: d.expectedValue,
          policyVersion: d.policyVersion,
          control: d.control,
          values: Object.entries(d.values).map(([a, v]) => ({ action: toApi(a as DomainAction), expectedValue: v! })),
          topFactors: d.factors.map((f) => ({ name: f.name, contribution: f.contribution })),
          decidedAt: d.decidedAt,
        };
      },
      nbaPolicyEvaluation: async (_root, args) => {
        const active = await store.activeVersion('nba');
        const version = args.version ?? active ?? (await store.list('nba'))[0]?.version;
        if (!version) throw new ShipcastError('NOT_FOUND', 'version: no next-best-action policy is registered', { field: 'version' });
        const e = await readEvaluation(deps.modelsDir, version);
        const r = e.report;
        return {
          policyVersion: version,
          active: version === active,
          decisions: e.decisions.n,
          from: e.decisions.from,
          to: e.decisions.to,
          logging: r.logging,
          ips: r.ips,
          snips: r.snips,
          dr: r.dr,
          effectiveSampleSize: r.ess,
          gatePassed: activationDecision(r, {}).activate,
          epsilon: e.policy.epsilon,
          controlShare: e.policy.controlShare,
          evaluatedAt: e.evaluatedAt,
        };
      },
    },
  };
}
