import type { SqlRunner } from '../warehouse/warehouse.js';
import type { TableSchema } from './table-schema.js';
import type { TableRules } from './entities.js';
import { ERROR_SEPARATOR, rowErrorSql, typedValueSql, type SourceColumn } from './validation-sql.js';
import { sqlIdent, sqlString } from './sql-text.js';
import { loadIntoEmptyTable } from './load-empty.js';

/** A relation to load into a table: any FROM-clause text readable on the loading connection. */
export interface RelationSource {
  /** FROM-clause text: a table function call, a temp table, or a parenthesized SELECT. */
  from: string;
  /** SQL expression (over `from`) of the 1-based record number reported in rejects. */
  line: string;
  /** SQL expression (over `from`) of the raw row as JSON, stored with rejects. */
  rawJson: string;
  /** Which target columns the source provides, keyed by target column name. */
  columns: ReadonlyMap<string, SourceColumn>;
}

/** Counts from loading one relation. `read` = loaded + rejected. */
export interface RelationLoadResult {
  read: number;
  loaded: number;
  inserted: number;
  updated: number;
  rejected: number;
  /** Reject counts keyed `field: reason`. */
  rejectsByReason: Record<string, number>;
}

export interface LoadRelationOptions {
  /** Label stored in `load_rejects.entity`. */
  entity: string;
  /** Label stored in `load_rejects.file`. */
  file: string;
  schema: TableSchema;
  rules: TableRules;
  /** The tracking status taxonomy (from `tracking_statuses`). */
  taxonomy: readonly string[];
  source: RelationSource;
}

let seq = 0;
/** A temp object name unique within this process (loads are serialized on the writer connection anyway). */
export function tempName(prefix: string): string {
  seq += 1;
  return `__${prefix}_${process.pid}_${seq}`;
}

const n = (v: unknown): number => Number(v ?? 0);

/** Reject counts of this load's file, keyed `field: reason`. */
export async function rejectsByReason(tx: SqlRunner, o: Pick<LoadRelationOptions, 'entity' | 'file'>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rows = await tx.all<{ field: string; reason: string; c: number }>(
    `SELECT field, reason, count(*) AS c FROM load_rejects WHERE entity = $1 AND file = $2 GROUP BY ALL ORDER BY c DESC`,
    [o.entity, o.file],
  );
  for (const r of rows) out[`${r.field}: ${r.reason}`] = n(r.c);
  return out;
}

/**
 * Validates every row of `source` in SQL and upserts the good ones into `schema.table` on its
 * primary key: rows whose key exists are updated, new keys inserted. Rows that fail a check, repeat
 * a key already seen earlier in the same source, or collide with another row's UNIQUE value go to
 * `load_rejects` with their record number, field, reason and raw row. Must run inside a transaction
 * on `tx` (temp objects are per connection).
 */
