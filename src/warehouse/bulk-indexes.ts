/**
 * Deferring a table's indexes around a bulk write. DuckDB maintains ART indexes row by row, which
 * makes a large INSERT several times slower than building the same index once after the data is
 * committed (docs/DATA_CONTRACT.md, "Keys"). Keys are therefore unique indexes (migration 007), which,
 * unlike primary keys, can be dropped and re-created.
 */
import type { SqlRunner, Warehouse } from './warehouse.js';
import { sqlPlaceholders } from './sql.js';
import { ShipcastError } from '../errors.js';

/** One index as DuckDB's catalog describes it. */
export interface IndexDef {
  table: string;
  name: string;
  unique: boolean;
  /** Indexed columns, in order. */
  columns: string[];
  /** The `CREATE … INDEX` statement that re-creates it. */
  sql: string;
}

/** Parses `duckdb_indexes().expressions` (e.g. `['"source"', event_id]`) into plain column names. */
export function parseIndexColumns(expressions: string, index: string): string[] {
  const inner = expressions.trim().replace(/^\[/, '').replace(/\]$/, '');
  return inner.split(',').map((raw) => {
    let s = raw.trim();
    if (s.startsWith("'") && s.endsWith("'")) s = s.slice(1, -1).replace(/''/g, "'");
    if (s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/""/g, '"');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new ShipcastError('INTERNAL', `index ${index}: "${s}" is an expression, not a column`);
    return s;
  });
}

