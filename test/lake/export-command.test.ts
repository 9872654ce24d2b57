import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generatedWarehouse, lakeGlob, tempDir } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs the real CLI in a child process, as a user would. */
function shipcast(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, SHIPCAST_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('shipcast export (CLI)', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = tempDir('shipcast-lake-cli-');
    db = path.join(dir, 'w.duckdb');
    const wh = await generatedWarehouse(db, 300);
    await wh.close();
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exports the chosen tables from a DuckDB file and prints a JSON summary', async () => {
    const lake = path.join(dir, 'lake');
    const r = await shipcast(['export', '--lake', lake, '--db', db, '--tables', 'shipments,tracking_events,tracking_statuses', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { tables: { table: string; rows: number; files: number }[]; seconds: number; compression: string };
    expect(s.tables.map((t) => t.table)).toEqual(['shipments', 'tracking_events', 'tracking_statuses']);
    expect(s.compression).toBe('zstd');
    expect(s.seconds).toBeGreaterThan(0);
    expect(fs.readdirSync(lake).sort()).toEqual(['shipments', 'tracking_events', 'tracking_statuses']);
    const wh = await openWarehouse(db);
    try {
      for (const t of s.tables) {
        const inWh = await wh.one<{ n: number }>(`SELECT count(*) AS n FROM ${t.table}`);
        const inLake = await wh.one<{ n: number }>(`SELECT count(*) AS n FROM read_parquet('${lakeGlob(lake, t.table)}', hive_partitioning = true)`);
        expect(t.rows, t.table).toBe(Number(inWh?.n));
        expect(Number(inLake?.n), t.table).toBe(t.rows);
        expect(t.files, t.table).toBeGreaterThan(0);
      }
    } finally {
      await wh.close();
    }
  }, 60_000);

  it('names the bad flag, and writes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['export', '--lake', path.join(dir, 'bad-lake'), '--db', db, '--tables', 'shipments,truth_runs'], /error \[BAD_INPUT\]: --tables: unknown table "truth_runs"/],
      [['export', '--db', db], /BAD_INPUT.*--lake/],
      [['export', '--lake', dir, '--db', db, '--from', '2026-02-30'], /BAD_INPUT.*--from/],
      [['export', '--lake', dir, '--db', db, '--from', '2026-02-10', '--until', '2026-02-01'], /BAD_INPUT.*--until/],
      [['export', '--lake', dir, '--db', db, '--compression', 'gzip'], /BAD_INPUT.*--compression/],
      [['export', '--lake', dir, '--db', path.join(dir, 'absent.duckdb')], /BAD_INPUT.*--db/],
    ];
    for (const [args, re] of cases) {
      const rt = captureRuntime();
      expect(await runCli(args, rt), args.join(' ')).toBe(1);
      expect(rt.stderr.join('\n'), args.join(' ')).toMatch(re);
    }
    expect(fs.existsSync(path.join(dir, 'absent.duckdb'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'bad-lake'))).toBe(false);
  });

  it('prints one line per table without --json', async () => {
    const rt = captureRuntime();
    expect(await runCli(['export', '--lake', path.join(dir, 'text-lake'), '--db', db, '--tables', 'orders', '--from', '2026-02-01'], rt)).toBe(0);
    expect(rt.stdout[0]).toMatch(/^exported [\d,]+ rows in [\d,]+ files to .* \(zstd, event dates 2026-02-01 \.\. …\)$/);
    expect(rt.stdout[1]).toMatch(/^orders {2}[\d,]+ rows, [\d,]+ files, [\d,]+ partitions by purchased_at \(UTC\)$/);
  });
});
