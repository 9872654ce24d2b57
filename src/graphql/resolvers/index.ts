import { ShipcastError } from '../../errors.js';
import { DateTimeScalar, JSONObjectScalar } from '../scalars.js';
import type { Resolvers } from '../generated/resolvers-types.js';
import { modelResolvers } from './models.js';
import { shipmentResolvers } from './shipments.js';
import { apiKeyResolvers } from './api-keys.js';

/** The resolver maps of the core API; capabilities pass theirs to `createGraphQLServer` to be merged in. */
export const CORE_RESOLVERS: readonly Resolvers[] = [
  { DateTime: DateTimeScalar, JSONObject: JSONObjectScalar },
  shipmentResolvers,
  modelResolvers,
  apiKeyResolvers,
];

/** Merges resolver maps type by type; two maps resolving the same field is an error. */
export function mergeResolvers(maps: readonly Resolvers[]): Resolvers {
  const out: Record<string, unknown> = {};
  for (const map of maps) {
    for (const [typeName, value] of Object.entries(map)) {
      const existing = out[typeName];
      if (existing === undefined) {
        out[typeName] = value;
        continue;
      }
      if (typeof existing !== 'object' || typeof value !== 'object' || existing === null || value === null || 'serialize' in existing) {
        throw new ShipcastError('INTERNAL', `resolvers: ${typeName} is defined twice`);
      }
      for (const field of Object.keys(value)) {
        if (field in existing) throw new ShipcastError('INTERNAL', `resolvers: ${typeName}.${field} is defined twice`);
      }
      out[typeName] = { ...existing, ...value };
    }
  }
  return out as Resolvers;
}
