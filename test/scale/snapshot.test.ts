/**
 * Publishing snapshots for API replicas and reopening them in place: `shipcast snapshot`, the
 * writer's periodic publisher, the refusal while a bulk write has its keys dropped, and the
 * swappable warehouse a replica serves through.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { publishSnapshot, startSnapshotPublisher } from '../../src/warehouse/snapshot.js';
import { createSwappableWarehouse } from '../../src/warehouse/swappable-warehouse.js';
import { readIndexes } from '../../src/warehouse/bulk-indexes.js';
import { silentLogger } from '../../src/log.js';
import { loadEtaFixture } from '../ml/eta-fixture.js';
import { serve } from '../../src/cli/serve-command.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { waitUntil } from './replica-processes.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-snapshot-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const counts = async (wh: { one: <T>(sql: string) => Promise<T | undefined> }) =>
  (await wh.one<{ s: number; e: number }>('SELECT (SELECT count(*) FROM shipments) AS s, (SELECT count(*) FROM tracking_events) AS e'))!;

describe('publishing a snapshot', () => {
  it('shipcast snapshot --out writes a copy with the same rows and keys that opens read-only', async () => {
    const db = path.join(dir, 'cli.duckdb');
    const wh = await openWarehouse(db);
    await loadEtaFixture(wh, { shipments: 120, days: 20, openDays: 3 });
    const before = await counts(wh);
    const keys = (await readIndexes(wh, ['shipments', 'tracking_events'])).map((i) => i.name);
    await wh.close();

    const out = path.join(dir, 'pub', 'snap.duckdb');
    const rt = captureRuntime();
    expect(await runCli(['snapshot', '--db', db, '--out', out], rt)).toBe(0);
    expect(rt.stdout.at(-1)).toMatch(new RegExp(`^snapshot ${out}: [\\d.]+ MiB in [\\d.]+ s$`));
    const ro = await openWarehouse(out, { readOnly: true });
    try {
      expect(await counts(ro)).toEqual(before);
      expect((await readIndexes(ro, ['shipments', 'tracking_events'])).map((i) => i.name)).toEqual(keys);
      await expect(ro.transaction(async () => undefined)).rejects.toMatchObject({ code: 'READ_ONLY_REPLICA' });
      await expect(ro.append('shipments', [])).rejects.toMatchObject({ code: 'READ_ONLY_REPLICA' });
    } finally {
      await ro.close();
    }
    expect(fs.readdirSync(path.dirname(out))).toEqual(['snap.duckdb']);

    const missing = captureRuntime();
    expect(await runCli(['snapshot', '--db', db], missing)).not.toBe(0);
    expect(missing.stderr.join('\n')).toContain('--out');
  });

  it('the writer publishes at start and on demand, replacing the file (a new inode) while readers keep the old one', async () => {
    const wh = await openWarehouse(path.join(dir, 'writer.duckdb'));
    await loadEtaFixture(wh, { shipments: 50, days: 10 });
    const out = path.join(dir, 'periodic.duckdb');
    const pub = startSnapshotPublisher(wh, out, 3600, silentLogger());
    try {
      await pub.publishNow();
      const first = fs.statSync(out).ino;
      const reader = await openWarehouse(out, { readOnly: true });
      await loadEtaFixture(wh, { shipments: 5, days: 1, idPrefix: 'more' });
      const r = await pub.publishNow();
      expect(r?.file).toBe(out);
      expect(fs.statSync(out).ino).not.toBe(first);
      // The open reader still sees its snapshot whole; a fresh open sees the new one.
      expect((await counts(reader)).s).toBe(50);
      await reader.close();
      const fresh = await openWarehouse(out, { readOnly: true });
      expect((await counts(fresh)).s).toBe(55);
      await fresh.close();
    } finally {
      await pub.stop();
      await wh.close();
    }
  });

  it('shipcast serve --snapshot publishes from the serving writer, and a replica role is refused by createApp', async () => {
    const db = path.join(dir, 'served.duckdb');
    const out = path.join(dir, 'served-snap.duckdb');
    const env = { SHIPCAST_DATA_DIR: dir, SHIPCAST_MODELS_DIR: path.join(dir, 'no-models'), SHIPCAST_ENV: 'test' };
    const s = await serve(captureRuntime(env), { db, port: '0', snapshot: out });
    try {
      expect(s.role).toBe('writer');
      await waitUntil(async () => fs.existsSync(out), 10_000, 'the first snapshot');
      const ro = await openWarehouse(out, { readOnly: true });
      expect((await counts(ro)).s).toBe(0);
      await ro.close();
    } finally {
      await s.stop();
    }
    await expect(createApp(loadConfig({ ...env, SHIPCAST_ROLE: 'replica' }), { log: silentLogger() })).rejects.toMatchObject({ code: 'BAD_CONFIG', field: 'SHIPCAST_ROLE' });
    expect(() => loadConfig({ SHIPCAST_SNAPSHOT_FILE: out }, { role: 'replica' })).toThrow(/SHIPCAST_SNAPSHOT_FILE: a replica publishes no snapshot/);
    expect(() => loadConfig({ SHIPCAST_ROLE: 'primary' })).toThrow(/SHIPCAST_ROLE/);
  });

  it('refuses (CONFLICT) while a bulk write has keys dropped, leaving the published file alone', async () => {
    const wh = await openWarehouse(path.join(dir, 'bulk.duckdb'));
    const out = path.join(dir, 'conflict.duckdb');
    try {
      await publishSnapshot(wh, out);
      const ino = fs.statSync(out).ino;
      await wh.run("INSERT INTO deferred_indexes (table_name, index_name, sql) VALUES ('shipments', 'shipments_pk', 'CREATE UNIQUE INDEX shipments_pk ON shipments (shipment_id)')");
      await expect(publishSnapshot(wh, out)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(fs.statSync(out).ino).toBe(ino);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('conflict'))).toEqual(['conflict.duckdb']);
    } finally {
      await wh.close();
    }
  });
});

describe('the swappable warehouse of a replica', () => {
  it('finishes a query in flight on the old file, then closes it; new calls go to the new one', async () => {
    const a = await openWarehouse(':memory:', { migrate: false });
    const b = await openWarehouse(':memory:', { migrate: false });
    await a.run("CREATE TABLE t AS SELECT 'a' AS v");
    await b.run("CREATE TABLE t AS SELECT 'b' AS v");
    const wh = createSwappableWarehouse(a);
    const slow = wh.one<{ n: number }>('SELECT count(*) AS n FROM range(30000000) r1, range(2) r2');
    const swapped = wh.swap(b);
    expect((await wh.one<{ v: string }>('SELECT v FROM t'))?.v).toBe('b');
    expect((await slow)?.n).toBe(60_000_000);
    await swapped;
    await expect(a.one('SELECT 1')).rejects.toThrow();
    await wh.close();
  });
});
