/**
 * The GraphQL endpoint: graphql-yoga over the root `schema.graphql`, behind the checks that must
 * happen before any GraphQL work (body size, API key, per-key rate), with graphql-armor's static
 * limits, masked errors and optional persisted-operations-only mode.
 */
import fs from 'node:fs';
import { readBodyBytes } from '../http/body.js';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { fileURLToPath } from 'node:url';
import type { GraphQLSchema } from 'graphql';
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { FetchHandler } from '../http/router.js';
import type { ErrorCode } from '../errors.js';
import { parseBearer, type ApiKeyStore, type Principal } from '../auth/api-keys.js';
import { createRateLimiter } from '../auth/rate-limiter.js';
import { createLoaders, type GraphQLContext, type GraphQLServices } from './context.js';
import { createErrorMasker } from './errors.js';
import { enforcePermissions } from './permissions.js';
import { refuseWrites, type ReadOnlyOptions } from './read-only.js';
import { CORE_RESOLVERS, mergeResolvers } from './resolvers/index.js';
import type { Resolvers } from './generated/resolvers-types.js';

/** The root schema file, the source of truth for the API. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

export interface GraphQLLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** Request bodies above this many bytes get 413 before any parsing. */
  maxBodyBytes: number;
  /** Largest `first` of any connection. */
  maxPageSize: number;
  /** Most tracking numbers per `predictedEtas`. */
  maxBatchSize: number;
  /** Requests per second per key when the key sets none; bursts of twice that are allowed. */
  defaultRatePerSecond: number;
}

export const DEFAULT_LIMITS: GraphQLLimits = {
  maxDepth: 10,
  maxCost: 10_000,
  maxAliases: 15,
  maxTokens: 2500,
  maxDirectives: 10,
  maxBodyBytes: 128 * 1024,
  maxPageSize: 100,
  maxBatchSize: 1000,
  defaultRatePerSecond: 50,
};

export interface GraphQLServerOptions {
  /** Serve GraphiQL on GET (development only). */
  graphiql: boolean;
  /** Refuse any operation that is not in `persistedOperations`. */
  persistedOnly: boolean;
  persistedOperations?: ReadonlyMap<string, string>;
  limits?: Partial<GraphQLLimits>;
  /** Resolver maps of other capabilities (e.g. email), merged with the core ones. */
  resolvers?: readonly Resolvers[];
  metrics?: Registry;
  /** Defaults to the root schema.graphql. */
  schemaSdl?: string;
  /** Serve as a read-only API replica: mutations and subscriptions answer READ_ONLY_REPLICA. */
  readOnly?: ReadOnlyOptions;
}

export interface GraphQLServer {
  /** Serves `/graphql`; mount it on any method. */
  handler: FetchHandler;
  yoga: YogaServerInstance<{ principal?: Principal }, Omit<GraphQLContext, 'principal'>>;
  schema: GraphQLSchema;
}

function errorResponse(req: Request, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const accept = req.headers.get('accept') ?? '';
  const type = accept.includes('application/graphql-response+json') ? 'application/graphql-response+json' : 'application/json';
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': `${type}; charset=utf-8`, ...headers },
  });
}

/**
 * Enforces the body limit whatever the framing: a declared Content-Length is checked up front
 * (Node's parser never delivers more than it declares), a chunked body is read up to the limit.
 */
async function limitBody(req: Request, max: number): Promise<Request | 'too-large'> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.body === null) return req;
  try {
    const body = await readBodyBytes(req, max);
    return new Request(req.url, { method: req.method, headers: req.headers, body });
  } catch (e) {
    if ((e as { code?: string }).code === 'PAYLOAD_TOO_LARGE') return 'too-large';
    throw e;
  }
}

/** Builds the schema with resolvers and permission checks, without serving it (tests, codegen checks). */
export function buildSchema(sdl: string, resolvers: readonly Resolvers[] = [], opts: { readOnly?: ReadOnlyOptions } = {}): GraphQLSchema {
  const schema = createSchema<GraphQLContext>({ typeDefs: sdl, resolvers: mergeResolvers([...CORE_RESOLVERS, ...resolvers]) as never });
  // Permissions wrap outermost, so a caller without the permission gets FORBIDDEN on writer and replica alike.
  return enforcePermissions(opts.readOnly ? refuseWrites(schema, opts.readOnly) : schema);
}

