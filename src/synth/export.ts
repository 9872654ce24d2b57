/**
 * Writes generated tables to Parquet files, one per table, so loaders and benchmarks can bulk-load
 * them (`shipcast generate --out DIR`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Warehouse } from '../warehouse/warehouse.js';

/** Copies each table to `DIR/<table>.parquet`; returns the files written. */
export async function exportParquet(wh: Warehouse, tables: readonly string[], dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const t of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new RangeError(`not a table name: ${t}`);
    const file = path.resolve(dir, `${t}.parquet`);
    // COPY cannot bind its target as a parameter; the path is quoted as a string literal instead.
    await wh.run(`COPY (SELECT * FROM ${t}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
    files.push(file);
  }
  return files;
}
