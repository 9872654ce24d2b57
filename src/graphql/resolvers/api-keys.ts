/** API key management over GraphQL, so keys can be issued and revoked without stopping the service. */
import type { ApiKeyInfo } from '../../auth/api-keys.js';
import type { Role } from '../../auth/roles.js';
import type { ApiKeyRole, Resolvers } from '../generated/resolvers-types.js';

const toRole = (r: ApiKeyRole) => r.toLowerCase().replace('_', '-') as Role;
const toApiRole = (r: string) => r.toUpperCase().replace('-', '_') as ApiKeyRole;

export const apiKeyResolvers: Resolvers = {
  Query: {
    apiKeys: (_p, _a, ctx) => ctx.services.apiKeys.list(),
  },
  Mutation: {
    createApiKey: async (_p, { role, label, ratePerSecond }, ctx) => {
      const { key, info } = await ctx.services.apiKeys.create({ role: toRole(role), label: label ?? undefined, ratePerSecond: ratePerSecond ?? undefined });
      ctx.services.log.info({ keyId: info.keyId, role: info.role, by: ctx.principal?.keyId }, 'API key created');
      return { key, apiKey: info };
    },
    revokeApiKey: async (_p, { id }, ctx) => {
      const info = await ctx.services.apiKeys.revoke(id);
      ctx.services.log.info({ keyId: info.keyId, by: ctx.principal?.keyId }, 'API key revoked');
      return info;
    },
  },
  ApiKey: {
    id: (k: ApiKeyInfo) => k.keyId,
    role: (k: ApiKeyInfo) => toApiRole(k.role),
  },
};
