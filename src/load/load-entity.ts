import fs from 'node:fs';
import path from 'node:path';
import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import { ValidationError } from '../errors.js';
import { RULES, isEntityName, ENTITY_NAMES, type EntityName } from './entities.js';
import { readTableSchema } from './table-schema.js';
import { loadRelation } from './load-relation.js';
import { openSource, stageFile, type StagedFile } from './sources.js';
import { digestFile } from './file-hash.js';
import { isPlainCsv, loadCsvIntoEmptyTable } from './load-empty-csv.js';
import { sqlIdent, sqlString } from './sql-text.js';
import { withIndexesDeferred } from '../warehouse/bulk-indexes.js';

/** One step of a load, reported to `onProgress` so a CLI can draw a bar over files. */
export interface LoadProgress {
  entity: string;
  file: string;
  /** 0-based index of `file` among the files of this load. */
  fileIndex: number;
  fileCount: number;
  phase: 'hashing' | 'loading' | 'done' | 'skipped';
  /**
   * Within the file: for `hashing`, the share of its bytes read; for `loading`, DuckDB's estimate
   * for the statement now running (the read, the validating insert, an index build), so it starts
   * again from 0 at each statement. Absent when unknown.
   */
  percent?: number;
  /** Counts so far over all files of this load (updated at `done`). */
  read: number;
  loaded: number;
  rejected: number;
}

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  /** How often `loading` progress polls DuckDB, in ms (default 250). */
  progressIntervalMs?: number;
}

/** What happened to one file. */
export interface FileLoadResult {
  file: string;
  sha256: string;
  read: number;
  loaded: number;
  inserted: number;
  updated: number;
  rejected: number;
  skippedAsDuplicateFile: boolean;
  /** File columns that match no target column (ignored). */
  ignoredColumns: string[];
  /** Reject counts keyed `field: reason`. */
  rejectsByReason: Record<string, number>;
}

/** Totals of one `loadEntity` call. */
export interface LoadSummary {
  entity: EntityName;
  files: string[];
  read: number;
  loaded: number;
  inserted: number;
  updated: number;
  rejected: number;
  /** Files whose exact bytes were loaded before (by SHA-256) and were therefore skipped; absent when none. */
  skippedAsDuplicateFile?: string[];
  rejectsByReason: Record<string, number>;
  perFile: FileLoadResult[];
}

