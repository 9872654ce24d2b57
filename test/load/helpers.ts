import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** A fresh temp directory for one test's input files. */
export function tempDir(prefix = 'shipcast-load-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An in-memory warehouse and a temp directory, opened before a file's tests and removed after them. */
export function useWarehouseAndDir(): { wh: Warehouse; dir: string } {
  const ctx = {} as { wh: Warehouse; dir: string };
  beforeAll(async () => {
    ctx.wh = await openWarehouse(':memory:');
    ctx.dir = tempDir();
  });
  afterAll(async () => {
    await ctx.wh.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes rows (objects sharing the first row's keys, or the union given) as an RFC-4180 CSV. */
export function writeCsv(file: string, rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
