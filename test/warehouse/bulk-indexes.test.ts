import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { applyMigrations, MIGRATIONS_DIR } from '../../src/warehouse/migrate.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { parseIndexColumns, readIndexes, withIndexesDeferred } from '../../src/warehouse/bulk-indexes.js';
import { readTableSchema } from '../../src/load/table-schema.js';
import { generateSample, GENERATED_TABLES, TRUTH_TABLES } from '../../src/synth/generate.js';
import { exportParquet } from '../../src/synth/export.js';

const open: Warehouse[] = [];
async function warehouse(file = ':memory:', migrate = true): Promise<Warehouse> {
  const wh = await openWarehouse(file, { migrate });
  open.push(wh);
  return wh;
}
afterEach(async () => {
  for (const wh of open.splice(0)) await wh.close();
});

const indexNames = async (wh: Warehouse, table: string) =>
  (await readIndexes(wh, [table])).map((i) => i.name);

const event = (id: string) =>
  `('generator', '${id}', 'TN1', NULL, NULL, 'in_transit', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-01 00:01:00+00')`;

describe('migration 007: keys as unique indexes', () => {
  it('rebuilds the tables with the same columns and rows, and enforces the keys through named unique indexes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-007-'));
    for (const f of fs.readdirSync(MIGRATIONS_DIR)) if (f < '007') fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    // Generated rows, moved through Parquet into a warehouse still at migration 006.
    const source = await warehouse();
    await generateSample(source, { seed: 5, shipments: 300, asOf: new Date('2026-11-27T12:00:00Z') });
    const files = await exportParquet(source, [...GENERATED_TABLES, ...TRUTH_TABLES], path.join(dir, 'parquet'));
    const wh = await warehouse(':memory:', false);
    await applyMigrations(wh, dir);
    // Tables and columns added by later migrations (service_alerts, nba_decisions.control, …) do not exist yet at 006.
    const columnsAt006 = new Map<string, string[]>();
    for (const r of await wh.all<{ t: string; c: string }>(
      "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position",
    )) columnsAt006.set(r.t, [...(columnsAt006.get(r.t) ?? []), r.c]);
    for (const f of files) {
      const cols = columnsAt006.get(path.basename(f, '.parquet'));
      if (cols) await wh.run(`INSERT INTO ${path.basename(f, '.parquet')} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM read_parquet('${f}')`);
    }
    const catalog = async () => ({
      columns: await wh.all(`SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'main' AND table_name <> 'deferred_indexes' ORDER BY ALL`),
      checks: await wh.all(`SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints()
        WHERE constraint_type NOT IN ('PRIMARY KEY', 'UNIQUE') AND table_name <> 'deferred_indexes' ORDER BY ALL`),
      data: await wh.all(`SELECT 'tracking_events' AS t, count(*) AS n, bit_xor(hash(x)) AS h FROM tracking_events x
        UNION ALL SELECT 'email_events', count(*), bit_xor(hash(x)) FROM email_events x
        UNION ALL SELECT 'shipments', count(*), bit_xor(hash(x)) FROM shipments x
        UNION ALL SELECT 'truth_shipment_transit', count(*), bit_xor(hash(x)) FROM truth_shipment_transit x ORDER BY t`),
    });
    const before = await catalog();
    fs.copyFileSync(path.join(MIGRATIONS_DIR, '007_bulk_indexes.sql'), path.join(dir, '007_bulk_indexes.sql'));
    expect(await applyMigrations(wh, dir)).toEqual([7]);
    expect(await catalog()).toEqual(before);
    expect(await indexNames(wh, 'shipments')).toEqual(['shipments_order_idx', 'shipments_pk', 'shipments_tracking_number_key']);
    expect(await indexNames(wh, 'tracking_events')).toEqual(['tracking_events_pk', 'tracking_events_tn_idx']);
    const constraintKeys = await wh.all(`SELECT table_name FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')
      AND table_name IN ('shipments', 'tracking_events', 'orders', 'truth_shipment_transit')`);
    expect(constraintKeys).toEqual([]);
  });

  it('rejects duplicate keys and serves ON CONFLICT and INSERT OR REPLACE like a primary key', async () => {
    const wh = await warehouse();
    await wh.run(`INSERT INTO tracking_events VALUES ${event('e1')}`);
    await expect(wh.run(`INSERT INTO tracking_events VALUES ${event('e1')}`)).rejects.toThrow(/Duplicate key/);
    expect(await wh.all(`INSERT INTO tracking_events VALUES ${event('e1')}, ${event('e2')} ON CONFLICT DO NOTHING RETURNING event_id`)).toEqual([{ event_id: 'e2' }]);
    await wh.run(`INSERT INTO tracking_events VALUES ${event('e1').replace('in_transit', 'delivered')} ON CONFLICT (source, event_id) DO UPDATE SET status = excluded.status`);
    await wh.run(`INSERT INTO truth_parameters VALUES ('a', 1, NULL, 'x')`);
    await wh.run(`INSERT OR REPLACE INTO truth_parameters VALUES ('a', 2, NULL, 'y')`);
    expect(await wh.all(`SELECT event_id, status FROM tracking_events ORDER BY 1`)).toEqual([
      { event_id: 'e1', status: 'delivered' },
      { event_id: 'e2', status: 'in_transit' },
    ]);
    expect(await wh.all('SELECT name, value FROM truth_parameters')).toEqual([{ name: 'a', value: 2 }]);
    // Key columns keep the NOT NULL their primary key implied.
    await expect(wh.run("INSERT INTO orders (order_id, customer_id, status, purchased_at) VALUES (NULL, 'c', 'created', now())")).rejects.toThrow(/NOT NULL/);
  });

  it('gives the loader the same key and unique columns as the constraints did', async () => {
    const wh = await warehouse();
    const shipments = await readTableSchema(wh, 'shipments');
    expect(shipments.key).toEqual(['shipment_id']);
    expect(shipments.unique).toEqual([['tracking_number']]);
    expect((await readTableSchema(wh, 'tracking_events')).key).toEqual(['source', 'event_id']);
    expect((await readTableSchema(wh, 'order_items')).key).toEqual(['order_id', 'line_no']);
    expect((await readTableSchema(wh, 'shipments')).columns.find((c) => c.name === 'shipment_id')?.notNull).toBe(true);
  });
});