export async function loadRelation(tx: SqlRunner, o: LoadRelationOptions): Promise<RelationLoadResult> {
  const { schema, source } = o;
  const table = sqlIdent(schema.table);
  const view = tempName('v');
  const stg = tempName('stg');
  const bad = tempName('bad');
  const cols = schema.columns.map((c) => sqlIdent(c.name));
  const typed = schema.columns.map((c) => `${typedValueSql(c, source.columns.get(c.name))} AS ${sqlIdent(c.name)}`);
  const errSql = rowErrorSql(schema, o.rules, source.columns, o.taxonomy);
  const params = [o.entity, o.file];
  const sep = `'${ERROR_SEPARATOR}'`;
  const targetRows = n((await tx.one<{ c: number }>(`SELECT count(*) AS c FROM ${table}`))?.c);
  if (targetRows === 0) {
    const bulk = await loadIntoEmptyTable(tx, o);
    if (bulk) return bulk;
  }
  try {
    // One pass over the source: cast, validate, and keep the raw row only for rows that failed.
    await tx.run(`CREATE TEMP VIEW ${view} AS SELECT ${source.line} AS __line, ${errSql} AS __err, ${source.rawJson} AS __raw, ${typed.join(', ')} FROM ${source.from}`);
    await tx.run(`CREATE TEMP TABLE ${stg} AS SELECT __line, __err, CASE WHEN __err IS NOT NULL THEN __raw END AS __raw, ${cols.join(', ')} FROM ${view}`);
    const rejected = await tx.all<{ Count: number }>(
      `INSERT INTO load_rejects (entity, file, line, field, reason, raw)
       SELECT $1, $2, __line, split_part(__err, ${sep}, 1), split_part(__err, ${sep}, 2), __raw FROM ${stg} WHERE __err IS NOT NULL`,
      params,
    );
    let rejectedN = n(rejected[0]?.Count);

    // Key-level conflicts: later repeats of a key in the same source, and UNIQUE values owned by another row.
    await tx.run(`CREATE TEMP TABLE ${bad} (line BIGINT, err VARCHAR)`);
    const groups: { cols: string[]; isKey: boolean }[] = [
      ...(schema.key.length > 0 ? [{ cols: schema.key, isKey: true }] : []),
      ...schema.unique.map((u) => ({ cols: u, isKey: false })),
    ];
    for (const g of groups) {
      const list = g.cols.map(sqlIdent).join(', ');
      const label = g.cols.join(',');
      const dupCheck = await tx.one<{ total: number; dist: number }>(
        `SELECT count(*) AS total, count(DISTINCT ${g.cols.length === 1 ? list : `(${list})`}) AS dist FROM ${stg} WHERE __err IS NULL`,
      );
      const marks: string[] = [];
      if (dupCheck && n(dupCheck.total) !== n(dupCheck.dist)) {
        const reason = g.isKey ? 'duplicate key in this file; the first occurrence was kept' : 'value already used by an earlier row of this file';
        marks.push(`SELECT __line, ${sqlString(`${label}${ERROR_SEPARATOR}${reason}`)} FROM (
          SELECT __line, row_number() OVER (PARTITION BY ${list} ORDER BY __line) AS rn FROM ${stg} WHERE __err IS NULL) WHERE rn > 1`);
      }
      if (!g.isKey && targetRows > 0 && schema.key.length > 0) {
        const on = g.cols.map((c) => `t.${sqlIdent(c)} = v.${sqlIdent(c)}`).join(' AND ');
        const keyT = `(${schema.key.map((c) => `t.${sqlIdent(c)}`).join(', ')})`;
        const keyV = `(${schema.key.map((c) => `v.${sqlIdent(c)}`).join(', ')})`;
        marks.push(`SELECT v.__line, ${sqlString(`${label}${ERROR_SEPARATOR}value already used by another row of ${schema.table}`)}
          FROM ${stg} v JOIN ${table} t ON ${on} WHERE v.__err IS NULL AND ${keyT} IS DISTINCT FROM ${keyV}`);
      }
      for (const m of marks) {
        await tx.run(`INSERT INTO ${bad} ${m}`);
        await tx.run(`UPDATE ${stg} SET __err = b.err FROM ${bad} b WHERE ${stg}.__line = b.line AND ${stg}.__err IS NULL`);
      }
    }
    const badCount = n((await tx.one<{ c: number }>(`SELECT count(*) AS c FROM ${bad}`))?.c);
    if (badCount > 0) {
      // Their raw rows were not kept in the staging pass; read them back from the source.
      const r = await tx.all<{ Count: number }>(
        `INSERT INTO load_rejects (entity, file, line, field, reason, raw)
         SELECT $1, $2, b.line, split_part(b.err, ${sep}, 1), split_part(b.err, ${sep}, 2), s.raw
         FROM ${bad} b LEFT JOIN (SELECT ${source.line} AS line, ${source.rawJson} AS raw FROM ${source.from}) s ON s.line = b.line`,
        params,
      );
      rejectedN += n(r[0]?.Count);
    }

    let updated = 0;
    if (targetRows > 0 && schema.key.length > 0) {
      const nonKey = schema.columns.filter((c) => !schema.key.includes(c.name));
      const on = schema.key.map((c) => `t.${sqlIdent(c)} = s.${sqlIdent(c)}`).join(' AND ');
      if (nonKey.length > 0) {
        const set = nonKey.map((c) => `${sqlIdent(c.name)} = s.${sqlIdent(c.name)}`).join(', ');
        const r = await tx.all<{ Count: number }>(`UPDATE ${table} AS t SET ${set} FROM ${stg} s WHERE ${on} AND s.__err IS NULL`);
        updated = n(r[0]?.Count);
      } else {
        updated = n((await tx.one<{ c: number }>(`SELECT count(*) AS c FROM ${stg} s JOIN ${table} t ON ${on} WHERE s.__err IS NULL`))?.c);
      }
    }
    const notExisting =
      targetRows > 0 && schema.key.length > 0
        ? ` AND NOT EXISTS (SELECT 1 FROM ${table} t WHERE ${schema.key.map((c) => `t.${sqlIdent(c)} = s.${sqlIdent(c)}`).join(' AND ')})`
        : '';
    const ins = await tx.all<{ Count: number }>(
      `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.map((c) => `s.${c}`).join(', ')} FROM ${stg} s WHERE s.__err IS NULL${notExisting}`,
    );
    const inserted = n(ins[0]?.Count);

    return { read: inserted + updated + rejectedN, loaded: inserted + updated, inserted, updated, rejected: rejectedN, rejectsByReason: await rejectsByReason(tx, o) };
  } finally {
    // After a failed statement the transaction is aborted and rolls these temp objects back anyway;
    // a failing DROP must not hide the original error.
    await tx.run(`DROP VIEW IF EXISTS ${view}; DROP TABLE IF EXISTS ${stg}; DROP TABLE IF EXISTS ${bad}`).catch(() => undefined);
  }
}
