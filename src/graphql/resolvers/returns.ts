/**
 * `returnRisk(orderId)`: the active returns model's probability for one order with its top
 * contributing factors, built over the app's `ReturnsPredictor`; permission `SCORES_READ` via `@requires`.
 */
import type { ReturnsPredictor } from '../../domain/returns.js';
import { ShipcastError } from '../../errors.js';
import type { Resolvers } from '../generated/resolvers-types.js';

export function returnsResolvers(deps: { predictor: () => ReturnsPredictor | undefined }): Resolvers {
  return {
    Query: {
      returnRisk: async (_root, args, ctx) => {
        const predictor = deps.predictor();
        // Re-reads the registry's active pointer (one small file) so a model trained or activated
        // since startup, e.g. by `shipcast train returns`, is used without a restart.
        await predictor?.reload();
        if (!predictor?.activeVersion()) throw new ShipcastError('MODEL_NOT_READY', 'no returns model is available yet; train one with `shipcast train returns`');
        const risk = (await predictor.predict([args.orderId], ctx.now)).get(args.orderId);
        if (!risk) throw new ShipcastError('NOT_FOUND', `orderId: no order "${args.orderId}" with a shipment`, { field: 'orderId' });
        return { ...risk, topFactors: risk.topFactors.map((f) => ({ name: f.name, contribution: f.contribution })) };
      },
    },
  };
}
