/**
 * Compiles a table's schema and value rules into SQL expressions, so that every row of a load is
 * cast and validated in one DuckDB pass instead of row by row in JavaScript. Pure: no I/O.
 */
import type { ColumnInfo, TableSchema } from './table-schema.js';
import { TRACKING_STATUS, type ColumnRule, type TableRules } from './entities.js';
import { sqlString } from './sql-text.js';

/** How a source relation provides one target column: an SQL expression and its DuckDB type. */
export interface SourceColumn {
  expr: string;
  type: string;
}

/** Separates field from reason in the compiled error value; never appears in either. */
export const ERROR_SEPARATOR = '\u001f';

const FRIENDLY: Record<string, string> = {
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  DOUBLE: 'number',
  FLOAT: 'number',
  INTEGER: 'integer',
  BIGINT: 'integer',
  BOOLEAN: 'boolean',
  JSON: 'JSON document',
};

const isText = (t: string): boolean => t === 'VARCHAR';

/** The typed value of `col` from its source column (NULL when absent or uncastable), with the column default applied. */
export function typedValueSql(col: ColumnInfo, src: SourceColumn | undefined): string {
  let v: string;
  if (!src) v = 'NULL';
  else if (src.type === col.type) v = src.expr;
  else if (col.type === 'VARCHAR') v = `CAST(${src.expr} AS VARCHAR)`;
  else if (col.type === 'JSON') {
    v = isText(src.type) ? `CASE WHEN json_valid(${src.expr}) THEN CAST(${src.expr} AS JSON) END` : `to_json(${src.expr})`;
  } else v = `TRY_CAST(${isText(src.type) ? `NULLIF(${src.expr}, '')` : src.expr} AS ${col.type})`;
  if (col.defaultSql !== null && src) v = `COALESCE(${v}, ${col.defaultSql})`;
  else if (col.defaultSql !== null) v = col.defaultSql;
  return `CAST(${v} AS ${col.type})`;
}

/** True when the source has no value for the column (NULL, or an empty string standing in for one). */
function rawMissingSql(col: ColumnInfo, src: SourceColumn): string {
  return isText(src.type) && col.type !== 'VARCHAR' ? `NULLIF(${src.expr}, '') IS NULL` : `${src.expr} IS NULL`;
}

function err(field: string, reason: string): string {
  return sqlString(`${field}${ERROR_SEPARATOR}${reason}`);
}

/** `other` is the typed value of the column named by `rule.notBefore`, when the source provides it. */
function ruleChecks(col: ColumnInfo, rule: ColumnRule, v: string, taxonomy: readonly string[], other?: string): [string, string][] {
  const out: [string, string][] = [];
  const allowed = rule.oneOf === TRACKING_STATUS ? taxonomy : rule.oneOf;
  if (allowed) {
    const label = rule.oneOf === TRACKING_STATUS ? 'not a tracking status' : 'not one of';
    out.push([`${v} NOT IN (${allowed.map(sqlString).join(', ')})`, `${label}: ${allowed.join(', ')}`]);
  }
  if (rule.min !== undefined) {
    out.push([`${v} ${rule.minExclusive ? '<=' : '<'} ${rule.min}`, `must be ${rule.minExclusive ? '>' : '>='} ${rule.min}`]);
  }
  if (rule.max !== undefined) out.push([`${v} > ${rule.max}`, `must be <= ${rule.max}`]);
  if (rule.pattern !== undefined) {
    out.push([`NOT regexp_full_match(${v}, ${sqlString(rule.pattern)})`, `must be ${rule.patternName ?? `like ${rule.pattern}`}`]);
  }
  if (rule.notBefore !== undefined && other !== undefined) out.push([`${v} < ${other}`, `must not be before ${rule.notBefore}`]);
  return out.map(([cond, reason]) => [cond, err(col.name, reason)]);
}

/**
 * A CASE expression yielding `field<US>reason` for the first problem of a row (columns in table
 * order: missing required value, then uncastable value, then value rules), or NULL for a good row.
 */
export function rowErrorSql(
  schema: TableSchema,
  rules: TableRules,
  sources: ReadonlyMap<string, SourceColumn>,
  taxonomy: readonly string[],
): string {
  const whens: string[] = [];
  for (const col of schema.columns) {
    const src = sources.get(col.name);
    const required = col.notNull && col.defaultSql === null;
    if (src) {
      if (required) whens.push(`WHEN ${rawMissingSql(col, src)} THEN ${err(col.name, 'missing required value')}`);
      if (src.type !== col.type && col.type !== 'VARCHAR') {
        const friendly = FRIENDLY[col.type] ?? col.type;
        whens.push(`WHEN NOT (${rawMissingSql(col, src)}) AND ${typedValueSql({ ...col, defaultSql: null }, src)} IS NULL THEN ${err(col.name, `not a valid ${friendly}`)}`);
      }
    } else if (required) {
      whens.push(`WHEN true THEN ${err(col.name, 'missing required value')}`);
    }
    const rule = rules[col.name];
    if (rule && src) {
      const v = typedValueSql(col, src);
      const otherCol = rule.notBefore === undefined ? undefined : schema.columns.find((c) => c.name === rule.notBefore);
      const otherSrc = otherCol && sources.get(otherCol.name);
      const other = otherCol && otherSrc ? typedValueSql(otherCol, otherSrc) : undefined;
      for (const [cond, e] of ruleChecks(col, rule, v, taxonomy, other)) whens.push(`WHEN ${cond} THEN ${e}`);
    }
  }
  return whens.length === 0 ? 'CAST(NULL AS VARCHAR)' : `CASE ${whens.join(' ')} END`;
}
