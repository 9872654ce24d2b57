import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';

describe('shipcast generate', () => {
  it('fills a DuckDB file, prints counts, and refuses to generate twice into it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-gen-'));
    const db = path.join(dir, 'g.duckdb');
    const rt = captureRuntime();
    const code = await runCli(['generate', '--seed', '5', '--shipments', '400', '--as-of', '2026-03-01T00:00:00Z', '--db', db, '--json'], rt);
    expect(rt.stderr).toEqual([]);
    expect(code).toBe(0);
    const out = JSON.parse(rt.stdout[0]) as { counts: Record<string, number>; asOf: string };
    expect(out.counts.shipments).toBe(400);
    expect(out.asOf).toBe('2026-03-01T00:00:00.000Z');
    const wh = await openWarehouse(db);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events'))?.n).toBe(out.counts.tracking_events);
    await wh.close();
    const again = captureRuntime();
    expect(await runCli(['generate', '--seed', '5', '--shipments', '400', '--db', db], again)).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/CONFLICT.*already holds data/);
  });

  it('writes one Parquet file per table with --out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-genout-'));
    const rt = captureRuntime();
    expect(await runCli(['generate', '--seed', '5', '--shipments', '300', '--as-of', '2026-03-01', '--out', dir], rt)).toBe(0);
    expect(rt.stdout[0]).toMatch(/generated 300 shipments/);
    for (const t of ['shipments', 'tracking_events', 'truth_shipment_transit', 'truth_invoice_errors']) expect(fs.existsSync(path.join(dir, `${t}.parquet`)), t).toBe(true);
    const wh = await openWarehouse(':memory:');
    const n = await wh.one<{ n: number }>(`SELECT count(*) AS n FROM read_parquet('${path.join(dir, 'shipments.parquet')}')`);
    expect(n?.n).toBe(300);
    await wh.close();
  });

  it('names the bad flag', async () => {
    const rt = captureRuntime();
    expect(await runCli(['generate', '--shipments', 'ten', '--db', ':memory:'], rt)).toBe(1);
    expect(rt.stderr.join('\n')).toMatch(/BAD_INPUT.*--shipments/);
    const both = captureRuntime();
    expect(await runCli(['generate', '--db', 'x.duckdb', '--out', 'dir'], both)).toBe(1);
    expect(both.stderr.join('\n')).toMatch(/--out/);
    const asOf = captureRuntime();
    expect(await runCli(['generate', '--as-of', 'yesterday', '--db', ':memory:'], asOf)).toBe(1);
    expect(asOf.stderr.join('\n')).toMatch(/--as-of/);
  });
});
