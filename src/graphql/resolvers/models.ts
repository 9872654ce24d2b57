/** The model registry, training jobs and activation. */
import type { ModelKind as DomainModelKind } from '../../domain/models.js';
import { ShipcastError } from '../../errors.js';
import type { ModelKind, Resolvers, TrainingJobStatus } from '../generated/resolvers-types.js';

const toDomainKind = (k: ModelKind) => k.toLowerCase() as DomainModelKind;
const toApiKind = (k: string) => k.toUpperCase() as ModelKind;

export const modelResolvers: Resolvers = {
  Query: {
    models: (_p, { kind }, ctx) => ctx.services.models.list(kind ? toDomainKind(kind) : undefined),
    model: async (_p, { kind, version }, ctx) => (await ctx.services.models.get(toDomainKind(kind), version)) ?? null,
    trainingJob: async (_p, { id }, ctx) => (await ctx.services.jobs.get(id)) ?? null,
  },
  Mutation: {
    trainModel: (_p, { kind }, ctx) => ctx.services.jobs.submit(toDomainKind(kind), ctx.principal?.keyId),
    activateModel: async (_p, { kind, version, override }, ctx) => {
      const k = toDomainKind(kind);
      await ctx.services.activate(k, version, { override: override ?? false, by: ctx.principal?.keyId });
      const info = await ctx.services.models.get(k, version);
      if (!info) throw new ShipcastError('NOT_FOUND', `version: no ${k} model ${version}`, { field: 'version' });
      return info;
    },
  },
  ModelInfo: {
    kind: (m) => toApiKind(m.kind),
  },
  TrainingJob: {
    id: (j) => j.jobId,
    kind: (j) => toApiKind(j.kind),
    status: (j) => j.status.toUpperCase() as TrainingJobStatus,
  },
};