/** Expands a file path or glob pattern (via DuckDB's `glob`) to sorted absolute paths. */
export async function resolveFiles(db: SqlRunner, fileOrGlob: string): Promise<string[]> {
  const abs = path.resolve(fileOrGlob);
  if (!/[*?[]/.test(fileOrGlob)) {
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new ValidationError('file', `${fileOrGlob}: no such file`);
    return [abs];
  }
  const rows = await db.all<{ file: string }>(`SELECT file FROM glob(${sqlString(abs)}) ORDER BY file`);
  if (rows.length === 0) throw new ValidationError('file', `${fileOrGlob}: the pattern matches no file`);
  return rows.map((r) => r.file);
}

/** The statuses of the tracking taxonomy, as stored in `tracking_statuses`. */
export async function readTaxonomy(db: SqlRunner): Promise<string[]> {
  return (await db.all<{ status: string }>('SELECT status FROM tracking_statuses ORDER BY progress_rank, status')).map((r) => r.status);
}

/** Thrown inside a load's transaction, to roll it back, when the file's hash shows it was loaded before. */
class AlreadyLoaded extends Error {
  constructor(readonly sha256: string) {
    super('these exact bytes were loaded before');
  }
}

/**
 * Loads CSV, Parquet or JSON/NDJSON file(s) into a canonical table. Every row is cast and checked
 * in SQL (types, required fields, enums including the tracking status taxonomy, ranges, parseable
 * timestamps); failures land in `load_rejects` with file, record number, field, reason and the raw
 * row. Good rows are upserted on the table's primary key. A file whose SHA-256 was already loaded
 * for this entity is skipped, so re-running a load never duplicates rows. Each file is one
 * transaction.
 */
export async function loadEntity(wh: Warehouse, entity: EntityName, fileOrGlob: string, opts: LoadOptions = {}): Promise<LoadSummary> {
  if (!isEntityName(entity)) throw new ValidationError('entity', `unknown entity ${String(entity)}; expected one of ${ENTITY_NAMES.join(', ')}`);
  const files = await resolveFiles(wh, fileOrGlob);
  const schema = await readTableSchema(wh, entity);
  const taxonomy = await readTaxonomy(wh);
  const rules = RULES[entity] ?? {};
  const summary: LoadSummary = { entity, files, read: 0, loaded: 0, inserted: 0, updated: 0, rejected: 0, rejectsByReason: {}, perFile: [] };
  const report = (file: string, fileIndex: number, phase: LoadProgress['phase'], percent?: number): void =>
    opts.onProgress?.({ entity, file, fileIndex, fileCount: files.length, phase, percent, read: summary.read, loaded: summary.loaded, rejected: summary.rejected });

  for (const [i, file] of files.entries()) {
    // Into an empty table, building its indexes once afterwards beats maintaining them row by row.
    const empty = !(await wh.one(`SELECT 1 FROM ${sqlIdent(entity)} LIMIT 1`));
    report(file, i, 'hashing', 0);
    const size = fs.statSync(file).size;
    const digesting = digestFile(file, size > 0 ? (bytes) => report(file, i, 'hashing', (100 * bytes) / size) : undefined);
    // A plain CSV into an empty table is read straight into it (see loadCsvIntoEmptyTable) while
    // the file is hashed: the hash only decides whether these bytes were loaded before, which is
    // checked before COMMIT (a repeat rolls back: rare into an empty table), and the line count is
    // only needed after the insert, so the file's extra read no longer comes before the load. Any
    // other file is hashed first, so that a repeat is skipped before it is read.
    const direct = empty && isPlainCsv(file);
    const lines = digesting.then((d) => d.lines);
    // Handled here so that a failed read, awaited below or not, never leaves an unhandled rejection.
    digesting.catch(() => undefined);
    lines.catch(() => undefined);
    const digest = direct ? undefined : await digesting;
    const known = digest && (await wh.one('SELECT 1 FROM load_files WHERE entity = $1 AND sha256 = $2', [entity, digest.sha256]));
    const skipped = (sha256: string): FileLoadResult => ({
      file, sha256, read: 0, loaded: 0, inserted: 0, updated: 0, rejected: 0, skippedAsDuplicateFile: true, ignoredColumns: [], rejectsByReason: {},
    });
    // The read, the insert and the index builds are single DuckDB statements: their progress is polled.
    const poll = opts.onProgress ? setInterval(() => {
      const percent = wh.progress();
      if (percent !== undefined) report(file, i, 'loading', percent);
    }, opts.progressIntervalMs ?? 250) : undefined;
    let staged: StagedFile | undefined;
    const loadFile = async (tx: SqlRunner): Promise<FileLoadResult> => {
      const seen = async (sha256: string) => tx.one('SELECT 1 FROM load_files WHERE entity = $1 AND sha256 = $2', [entity, sha256]);
      if (digest && (await seen(digest.sha256))) return skipped(digest.sha256);
      report(file, i, 'loading');
      // Rejects describe the latest load of a file; a corrected file replaces them.
      await tx.run('DELETE FROM load_rejects WHERE entity = $1 AND file = $2', [entity, file]);
      const done = async (r: Omit<FileLoadResult, 'file' | 'sha256' | 'skippedAsDuplicateFile'>): Promise<FileLoadResult> => {
        const { sha256 } = await digesting;
        if (!digest && (await seen(sha256))) throw new AlreadyLoaded(sha256);
        await tx.run(
          'INSERT INTO load_files (entity, file, sha256, rows_read, rows_loaded, rows_rejected) VALUES ($1, $2, $3, $4, $5, $6)',
          [entity, file, sha256, r.read, r.loaded, r.rejected],
        );
        return { file, sha256, skippedAsDuplicateFile: false, ...r };
      };
      const bulk = direct ? await loadCsvIntoEmptyTable(tx, { entity, file, schema, rules, taxonomy, lines }) : undefined;
      if (bulk) return done(bulk);
      const opened = await openSource(tx, entity, file, schema, staged);
      try {
        const r = await loadRelation(tx, { entity, file, schema, rules, taxonomy, source: opened.source });
        return await done({
          read: r.read + opened.unparsed, loaded: r.loaded, inserted: r.inserted, updated: r.updated, rejected: r.rejected + opened.unparsed,
          ignoredColumns: opened.ignoredColumns, rejectsByReason: r.rejectsByReason,
        });
      } finally {
        // On failure the transaction rolls the temp objects back; don't mask the original error.
        await opened.close().catch(() => undefined);
      }
    };
    let result: FileLoadResult;
    try {
      // Any other new file is read before its transaction (see stageFile), and the temp tables it
      // makes are dropped after it, whatever happens.
      if (!known && !direct) staged = await stageFile(wh, file);
      result = empty ? await withIndexesDeferred(wh, [entity], loadFile) : await wh.transaction(loadFile);
    } catch (e) {
      if (!(e instanceof AlreadyLoaded)) throw e;
      result = skipped(e.sha256);
    } finally {
      clearInterval(poll);
      await staged?.drop().catch(() => undefined);
    }
    summary.perFile.push(result);
    summary.read += result.read;
    summary.loaded += result.loaded;
    summary.inserted += result.inserted;
    summary.updated += result.updated;
    summary.rejected += result.rejected;
    for (const [k, v] of Object.entries(result.rejectsByReason)) summary.rejectsByReason[k] = (summary.rejectsByReason[k] ?? 0) + v;
    if (result.skippedAsDuplicateFile) (summary.skippedAsDuplicateFile ??= []).push(file);
    report(file, i, result.skippedAsDuplicateFile ? 'skipped' : 'done');
  }
  return summary;
}
