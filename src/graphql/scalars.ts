import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

// ISO-8601 date-time with an explicit offset: a bare local time would be ambiguous.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string with an offset, e.g. 2026-11-27T18:00:00Z', { extensions: { code: 'BAD_INPUT' } });
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new GraphQLError(`DateTime ${value} is not a valid instant`, { extensions: { code: 'BAD_INPUT' } });
  return d;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 instant with a UTC offset.',
  serialize(value) {
    const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new GraphQLError('DateTime cannot represent this value');
    return d.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { nodes: ast, extensions: { code: 'BAD_INPUT' } });
    return parseDateTime(ast.value);
  },
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Output-only in practice (model metrics); input is accepted as a JSON object variable. */
export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object.',
  serialize(value) {
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject cannot represent a non-object value');
    return value;
  },
  parseValue(value) {
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject must be an object', { extensions: { code: 'BAD_INPUT' } });
    return value;
  },
  parseLiteral(ast) {
    throw new GraphQLError('JSONObject literals are not supported; pass a variable', { nodes: ast, extensions: { code: 'BAD_INPUT' } });
  },
});
