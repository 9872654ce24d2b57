import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSample } from '../../src/synth/generate.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

export function tempDir(prefix = 'shipcast-lake-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A small generated warehouse in a DuckDB file: a month of history keeps the partition count
 * (and so the test time) low while every table still spans many days.
 */
export async function generatedWarehouse(file: string, shipments = 1000): Promise<Warehouse> {
  const wh = await openWarehouse(file);
  await generateSample(wh, { seed: 11, shipments, asOf: new Date('2026-03-01T00:00:00Z'), knobs: { historyDays: 30 } });
  await wh.checkpoint();
  return wh;
}

/** The glob a reader uses for one lake table. */
export function lakeGlob(lake: string, table: string): string {
  return path.join(lake, table, '**', '*.parquet');
}
