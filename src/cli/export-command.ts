import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import { exportLake, type LakeExportSummary } from '../lake/export-lake.js';
import { COMPRESSIONS, checkRange, parseDate, parseTables, type Compression } from '../lake/export-plan.js';
import { withWarehouse, type CliRuntime } from './runtime.js';

interface ExportFlags {
  lake?: string;
  tables?: string;
  from?: string;
  until?: string;
  compression?: string;
  db?: string;
  json?: boolean;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function printSummary(rt: CliRuntime, s: LakeExportSummary): void {
  const range = s.from || s.until ? `, event dates ${s.from ?? '…'} .. ${s.until ?? '…'}` : '';
  rt.out(`exported ${fmt(s.rows)} rows in ${fmt(s.files)} files to ${s.dir} in ${s.seconds.toFixed(1)} s (${s.compression}${range})`);
  const w = Math.max(...s.tables.map((t) => t.table.length));
  for (const t of s.tables) {
    const kept = t.keptPartitions > 0 ? `, ${fmt(t.keptPartitions)} partitions kept (${fmt(t.lakeRows)} rows in the lake)` : '';
    const by = t.partitionedBy ? `${fmt(t.partitions)} partitions by ${t.partitionedBy}` : 'unpartitioned';
    rt.out(`${t.table.padEnd(w)}  ${fmt(t.rows)} rows, ${fmt(t.files)} files, ${by}${kept}`);
  }
}

/** `shipcast export --lake DIR`: the canonical tables as a Hive-partitioned Parquet lake. */
export function registerExportCommand(program: Command, rt: CliRuntime): void {
  program
    .command('export')
    .description('export the canonical tables as Hive-partitioned Parquet (by event date) for DuckDB, Spark and Trino')
    .option('--lake <dir>', 'lake directory; each table becomes DIR/<table>/event_date=YYYY-MM-DD/*.parquet')
    .option('--tables <a,b>', 'only these tables (default: all)')
    .option('--from <date>', 'incremental: rewrite only partitions dated on or after YYYY-MM-DD')
    .option('--until <date>', 'incremental: rewrite only partitions dated on or before YYYY-MM-DD')
    .option('--compression <codec>', `Parquet codec: ${COMPRESSIONS.join(' or ')} (default zstd)`)
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: ExportFlags) => {
      if (!flags.lake) throw new ValidationError('--lake', 'a lake directory is required');
      const tables = flags.tables === undefined ? undefined : parseTables(flags.tables);
      const range = checkRange({
        from: flags.from === undefined ? undefined : parseDate(flags.from, '--from'),
        until: flags.until === undefined ? undefined : parseDate(flags.until, '--until'),
      });
      const compression = flags.compression ?? 'zstd';
      if (!(COMPRESSIONS as readonly string[]).includes(compression)) {
        throw new ValidationError('--compression', `must be ${COMPRESSIONS.join(' or ')}, got "${compression}"`);
      }
      const { dbPath } = loadConfig(rt.env, { db: flags.db });
      // Opening a missing file would create an empty warehouse and export nothing.
      if (dbPath !== ':memory:' && !fs.existsSync(dbPath)) throw new ValidationError('--db', `no DuckDB file at ${dbPath}`);
      const lake = flags.lake;
      await withWarehouse(rt, { db: flags.db }, async ({ warehouse }) => {
        const s = await exportLake(warehouse, lake, {
          tables,
          range,
          compression: compression as Compression,
          onTable: flags.json ? undefined : (t) => rt.err(`export: ${t.table} (${fmt(t.rows)} rows, ${t.seconds.toFixed(1)} s)`),
        });
        if (flags.json) rt.out(JSON.stringify(s));
        else printSummary(rt, s);
      });
    });
}
