/**
 * The schema check of a read-only open: a replica cannot migrate, so the file must already hold
 * exactly the migrations this build ships (same versions, same checksums).
 */
import type { SqlRunner } from './warehouse.js';
import { readMigrations, MIGRATIONS_DIR } from './migrate.js';
import { ShipcastError } from '../errors.js';

/** Throws BAD_CONFIG (field `db`) naming what differs when `db`'s migrations are not this build's. */
export async function assertSchemaCurrent(db: SqlRunner, dir: string = MIGRATIONS_DIR): Promise<void> {
  const table = await db.one<{ n: number }>("SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_migrations'");
  if (!table?.n) throw new ShipcastError('BAD_CONFIG', 'db: the file is not a shipcast warehouse (no schema_migrations table)', { field: 'db' });
  const applied = new Map((await db.all<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')).map((r) => [r.version, r.checksum]));
  const shipped = readMigrations(dir);
  const missing = shipped.filter((m) => !applied.has(m.version)).map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`);
  if (missing.length > 0) {
    throw new ShipcastError(
      'BAD_CONFIG',
      `db: the file's schema is older than this build (missing migrations ${missing.join(', ')}); open it once with a writer (any shipcast command migrates it), then publish a new snapshot`,
      { field: 'db', details: { missing } },
    );
  }
  const known = new Set(shipped.map((m) => m.version));
  const newer = [...applied.keys()].filter((v) => !known.has(v)).sort((a, b) => a - b);
  if (newer.length > 0) {
    throw new ShipcastError('BAD_CONFIG', `db: the file's schema is newer than this build (migrations ${newer.join(', ')} are unknown here); run the writer's version of shipcast`, {
      field: 'db',
      details: { newer },
    });
  }
  const edited = shipped.find((m) => applied.get(m.version) !== m.checksum);
  if (edited) {
    throw new ShipcastError('BAD_CONFIG', `db: migration ${edited.version}_${edited.name} differs from the one applied to the file; writer and replica must run the same build`, { field: 'db' });
  }
}