/** The indexes of `tables` (schema main), read from `duckdb_indexes()`. Constraint indexes (PRIMARY KEY, UNIQUE) are not listed there. */
export async function readIndexes(db: SqlRunner, tables: readonly string[]): Promise<IndexDef[]> {
  if (tables.length === 0) return [];
  const rows = await db.all<{ table_name: string; index_name: string; is_unique: boolean; expressions: string; sql: string | null }>(
    `SELECT table_name, index_name, is_unique, expressions, sql FROM duckdb_indexes()
     WHERE schema_name = 'main' AND table_name IN (${sqlPlaceholders(tables.length)}) ORDER BY table_name, index_name`,
    tables,
  );
  return rows.map((r) => {
    if (!r.sql) throw new ShipcastError('INTERNAL', `${r.table_name}: index ${r.index_name} has no SQL definition in duckdb_indexes()`);
    return { table: r.table_name, name: r.index_name, unique: r.is_unique, columns: parseIndexColumns(r.expressions, r.index_name), sql: r.sql };
  });
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Throws CONFLICT naming the table and the index when `def`'s non-NULL keys repeat. A hash count
 * answers the common case in one cheap pass; only a shortfall (a duplicate or, rarely, a hash
 * collision) pays for the exact GROUP BY that finds an example.
 */
async function assertUnique(tx: SqlRunner, def: IndexDef): Promise<void> {
  const cols = def.columns.map(ident);
  const notNull = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  const fast = await tx.one<{ n: number; d: number }>(
    `SELECT count(*) AS n, count(DISTINCT hash(${cols.join(', ')})) AS d FROM ${ident(def.table)} WHERE ${notNull}`,
  );
  if (!fast || fast.n === fast.d) return;
  const dup = await tx.one<Record<string, unknown>>(
    `SELECT ${cols.join(', ')}, count(*) AS copies FROM ${ident(def.table)} WHERE ${notNull} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`,
  );
  if (!dup) return;
  const key = def.columns.map((c) => `${c}=${String(dup[c])}`).join(', ');
  throw new ShipcastError('CONFLICT', `${def.table}: the bulk write repeats the key of unique index ${def.name} (${key}, ${String(dup.copies)} rows); nothing was written`, {
    field: def.table,
    details: { table: def.table, index: def.name, key: Object.fromEntries(def.columns.map((c) => [c, dup[c]])) },
  });
}

/**
 * Re-creates one deferred index, then clears its journal row. The CREATE runs on its own
 * (autocommit): inside an explicit transaction, building and committing tracking_events' key took
 * about 1.4× as long.
 * A crash between the two statements leaves a journal row for an existing index, which is skipped.
 */
async function recreate(wh: Warehouse, def: Pick<IndexDef, 'table' | 'name' | 'sql'>): Promise<void> {
  try {
    const exists = await wh.one('SELECT 1 FROM duckdb_indexes() WHERE schema_name = $1 AND table_name = $2 AND index_name = $3', ['main', def.table, def.name]);
    if (!exists) await wh.run(def.sql);
    await wh.run('DELETE FROM deferred_indexes WHERE table_name = $1 AND index_name = $2', [def.table, def.name]);
  } catch (e) {
    throw new ShipcastError('INTERNAL', `${def.table}: could not re-create index ${def.name} after a bulk write: ${(e as Error).message}`, {
      field: def.table,
      details: { table: def.table, index: def.name },
      cause: e,
    });
  }
}

/** Options of `withIndexesDeferred`. */
export interface DeferOptions {
  /** Told when each phase ends (write, key_check, commit, index), for profiling. */
  onStep?: (step: 'write' | 'key_check' | 'commit' | 'index') => void;
  /**
   * Skips the pre-commit duplicate check (a full pass over every unique key, about 5 % of a 1M
   * generate). Only for writers whose keys cannot repeat by construction, such as the generator,
   * which derives every key from a distinct row number or a fixed list. The index re-creation still guards them:
   * a repeat would make it throw INTERNAL naming the table and the index, but only after the rows
   * are committed, with the index left journalled in `deferred_indexes`.
   */
  keysUniqueByConstruction?: boolean;
}

/**
 * Runs `write` in one transaction with every index of `tables` dropped, then re-creates them on
 * the committed data, which is much cheaper than maintaining them row by row.
 *
 * - Before committing, each unique index's key is checked over the whole table: a repeat throws
 *   CONFLICT naming the table and the index, and the write is rolled back (unless
 *   `keysUniqueByConstruction`, see DeferOptions).
 * - Whether `write` succeeds or throws, the indexes are re-created before this returns; a failure to
 *   re-create one throws INTERNAL naming the table and the index.
 * - The dropped definitions are journalled in `deferred_indexes` in the same transaction as the
 *   drop, so a crash mid-write is repaired by `restoreDeferredIndexes` on the next open.
 *
 * Other writers must leave `tables` alone meanwhile: without its unique index a table neither
 * rejects duplicate keys nor serves `ON CONFLICT`.
 */
export async function withIndexesDeferred<T>(
  wh: Warehouse,
  tables: readonly string[],
  write: (tx: SqlRunner) => Promise<T>,
  opts: DeferOptions = {},
): Promise<T> {
  const { onStep, keysUniqueByConstruction = false } = opts;
  if (tables.length === 0) return wh.transaction(write);
  const defs = await readIndexes(wh, tables);
  await wh.transaction(async (tx) => {
    const pending = await tx.one<{ table_name: string; index_name: string }>(
      `SELECT table_name, index_name FROM deferred_indexes WHERE table_name IN (${sqlPlaceholders(tables.length)}) LIMIT 1`,
      tables,
    );
    if (pending) {
      throw new ShipcastError('CONFLICT', `${pending.table_name}: index ${pending.index_name} is already deferred by another bulk write`, { field: pending.table_name });
    }
    for (const d of defs) {
      await tx.run('INSERT INTO deferred_indexes (table_name, index_name, sql) VALUES ($1, $2, $3)', [d.table, d.name, d.sql]);
      await tx.run(`DROP INDEX ${ident(d.name)}`);
    }
  });
  let result: T;
  try {
    result = await wh.transaction(async (tx) => {
      const out = await write(tx);
      onStep?.('write');
      if (!keysUniqueByConstruction) {
        for (const d of defs) if (d.unique) await assertUnique(tx, d);
        onStep?.('key_check');
      }
      return out;
    });
  } catch (e) {
    // The write was rolled back, so the old rows re-index cleanly; the write's own error is the news.
    await recreateAll(wh, defs, (e as Error).message);
    throw e;
  }
  onStep?.('commit');
  await recreateAll(wh, defs);
  onStep?.('index');
  return result;
}

/** Tries every index (so one failure does not leave the others missing), then throws the first failure. */
async function recreateAll(wh: Warehouse, defs: readonly Pick<IndexDef, 'table' | 'name' | 'sql'>[], afterFailedWrite?: string): Promise<void> {
  let first: ShipcastError | undefined;
  for (const d of defs) {
    try {
      await recreate(wh, d);
    } catch (e) {
      first ??= e as ShipcastError;
    }
  }
  if (first && afterFailedWrite !== undefined) {
    throw new ShipcastError('INTERNAL', `${first.message} (the bulk write itself failed first: ${afterFailedWrite})`, { field: first.field, details: first.details, cause: first });
  }
  if (first) throw first;
}

/**
 * Re-creates indexes left journalled by a bulk write that never finished (the process died), and
 * returns their names. Run on open, after the migrations.
 */
export async function restoreDeferredIndexes(wh: Warehouse): Promise<string[]> {
  const rows = await wh.all<{ table_name: string; index_name: string; sql: string }>('SELECT table_name, index_name, sql FROM deferred_indexes ORDER BY table_name, index_name');
  await recreateAll(wh, rows.map((r) => ({ table: r.table_name, name: r.index_name, sql: r.sql })));
  return rows.map((r) => r.index_name);
}
