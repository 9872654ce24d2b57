/**
 * What an API replica serves of the returns and next-best-action capabilities (docs/SCALE.md,
 * section 4). `returnRisk` is a read: the snapshot's features scored with the registry's active
 * returns model. `nbaPolicyEvaluation` reads the registry. `nextBestAction` logs every decision in
 * `nba_decisions`, a write, and a decision must never be answered unlogged (the off-policy
 * evaluation of the next policy is built from that log), so it is refused like a mutation,
 * naming the writer.
 */
import type { ReturnsPredictor } from '../domain/returns.js';
import { apiError } from '../graphql/errors.js';
import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import type { ReadOnlyOptions } from '../graphql/read-only.js';
import { nbaResolvers } from '../graphql/resolvers/nba.js';
import { returnsResolvers } from '../graphql/resolvers/returns.js';

export function replicaModelResolvers(deps: { returnsPredictor: () => ReturnsPredictor | undefined; modelsDir: string; readOnly: ReadOnlyOptions }): Resolvers {
  const { writerUrl } = deps.readOnly;
  const where = writerUrl ? `the writer at ${writerUrl}` : 'the writer';
  return {
    Query: {
      ...returnsResolvers({ predictor: deps.returnsPredictor }).Query,
      nbaPolicyEvaluation: nbaResolvers({ service: () => undefined, modelsDir: deps.modelsDir }).Query?.nbaPolicyEvaluation,
      nextBestAction: () => {
        throw apiError('READ_ONLY_REPLICA', `nextBestAction: this server is a read-only API replica and every decision is logged; send the query to ${where}`, writerUrl ? { writer: writerUrl } : {});
      },
    },
  };
}
