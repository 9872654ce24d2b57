/**
 * `shipcast export --lake` of a generated warehouse (100k shipments by default,
 * SHIPCAST_BENCH_LAKE_SHIPMENTS overrides) against two baselines measured in the same run on the
 * same tables and codec: DuckDB's own plain unpartitioned `COPY (SELECT * FROM t) TO 'x.parquet'`,
 * one file per table, and DuckDB's own partitioned `COPY … PARTITION_BY (event_date)` with the
 * export's very statements but none of its bookkeeping (staging, row-count check, `_SUCCESS`,
 * rename). The first ratio is the price of daily partitions; the second that of publishing them
 * safely. Each figure is the best of REPEATS runs, alternating the variants (a snappy export among
 * them, to compare the codecs). A re-export over the lake and an incremental export of the last 7
 * days are timed once, as information.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { generateSample } from '../src/synth/generate.js';
import { exportLake, type LakeExportSummary } from '../src/lake/export-lake.js';
import { planCopy, type ColumnInfo } from '../src/lake/export-plan.js';
import { LAKE_TABLES } from '../src/lake/lake-tables.js';

const SHIPMENTS = Number(process.env.SHIPCAST_BENCH_LAKE_SHIPMENTS ?? 100_000);
const REPEATS = 2;
const round2 = (x: number) => Math.round(x * 100) / 100;

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function dirBytes(dir: string): number {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .reduce((a, f) => a + fs.statSync(f).size, 0);
}

const mib = (bytes: number) => round2(bytes / 2 ** 20);

async function plainCopy(wh: Warehouse, out: string): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const t of LAKE_TABLES) await wh.all(`COPY (SELECT * FROM ${t.name}) TO $1 (FORMAT parquet, COMPRESSION zstd)`, [path.join(out, `${t.name}.parquet`)]);
}

async function partitionedCopy(wh: Warehouse, out: string): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const t of LAKE_TABLES) {
    const cols = await wh.all<ColumnInfo>(`SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`, [t.name]);
    const plan = planCopy(t, cols, { compression: 'zstd' });
    const target = t.eventDate ? path.join(out, t.name) : path.join(out, `${t.name}.parquet`);
    await wh.all(plan.sql, [target, ...plan.params]);
  }
}

export default async function lakeBench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-bench-lake-'));
  try {
    const wh = await openWarehouse(path.join(dir, 'bench.duckdb'));
    await generateSample(wh, { seed: 42, shipments: SHIPMENTS, asOf: new Date('2026-11-27T12:00:00Z') });
    await wh.checkpoint();
    const rows = Number((await wh.one<{ n: number }>(
      `SELECT ${LAKE_TABLES.map((t) => `(SELECT count(*) FROM ${t.name})`).join(' + ')} AS n`,
    ))?.n);

    const best = { plain: Infinity, partitioned: Infinity, lake: Infinity, snappy: Infinity };
    let summary: LakeExportSummary | undefined;
    const lake = path.join(dir, 'lake');
    const snappyLake = path.join(dir, 'lake-snappy');
    for (let i = 0; i < REPEATS; i++) {
      best.plain = Math.min(best.plain, await timeIt(() => plainCopy(wh, path.join(dir, 'plain'))));
      best.partitioned = Math.min(best.partitioned, await timeIt(() => partitionedCopy(wh, path.join(dir, 'partitioned'))));
      fs.rmSync(lake, { recursive: true, force: true });
      best.lake = Math.min(best.lake, await timeIt(async () => (summary = await exportLake(wh, lake))));
      fs.rmSync(snappyLake, { recursive: true, force: true });
      best.snappy = Math.min(best.snappy, await timeIt(() => exportLake(wh, snappyLake, { compression: 'snappy' })));
    }
    const s = summary!;
    const lakeBytes = dirBytes(lake);
    const plainBytes = dirBytes(path.join(dir, 'plain'));
    const reexport = await timeIt(() => exportLake(wh, lake));
    const last = await wh.one<{ d: string }>(`SELECT strftime(max(CAST(timezone('UTC', occurred_at) AS DATE)) - 6, '%Y-%m-%d') AS d FROM tracking_events`);
    let incremental: LakeExportSummary | undefined;
    const incrementalSeconds = await timeIt(async () => (incremental = await exportLake(wh, lake, { range: { from: last!.d } })));
    const snappyBytes = dirBytes(snappyLake);
    await wh.close();
    return {
      shipments: SHIPMENTS,
      rows,
      tables: s.tables.length,
      files: s.files,
      baseline: {
        what: 'DuckDB COPY (SELECT * FROM t) TO t.parquet (zstd), one unpartitioned file per table, same tables, same run',
        seconds: round2(best.plain),
        rowsPerSecond: Math.round(rows / best.plain),
        mib: mib(plainBytes),
      },
      partitionedCopy: {
        what: "DuckDB's own COPY … PARTITION_BY (event_date) with the export's statements, no staging or checks",
        seconds: round2(best.partitioned),
      },
      lake: {
        seconds: round2(best.lake),
        rowsPerSecond: Math.round(rows / best.lake),
        mib: mib(lakeBytes),
        ratioToPlainCopy: round2(best.lake / best.plain),
        ratioToPartitionedCopy: round2(best.lake / best.partitioned),
      },
      reexportSeconds: round2(reexport),
      incrementalLast7Days: {
        from: last!.d,
        seconds: round2(incrementalSeconds),
        rowsWritten: incremental!.rows,
        filesWritten: incremental!.files,
        partitionsKept: incremental!.tables.reduce((a, t) => a + t.keptPartitions, 0),
      },
      snappy: { seconds: round2(best.snappy), mib: mib(snappyBytes), ratioToZstdLake: round2(best.snappy / best.lake) },
      perTableSeconds: Object.fromEntries(s.tables.map((t) => [t.table, round2(t.seconds)])),
      perTableFiles: Object.fromEntries(s.tables.map((t) => [t.table, t.files])),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