export function createGraphQLServer(
  deps: { services: GraphQLServices; apiKeys: ApiKeyStore; log: Logger },
  opts: GraphQLServerOptions,
): GraphQLServer {
  const { services, apiKeys, log } = deps;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const schema = buildSchema(opts.schemaSdl ?? fs.readFileSync(SCHEMA_PATH, 'utf8'), opts.resolvers, { readOnly: opts.readOnly });
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth },
    costLimit: { maxCost: limits.maxCost },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives },
    // Suggestions ("did you mean …") leak the schema to unauthorised probing; off outside development.
    blockFieldSuggestion: { enabled: !opts.graphiql },
  });
  const persisted = opts.persistedOperations ?? new Map<string, string>();
  const plugins = [...armor.protect().plugins];
  if (opts.persistedOnly || persisted.size > 0) {
    plugins.push(
      usePersistedOperations({
        getPersistedOperation: (hash: string) => persisted.get(hash) ?? null,
        allowArbitraryOperations: !opts.persistedOnly,
        customErrors: {
          persistedQueryOnly: { message: 'only persisted operations are accepted', extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } } },
          notFound: { message: 'persisted operation not found', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } } },
        },
      }) as never,
    );
  }
  const masker = createErrorMasker(log);
  const yoga = createYoga<{ principal?: Principal }, Omit<GraphQLContext, 'principal'>>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: opts.graphiql ? { title: 'shipcast', headers: JSON.stringify({ Authorization: 'Bearer <API key: see data/admin-key after npm start, or shipcast keys create>' }) } : false,
    // The bundled GraphiQL works offline; yoga's default pulls its assets from a CDN.
    renderGraphiQL,
    landingPage: false,
    maskedErrors: { maskError: masker },
    logging: {
      debug: (...a: unknown[]) => log.debug({ detail: a }, 'graphql-yoga'),
      info: (...a: unknown[]) => log.debug({ detail: a }, 'graphql-yoga'),
      warn: (...a: unknown[]) => log.warn({ detail: a }, 'graphql-yoga'),
      error: (...a: unknown[]) => log.error({ detail: a }, 'graphql-yoga'),
    },
    plugins,
    context: () => {
      const now = new Date();
      return { services, loaders: createLoaders(services, now), now, limits: { maxPageSize: limits.maxPageSize, maxBatchSize: limits.maxBatchSize } };
    },
  });

  const limiter = createRateLimiter({ burstSeconds: 2 });
  const rejected = opts.metrics
    ? new Counter({ name: 'shipcast_graphql_rejected_total', help: 'GraphQL requests refused before execution', labelNames: ['reason'], registers: [opts.metrics] })
    : undefined;
  const refuse = (req: Request, status: number, code: ErrorCode, message: string, headers?: Record<string, string>) => {
    rejected?.inc({ reason: code });
    return errorResponse(req, status, code, message, headers);
  };

  const handler: FetchHandler = async (incoming) => {
    // CORS preflights and the GraphiQL page carry no key; neither executes anything.
    if (incoming.method === 'OPTIONS') return yoga.fetch(incoming, {});
    if (opts.graphiql && incoming.method === 'GET' && (incoming.headers.get('accept') ?? '').includes('text/html')) return yoga.fetch(incoming, {});
    const req = await limitBody(incoming, limits.maxBodyBytes);
    if (req === 'too-large') return refuse(incoming, 413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes`);
    const token = parseBearer(req.headers.get('authorization'));
    const principal = token === undefined ? undefined : await apiKeys.authenticate(token);
    if (!principal) {
      return refuse(req, 401, 'UNAUTHENTICATED', token === undefined ? 'an API key is required (Authorization: Bearer <key>)' : 'the API key is invalid or revoked', {
        'www-authenticate': 'Bearer realm="shipcast"',
      });
    }
    const decision = limiter.take(principal.keyId, principal.ratePerSecond ?? limits.defaultRatePerSecond);
    if (!decision.allowed) {
      return refuse(req, 429, 'RATE_LIMITED', `rate limit exceeded for key ${principal.keyId}; retry after ${decision.retryAfterSeconds}s`, {
        'retry-after': String(decision.retryAfterSeconds),
      });
    }
    return yoga.fetch(req, { principal });
  };
  return { handler, yoga, schema };
}
