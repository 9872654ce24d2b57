/**
 * Enforces the `@requires(permission: …)` directive of every root field (Query, Mutation,
 * Subscription). A root field without it is a startup error, so nothing is reachable by accident.
 */
import { defaultFieldResolver, type GraphQLFieldConfig, type GraphQLField, type GraphQLSchema, Kind } from 'graphql';
import { ShipcastError } from '../errors.js';
import { isPermission, roleAllows, type Permission } from '../auth/roles.js';
import type { Principal } from '../auth/api-keys.js';
import { apiError } from './errors.js';

/** The permission each root field requires, as `Type.field` → permission. */
export function rootFieldPermissions(schema: GraphQLSchema): Map<string, Permission> {
  const out = new Map<string, Permission>();
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const directive = field.astNode?.directives?.find((d) => d.name.value === 'requires');
      const arg = directive?.arguments?.find((a) => a.name.value === 'permission');
      if (!arg || arg.value.kind !== Kind.ENUM || !isPermission(arg.value.value)) {
        throw new ShipcastError('INTERNAL', `schema: ${type.name}.${field.name} has no valid @requires(permission: …)`);
      }
      out.set(`${type.name}.${field.name}`, arg.value.value);
    }
  }
  return out;
}

/** Throws UNAUTHENTICATED without a principal, FORBIDDEN when its role lacks `permission`. */
export function assertAllowed(principal: Principal | undefined, permission: Permission): void {
  if (!principal) throw apiError('UNAUTHENTICATED', 'an API key is required (Authorization: Bearer <key>)');
  if (!roleAllows(principal.role, permission)) {
    throw apiError('FORBIDDEN', `role ${principal.role} lacks permission ${permission}`, { permission });
  }
}

type AnyField = GraphQLField<unknown, { principal?: Principal }> & Pick<GraphQLFieldConfig<unknown, unknown>, 'subscribe'>;

/** Wraps every root resolver (and subscriber) with its permission check, in place. */
export function enforcePermissions(schema: GraphQLSchema): GraphQLSchema {
  const required = rootFieldPermissions(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields()) as AnyField[]) {
      const permission = required.get(`${type.name}.${field.name}`)!;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx, info) => {
        assertAllowed(ctx.principal, permission);
        return resolve(source, args, ctx, info);
      };
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args, ctx, info) => {
          assertAllowed((ctx as { principal?: Principal }).principal, permission);
          return subscribe(source, args, ctx, info);
        };
      }
    }
  }
  return schema;
}