describe('withIndexesDeferred', () => {
  it('writes with the indexes dropped, re-creates them afterwards and clears the journal', async () => {
    const wh = await warehouse();
    const before = await readIndexes(wh, ['shipments', 'tracking_events']);
    const during = await withIndexesDeferred(wh, ['shipments', 'tracking_events'], async (tx) => {
      await tx.run(`INSERT INTO tracking_events VALUES ${event('e1')}, ${event('e2')}`);
      return (await tx.all<{ index_name: string }>("SELECT index_name FROM duckdb_indexes() WHERE table_name IN ('shipments', 'tracking_events')")).length;
    });
    expect(during).toBe(0);
    expect(await readIndexes(wh, ['shipments', 'tracking_events'])).toEqual(before);
    expect(before.map((i) => i.name)).toContain('tracking_events_pk');
    expect(await wh.all('SELECT * FROM deferred_indexes')).toEqual([]);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events'))?.n).toBe(2);
    await expect(wh.run(`INSERT INTO tracking_events VALUES ${event('e1')}`)).rejects.toThrow(/Duplicate key/);
  });

  it('refuses a write that repeats a key, naming the table and index, rolls it back and keeps the indexes', async () => {
    const wh = await warehouse();
    await wh.run(`INSERT INTO tracking_events VALUES ${event('e1')}`);
    const err = await withIndexesDeferred(wh, ['tracking_events'], async (tx) => {
      await tx.run(`INSERT INTO tracking_events VALUES ${event('e2')}, ${event('e1')}`);
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFLICT', field: 'tracking_events', details: { index: 'tracking_events_pk', key: { source: 'generator', event_id: 'e1' } } });
    expect((err as Error).message).toMatch(/^tracking_events: .*tracking_events_pk/);
    expect(await wh.all('SELECT event_id FROM tracking_events')).toEqual([{ event_id: 'e1' }]);
    expect(await indexNames(wh, 'tracking_events')).toEqual(['tracking_events_pk', 'tracking_events_tn_idx']);
    expect(await wh.all('SELECT * FROM deferred_indexes')).toEqual([]);
  });

  it('skips the duplicate check for keys unique by construction; the index re-creation still catches a repeat, after the commit', async () => {
    const wh = await warehouse();
    const steps: string[] = [];
    await withIndexesDeferred(wh, ['tracking_events'], async (tx) => {
      await tx.run(`INSERT INTO tracking_events VALUES ${event('e1')}, ${event('e2')}`);
    }, { keysUniqueByConstruction: true, onStep: (s) => steps.push(s) });
    expect(steps).toEqual(['write', 'commit', 'index']);
    expect(await indexNames(wh, 'tracking_events')).toEqual(['tracking_events_pk', 'tracking_events_tn_idx']);

    const err = await withIndexesDeferred(wh, ['tracking_events'], async (tx) => {
      await tx.run(`INSERT INTO tracking_events VALUES ${event('e3')}, ${event('e3')}`);
    }, { keysUniqueByConstruction: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', field: 'tracking_events', details: { index: 'tracking_events_pk' } });
    // The broken promise is loud but late: the rows are in, and the index stays journalled.
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events'))?.n).toBe(4);
    expect(await wh.all('SELECT index_name FROM deferred_indexes')).toEqual([{ index_name: 'tracking_events_pk' }]);
  });

  it('re-creates the indexes when the write itself fails, and passes its error on', async () => {
    const wh = await warehouse();
    await expect(
      withIndexesDeferred(wh, ['shipments'], async (tx) => {
        await tx.run('INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level) VALUES ($1, $2, $3, $4, $5)', ['s1', 'o1', 'T1', 'c', 'ground']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM shipments'))?.n).toBe(0);
    expect(await indexNames(wh, 'shipments')).toEqual(['shipments_order_idx', 'shipments_pk', 'shipments_tracking_number_key']);
  });

  it('restores indexes a crashed bulk write left journalled when the warehouse is next opened', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-defer-')), 'w.duckdb');
    const wh = await warehouse(file);
    // What withIndexesDeferred commits before writing; the process then "dies".
    await wh.transaction(async (tx) => {
      for (const d of await readIndexes(tx, ['shipments'])) {
        await tx.run('INSERT INTO deferred_indexes (table_name, index_name, sql) VALUES ($1, $2, $3)', [d.table, d.name, d.sql]);
        await tx.run(`DROP INDEX ${d.name}`);
      }
    });
    expect(await indexNames(wh, 'shipments')).toEqual([]);
    await expect(withIndexesDeferred(wh, ['shipments'], async () => undefined)).rejects.toMatchObject({ code: 'CONFLICT', field: 'shipments' });
    await wh.close();
    const again = await warehouse(file);
    expect(await indexNames(again, 'shipments')).toEqual(['shipments_order_idx', 'shipments_pk', 'shipments_tracking_number_key']);
    expect(await again.all('SELECT * FROM deferred_indexes')).toEqual([]);
  });

  it('with no tables is a plain transaction', async () => {
    const wh = await warehouse();
    expect(await withIndexesDeferred(wh, [], async (tx) => (await tx.one<{ n: number }>('SELECT 41 + 1 AS n'))?.n)).toBe(42);
  });

  it('parses index column lists, quoted or not, and refuses expressions', () => {
    expect(parseIndexColumns(`['"source"', event_id]`, 'x')).toEqual(['source', 'event_id']);
    expect(parseIndexColumns('[tracking_number]', 'x')).toEqual(['tracking_number']);
    expect(() => parseIndexColumns('[lower(email)]', 'idx')).toThrow(/idx: "lower\(email\)" is an expression/);
  });
});
