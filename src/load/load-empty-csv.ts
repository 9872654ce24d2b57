import type { SqlRunner } from '../warehouse/warehouse.js';
import { ERROR_SEPARATOR, rowErrorSql, typedValueSql } from './validation-sql.js';
import { sqlIdent } from './sql-text.js';
import { rejectsByReason, type LoadRelationOptions, type RelationLoadResult } from './load-relation.js';
import { repeatsKey } from './load-empty.js';
import { csvRejectStore, csvTextReader, detectFormat, matchColumns, rejectUnparsedLines, structPack } from './sources.js';

const n = (v: unknown): number => Number(v ?? 0);

/** True for a CSV file that is not compressed, whose physical lines a byte scan can count. */
export function isPlainCsv(file: string): boolean {
  return detectFormat(file) === 'csv' && !/\.(gz|zst)$/i.test(file);
}

/** What `loadCsvIntoEmptyTable` needs beyond a relation load's options: the file and its line count. */
export interface EmptyCsvLoadOptions extends Omit<LoadRelationOptions, 'source'> {
  /**
   * Physical lines of the file, header included (see `digestFile`); may still be counting, since
   * the count is only needed after the insert.
   */
  lines: number | PromiseLike<number>;
}

/**
 * The bulk path of a plain CSV file into an **empty** table, without staging: one validating pass
 * from DuckDB's CSV reader straight into the table. The general path first copies every row into a
 * temp table, so that a reject can name its record; on a clean file that copy is pure overhead (it
 * costs about as much as the insert itself). Here the rows are written once, and the file is read a
 * second time only when the counts say that some record was not inserted: inserted rows plus the
 * lines DuckDB could not parse must equal the data lines of the file. Any other outcome (a rejected
 * row, a quoted line break, a blank line) takes that second pass, which writes the rejects with
 * their record numbers exactly as the general path would.
 *
 * Returns `undefined`, having written nothing, when the rows repeat a value of the key or of a
 * UNIQUE column set: the general path then keeps the first occurrence and rejects the others.
 * Must run inside the loading transaction, with the table's indexes deferred.
 */
export async function loadCsvIntoEmptyTable(
  tx: SqlRunner,
  o: EmptyCsvLoadOptions,
): Promise<(RelationLoadResult & { ignoredColumns: string[] }) | undefined> {
  const { schema } = o;
  const table = sqlIdent(schema.table);
  const cols = schema.columns.map((c) => sqlIdent(c.name));
  const rejects = csvRejectStore();
  try {
    // Described with the options of the read itself: storing rejects changes how DuckDB sniffs a ragged file.
    const desc = await tx.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${csvTextReader(o.file, rejects)}`);
    const fileCols = desc.map((d) => ({ name: d.column_name, type: d.column_type }));
    const { columns, ignored } = matchColumns(o.entity, o.file, schema, fileCols, sqlIdent);
    const typed = schema.columns.map((c, i) => `${typedValueSql(c, columns.get(c.name))} AS ${cols[i]}`);
    const ins = await tx.all<{ Count: number }>(
      `INSERT INTO ${table} (${cols.join(', ')})
       SELECT ${cols.join(', ')} FROM (SELECT ${rowErrorSql(schema, o.rules, columns, o.taxonomy)} AS __err, ${typed.join(', ')} FROM ${csvTextReader(o.file, rejects)}) WHERE __err IS NULL`,
    );
    const inserted = n(ins[0]?.Count);
    // The table was empty, so every row in it came from this file; its values are already typed.
    if (await repeatsKey(tx, schema, table, sqlIdent)) {
      await tx.run(`DELETE FROM ${table}`);
      return undefined;
    }
    const unparsed = await rejectUnparsedLines(tx, o.entity, o.file, rejects);
    let rejected = 0;
    if (inserted + unparsed !== (await o.lines) - 1) rejected = await rejectInvalidRecords(tx, o, columns, fileCols);
    return {
      read: inserted + unparsed + rejected, loaded: inserted, inserted, updated: 0, rejected: unparsed + rejected,
      rejectsByReason: await rejectsByReason(tx, o), ignoredColumns: ignored,
    };
  } finally {
    await tx.run(rejects.dropSql).catch(() => undefined);
  }
}

/**
 * The second pass: the file read again, its records numbered in file order, and the failing ones
 * written to `load_rejects`. `row_number() OVER ()` runs as DuckDB's order-preserving streaming
 * window, so the numbers match the row ids of the staged path's temp table (records the reader
 * could not parse are skipped by both), without writing the file into a temp table; such a table,
 * created inside this transaction, would also be scanned on one thread.
 */
async function rejectInvalidRecords(
  tx: SqlRunner,
  o: EmptyCsvLoadOptions,
  columns: ReturnType<typeof matchColumns>['columns'],
  fileCols: readonly { name: string }[],
): Promise<number> {
  // Unparsable lines were written from the first read; this read keeps its own, unused.
  const rejects = csvRejectStore();
  const sep = `'${ERROR_SEPARATOR}'`;
  try {
    const r = await tx.all<{ Count: number }>(
      `INSERT INTO load_rejects (entity, file, line, field, reason, raw)
       SELECT $1, $2, __line, split_part(__err, ${sep}, 1), split_part(__err, ${sep}, 2), __raw
       FROM (SELECT row_number() OVER () AS __line, ${rowErrorSql(o.schema, o.rules, columns, o.taxonomy)} AS __err, ${structPack(fileCols)} AS __raw
             FROM ${csvTextReader(o.file, rejects)})
       WHERE __err IS NOT NULL`,
      [o.entity, o.file],
    );
    return n(r[0]?.Count);
  } finally {
    await tx.run(rejects.dropSql).catch(() => undefined);
  }
}
