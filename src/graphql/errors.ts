/**
 * Error masking: what a client sees is a message and a stable `extensions.code`. Typed
 * `ShipcastError`s keep their message and code; anything unexpected becomes `INTERNAL` with a
 * generic message, and is logged in full on the server.
 */
import { GraphQLError } from 'graphql';

/**
 * graphql ships CommonJS and ESM builds and CommonJS plugins (graphql-armor) load the other one,
 * so `instanceof GraphQLError` is unreliable here: recognise one by shape.
 */
function asGraphQLError(e: unknown): GraphQLError | undefined {
  return e instanceof GraphQLError || (e instanceof Error && e.name === 'GraphQLError' && 'extensions' in e) ? (e as GraphQLError) : undefined;
}
import type { Logger } from '../log.js';
import { isShipcastError, type ErrorCode } from '../errors.js';

export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/** The `maskError` function for graphql-yoga. */
export function createErrorMasker(log: Logger): (error: unknown, message: string) => Error {
  return (error, message) => {
    const graphqlError = asGraphQLError(error);
    const original = graphqlError ? graphqlError.originalError : error;
    if (isShipcastError(original)) {
      const internal = original.code === 'INTERNAL';
      if (internal) log.error({ err: original, path: graphqlError?.path }, 'internal error in GraphQL resolver');
      return new GraphQLError(internal ? message : original.message, {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: original.code, ...(original.field && !internal ? { field: original.field } : {}) },
      });
    }
    if (graphqlError && (original === undefined || original === null || asGraphQLError(original))) {
      // Validation, parse and limit errors are the client's: keep them, and give each a code.
      if (graphqlError.extensions.code !== undefined) return graphqlError;
      // Without a path it was refused before execution (graphql-armor's limits): a 400 request error.
      const http = graphqlError.path === undefined ? { http: { status: 400 } } : {};
      return new GraphQLError(graphqlError.message, {
        nodes: graphqlError.nodes,
        source: graphqlError.source,
        positions: graphqlError.positions,
        path: graphqlError.path,
        extensions: { ...graphqlError.extensions, code: 'BAD_INPUT', ...http },
      });
    }
    log.error({ err: original, path: graphqlError?.path }, 'unexpected error in GraphQL request');
    return new GraphQLError(message, { nodes: graphqlError?.nodes, path: graphqlError?.path, extensions: { code: 'INTERNAL' } });
  };
}
