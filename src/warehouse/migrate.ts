import fs from 'node:fs';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Warehouse } from './warehouse.js';
import { ShipcastError } from '../errors.js';

/** Where the versioned `NNN_name.sql` files live. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the migration files in version order. Names must look like `001_core.sql`. */
export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<number>();
  return files.map((f) => {
    const m = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(f);
    if (!m) throw new ShipcastError('INTERNAL', `migration file name ${f} does not match NNN_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new ShipcastError('INTERNAL', `two migrations share version ${version}`);
    seen.add(version);
    const sql = fs.readFileSync(`${dir}/${f}`, 'utf8');
    return { version, name: m[2], sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, each in its own transaction.
 * A recorded migration whose file changed is an error: released migrations are never edited.
 * Returns the versions applied by this call.
 */
export async function applyMigrations(wh: Warehouse, dir: string = MIGRATIONS_DIR): Promise<number[]> {
  await wh.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)`);
  const applied = new Map(
    (await wh.all<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')).map((r) => [r.version, r.checksum]),
  );
  const done: number[] = [];
  for (const m of readMigrations(dir)) {
    const prev = applied.get(m.version);
    if (prev !== undefined) {
      if (prev !== m.checksum) {
        throw new ShipcastError('INTERNAL', `migration ${m.version}_${m.name} was edited after it was applied; add a new migration instead`);
      }
      continue;
    }
    await wh.transaction(async (tx) => {
      await tx.run(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
    });
    done.push(m.version);
  }
  return done;
}
