/**
 * Bulk load through `loadEntity` against DuckDB's own `CREATE TABLE AS SELECT * FROM read_parquet
 * / read_csv` on the same files, in the same run, each into a fresh migrated database file. The
 * input is generated data: `generateSample` (≈8.6 tracking events per shipment) exported with COPY.
 * Target: loader time <= 1.3 × the CTAS time. The CTAS writes an unindexed table, while the
 * canonical tables carry a primary key (and tracking_events a secondary index), so the bench also
 * times a plain `INSERT INTO <canonical table> SELECT * FROM <reader>`: the ratio against it is the
 * price of validation, rejects, key checks and sha256 bookkeeping alone. A last run loads into the
 * table with its indexes dropped beforehand: the ratio it gives is the loader without building keys.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../src/synth/generate.js';
import { loadEntity } from '../src/load/load-entity.js';
import type { EntityName } from '../src/load/entities.js';

const SHIPMENTS = Number(process.env.SHIPCAST_BENCH_LOAD_SHIPMENTS ?? 130_000);
const REPEATS = 2;

async function fresh(dir: string, name: string) {
  for (const f of [name, `${name}.wal`]) fs.rmSync(path.join(dir, f), { force: true });
  return openWarehouse(path.join(dir, name));
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export default async function loadBench(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-bench-load-'));
  try {
    const gen = await fresh(dir, 'gen.duckdb');
    const genSeconds = await timeIt(() => generateSample(gen, { seed: 7, shipments: SHIPMENTS, asOf: new Date('2026-11-01T00:00:00Z') }));
    const inputs: { entity: EntityName; format: 'parquet' | 'csv'; file: string; reader: string }[] = [];
    const rows: Record<string, number> = {};
    // tracking_events is the > 1M-row table; shipments (≈ 1/8 of it) adds nothing but run time.
    for (const entity of ['tracking_events'] as const) {
      rows[entity] = Number((await gen.one<{ n: number }>(`SELECT count(*) AS n FROM ${entity}`))?.n);
      for (const format of ['parquet', 'csv'] as const) {
        const file = path.join(dir, `${entity}.${format}`);
        await gen.run(`COPY ${entity} TO '${file}' (FORMAT ${format}${format === 'csv' ? ', HEADER' : ''})`);
        inputs.push({ entity, format, file, reader: format === 'csv' ? `read_csv('${file}')` : `read_parquet('${file}')` });
      }
    }
    await gen.close();

    const results: Record<string, unknown> = {};
    for (const input of inputs) {
      let ctas = Infinity;
      let insert = Infinity;
      let loader = Infinity;
      let loaderNoIndexes = Infinity;
      let summary: { loaded: number; rejected: number } | undefined;
      for (let i = 0; i < REPEATS; i++) {
        const a = await fresh(dir, 'ctas.duckdb');
        ctas = Math.min(ctas, await timeIt(() => a.run(`CREATE TABLE bench_copy AS SELECT * FROM ${input.reader}`)));
        await a.close();
        const c = await fresh(dir, 'insert.duckdb');
        insert = Math.min(insert, await timeIt(() => c.run(`INSERT INTO ${input.entity} SELECT * FROM ${input.reader}`)));
        await c.close();
        const b = await fresh(dir, 'loader.duckdb');
        loader = Math.min(loader, await timeIt(async () => {
          summary = await loadEntity(b, input.entity, input.file);
        }));
        await b.close();
        // The same load into a table stripped of its indexes: what validation, rejects and bookkeeping
        // cost on their own, without building the keys the contract requires.
        const d = await fresh(dir, 'noidx.duckdb');
        for (const ix of await d.all<{ index_name: string }>('SELECT index_name FROM duckdb_indexes() WHERE table_name = $1', [input.entity])) {
          await d.run(`DROP INDEX "${ix.index_name}"`);
        }
        loaderNoIndexes = Math.min(loaderNoIndexes, await timeIt(() => loadEntity(d, input.entity, input.file)));
        await d.close();
      }
      results[`${input.entity}.${input.format}`] = {
        rows: rows[input.entity],
        bytes: fs.statSync(input.file).size,
        ctasSeconds: Number(ctas.toFixed(3)),
        insertIntoCanonicalSeconds: Number(insert.toFixed(3)),
        loaderSeconds: Number(loader.toFixed(3)),
        ratio: Number((loader / ctas).toFixed(2)),
        targetRatio: 1.3,
        ratioVsInsertIntoCanonical: Number((loader / insert).toFixed(2)),
        loaderWithoutIndexesSeconds: Number(loaderNoIndexes.toFixed(3)),
        ratioWithoutIndexes: Number((loaderNoIndexes / ctas).toFixed(2)),
        loaded: summary?.loaded,
        rejected: summary?.rejected,
      };
    }
    return { shipments: SHIPMENTS, generateSeconds: Number(genSeconds.toFixed(1)), repeatsTakingMin: REPEATS, results };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
