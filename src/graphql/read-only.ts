/**
 * The GraphQL side of an API replica (docs/SCALE.md, section 4): every Mutation field and every
 * Subscription answers READ_ONLY_REPLICA, naming the writer. Subscriptions are refused too: their
 * updates come from ingestion, which only the writer runs, so a replica's feed would stay silent.
 * Wrapping the schema's root fields (rather than listing mutations) covers fields added later.
 */
import type { GraphQLSchema } from 'graphql';
import { apiError } from './errors.js';

export interface ReadOnlyOptions {
  /** Where writes go, named in the refusal (SHIPCAST_WRITER_URL). */
  writerUrl?: string;
}

function refusal(kind: 'mutation' | 'subscription', field: string, writerUrl: string | undefined) {
  const where = writerUrl ? `the writer at ${writerUrl}` : 'the writer';
  return apiError('READ_ONLY_REPLICA', `${field}: this server is a read-only API replica; send the ${kind} to ${where}`, writerUrl ? { writer: writerUrl } : {});
}

/** Makes `schema`'s mutations and subscriptions refuse, in place. */
export function refuseWrites(schema: GraphQLSchema, opts: ReadOnlyOptions = {}): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    field.resolve = () => {
      throw refusal('mutation', field.name, opts.writerUrl);
    };
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    field.subscribe = () => {
      throw refusal('subscription', field.name, opts.writerUrl);
    };
  }
  return schema;
}
