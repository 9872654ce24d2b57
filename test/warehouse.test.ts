import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { applyMigrations, readMigrations } from '../src/warehouse/migrate.js';

describe('warehouse', () => {
  it('applies every migration once on a real DuckDB file and records them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-wh-'));
    const file = path.join(dir, 'w.duckdb');
    const wh = await openWarehouse(file);
    const versions = (await wh.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
    expect(versions).toEqual(readMigrations().map((m) => m.version));
    await wh.close();
    const again = await openWarehouse(file);
    expect(await applyMigrations(again)).toEqual([]);
    const tables = (await again.all<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema='main'")).map((r) => r.table_name);
    for (const t of ['customers', 'orders', 'order_items', 'shipments', 'tracking_events', 'freight_invoices', 'freight_invoice_charges', 'returns', 'email_messages', 'email_events', 'csat_responses', 'support_contacts', 'nba_decisions', 'tracking_statuses', 'load_rejects']) {
      expect(tables).toContain(t);
    }
    await again.close();
  });

  it('refuses a migration edited after release', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-mig-'));
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'CREATE TABLE a (x INTEGER);');
    const wh = await openWarehouse(':memory:', { migrate: false });
    await applyMigrations(wh, dir);
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'CREATE TABLE a (x INTEGER, y INTEGER);');
    await expect(applyMigrations(wh, dir)).rejects.toThrow(/edited after it was applied/);
    await wh.close();
  });

  it('rolls a failed transaction back and binds parameters', async () => {
    const wh = await openWarehouse(':memory:');
    await expect(
      wh.transaction(async (tx) => {
        await tx.run("INSERT INTO support_contacts (contact_id, channel, reason, created_at) VALUES ($1, 'email', 'wismo', now())", ['c1']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM support_contacts'))?.n).toBe(0);
    await wh.append('support_contacts', [['c2', null, null, null, 'chat', 'late', new Date('2024-01-01T00:00:00Z'), null]]);
    const row = await wh.one<{ contact_id: string; created_at: Date }>('SELECT contact_id, created_at FROM support_contacts WHERE reason = $1', ['late']);
    expect(row?.contact_id).toBe('c2');
    expect(row?.created_at.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    await wh.close();
  });
});
