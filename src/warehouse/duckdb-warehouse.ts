import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBAppender, type DuckDBValue } from '@duckdb/node-api';
import type { Row, SqlRunner, SqlValue, Warehouse } from './warehouse.js';
import { applyMigrations } from './migrate.js';
import { restoreDeferredIndexes } from './bulk-indexes.js';
import { readColumns } from './duckdb-columns.js';
import { assertSchemaCurrent } from './schema-version.js';
import { ShipcastError } from '../errors.js';

/** A FIFO mutex: DuckDB transactions are per connection, so writers must not interleave. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

function toParam(v: SqlValue): DuckDBValue {
  if (v instanceof Date) return v.toISOString();
  return v;
}

function toParams(params?: readonly SqlValue[]): DuckDBValue[] | undefined {
  return params && params.length > 0 ? params.map(toParam) : undefined;
}

function normalizeValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  return v;
}

function normalizeRow(r: Record<string, unknown>): Row {
  for (const k of Object.keys(r)) r[k] = normalizeValue(r[k]);
  return r;
}

function runnerFor(conn: DuckDBConnection): SqlRunner {
  return {
    async run(sql, params) {
      await conn.run(sql, toParams(params));
    },
    async all<T>(sql: string, params?: readonly SqlValue[]) {
      const reader = await conn.runAndReadAll(sql, toParams(params));
      return reader.getRowObjectsJS().map((r) => normalizeRow(r as Record<string, unknown>)) as T[];
    },
    async one<T>(sql: string, params?: readonly SqlValue[]) {
      const reader = await conn.runAndReadAll(sql, toParams(params));
      const rows = reader.getRowObjectsJS();
      return rows.length > 0 ? (normalizeRow(rows[0] as Record<string, unknown>) as T) : undefined;
    },
    async columns(sql, params) {
      return readColumns(await conn.run(sql, toParams(params)));
    },
  };
}

function appendValue(app: DuckDBAppender, v: SqlValue): void {
  if (v === null) app.appendNull();
  else if (typeof v === 'number') app.appendDouble(v);
  else if (typeof v === 'bigint') app.appendBigInt(v);
  else if (typeof v === 'boolean') app.appendBoolean(v);
  else if (v instanceof Date) app.appendVarchar(v.toISOString());
  else app.appendVarchar(v);
}

export interface OpenOptions {
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** DuckDB thread count; defaults to DuckDB's own choice. */
  threads?: number;
  /**
   * Track the progress of the writer connection's statements, for `Warehouse.progress` (default
   * false: for loads a person watches, since tracking may cost a little on heavy statements).
   */
  trackProgress?: boolean;
  /**
   * Open an existing file with DuckDB's `access_mode = 'READ_ONLY'`, as API replicas do: many
   * processes may then share the file, but none may write it while they do. Migrations and the
   * deferred-index recovery are skipped (they write); instead the file's schema must already be at
   * this build's version, else BAD_CONFIG. Writes through the warehouse fail with READ_ONLY_REPLICA.
   */
  readOnly?: boolean;
}

function readOnlyRefusal(what: string): ShipcastError {
  return new ShipcastError('READ_ONLY_REPLICA', `${what}: the warehouse is open read-only (an API replica); the writer process does the writing`);
}

/**
 * Opens (creating if needed) a DuckDB warehouse at `dbPath` (`:memory:` for tests), applies
 * the versioned migrations and re-creates indexes an interrupted bulk write left dropped. Reads go through their own connection so a long write transaction
 * does not block them (DuckDB is MVCC); writes are serialized through one connection.
 */
export async function openWarehouse(dbPath: string, opts: OpenOptions = {}): Promise<Warehouse> {
  const readOnly = opts.readOnly === true;
  if (readOnly && (dbPath === ':memory:' || !fs.existsSync(dbPath))) {
    throw new ShipcastError('BAD_CONFIG', `db: ${dbPath} does not exist; a read-only warehouse opens an existing file (a snapshot from \`shipcast snapshot\`)`, { field: 'db' });
  }
  if (dbPath !== ':memory:' && !readOnly) fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const options: Record<string, string> = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'true' };
  if (opts.threads) options.threads = String(opts.threads);
  if (readOnly) options.access_mode = 'READ_ONLY';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(dbPath, options);
  } catch (e) {
    // A writer holds the file: replicas read a published snapshot of it instead (docs/SCALE.md, section 4).
    const hint = readOnly && /lock/i.test((e as Error).message) ? '; a process is writing it, so open the snapshot it publishes (shipcast serve --snapshot FILE)' : '';
    throw new ShipcastError('BAD_CONFIG', `db: cannot open DuckDB database at ${dbPath}: ${(e as Error).message}${hint}`, { field: 'db', cause: e });
  }
  const writer = await instance.connect();
  const reader = await instance.connect();
  for (const c of [writer, reader]) await c.run("SET TimeZone = 'UTC'");
  // Lets `progress` read DuckDB's estimate of a running statement (nothing is printed).
  if (opts.trackProgress) await writer.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0');
  const w = runnerFor(writer);
  const r = runnerFor(reader);
  const mutex = new Mutex();
  let closed = false;

  const wh: Warehouse = {
    path: dbPath,
    run: (sql, params) => mutex.lock(() => w.run(sql, params)),
    all: (sql, params) => r.all(sql, params),
    one: (sql, params) => r.one(sql, params),
    columns: (sql, params) => r.columns(sql, params),
    transaction: (fn) =>
      mutex.lock(async () => {
        await writer.run('BEGIN TRANSACTION');
        try {
          const out = await fn(w);
          await writer.run('COMMIT');
          return out;
        } catch (e) {
          await writer.run('ROLLBACK').catch(() => undefined);
          throw e;
        }
      }),
    append: (table, rows) =>
      mutex.lock(async () => {
        const app = await writer.createAppender(table);
        try {
          for (const row of rows) {
            for (const v of row) appendValue(app, v);
            app.endRow();
          }
          app.flushSync();
        } finally {
          app.closeSync();
        }
      }),
    checkpoint: (whileFolded) =>
      mutex.lock(async () => {
        await w.run('CHECKPOINT');
        await whileFolded?.();
      }),
    progress() {
      const p = closed || !opts.trackProgress ? -1 : writer.progress.percentage;
      return p >= 0 ? p : undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      await mutex.lock(async () => {
        reader.closeSync();
        writer.closeSync();
        instance.closeSync();
      });
    },
  };
  if (readOnly) {
    // Refused before DuckDB sees them, with a code callers can branch on (DuckDB's own error is a plain string).
    wh.run = async () => { throw readOnlyRefusal('run'); };
    wh.transaction = async () => { throw readOnlyRefusal('transaction'); };
    wh.append = async (table) => { throw readOnlyRefusal(`append to ${table}`); };
    // Nothing to fold: a read-only instance never writes a WAL.
    wh.checkpoint = async (whileFolded) => whileFolded?.();
    try {
      await assertSchemaCurrent(wh);
    } catch (e) {
      await wh.close();
      throw e;
    }
    return wh;
  }
  if (opts.migrate !== false) {
    await applyMigrations(wh);
    // A bulk write that died with its indexes dropped left them journalled; put them back first.
    await restoreDeferredIndexes(wh);
  }
  return wh;
}
