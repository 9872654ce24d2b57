import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import { openWarehouse } from '../warehouse/duckdb-warehouse.js';
import { generateSample, GENERATED_TABLES, TRUTH_TABLES, type GenerateSummary } from '../synth/generate.js';
import { exportParquet } from '../synth/export.js';
import { withWarehouse, type CliRuntime } from './runtime.js';

interface GenerateFlags {
  seed?: string;
  shipments?: string;
  asOf?: string;
  db?: string;
  out?: string;
  json?: boolean;
}

function parseIntFlag(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new ValidationError(flag, `must be a non-negative integer, got "${v}"`);
  return Number(v);
}

/** Parses an ISO-8601 instant; bare dates are taken as UTC midnight. */
export function parseAsOf(v: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw new ValidationError('--as-of', `must be an ISO-8601 date or instant, got "${v}"`);
  return d;
}

/** Progress lines on stderr every 10% for runs big enough to take a while. */
function progressPrinter(rt: CliRuntime, shipments: number): ((done: number, total: number) => void) | undefined {
  if (shipments < 50_000) return undefined;
  let last = -1;
  const t0 = performance.now();
  return (done, total) => {
    const pct = Math.floor((100 * done) / total / 10) * 10;
    if (pct === last) return;
    last = pct;
    rt.err(`generate: ${pct}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  };
}

function printSummary(rt: CliRuntime, s: GenerateSummary, target: string, json: boolean): void {
  if (json) {
    rt.out(JSON.stringify({ target, seed: s.seed, shipments: s.shipments, asOf: s.asOf.toISOString(), historyStart: s.historyStart.toISOString(), seconds: s.seconds, counts: s.counts }));
    return;
  }
  rt.out(`generated ${s.shipments.toLocaleString('en-US')} shipments (seed ${s.seed}, history ${s.historyStart.toISOString()} .. ${s.asOf.toISOString()}) in ${s.seconds.toFixed(1)} s into ${target}`);
  const w = Math.max(...Object.keys(s.counts).map((k) => k.length));
  for (const [t, n] of Object.entries(s.counts)) rt.out(`${t.padEnd(w)}  ${n.toLocaleString('en-US')}`);
}

/** `shipcast generate`: deterministic synthetic history into a DuckDB file or Parquet files. */
export function registerGenerateCommand(program: Command, rt: CliRuntime): void {
  program
    .command('generate')
    .description('generate a deterministic synthetic history (canonical tables + ground truth)')
    .option('--seed <n>', 'random seed (default $SHIPCAST_SEED or 42)')
    .option('--shipments <m>', 'number of shipments (default $SHIPCAST_SAMPLE_SHIPMENTS or 20000)')
    .option('--as-of <iso>', 'end of history (default: now)')
    .option('--db <file>', 'DuckDB file to fill (default $SHIPCAST_DB or data/shipcast.duckdb); must hold no orders yet')
    .option('--out <dir>', 'write one Parquet file per table into DIR instead of a database')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: GenerateFlags) => {
      if (flags.db && flags.out) throw new ValidationError('--out', 'use either --db or --out, not both');
      const config = loadConfig(rt.env, { db: flags.db });
      const seed = flags.seed === undefined ? config.seed : parseIntFlag('--seed', flags.seed);
      const shipments = flags.shipments === undefined ? config.sampleShipments : parseIntFlag('--shipments', flags.shipments);
      const asOf = flags.asOf === undefined ? undefined : parseAsOf(flags.asOf);
      const onProgress = progressPrinter(rt, shipments);
      if (flags.out) {
        const wh = await openWarehouse(':memory:');
        try {
          const s = await generateSample(wh, { seed, shipments, asOf, onProgress });
          const files = await exportParquet(wh, [...GENERATED_TABLES, ...TRUTH_TABLES], flags.out);
          printSummary(rt, s, `${files.length} Parquet files in ${flags.out}`, Boolean(flags.json));
        } finally {
          await wh.close();
        }
        return;
      }
      await withWarehouse(rt, { db: flags.db }, async ({ warehouse }) => {
        const s = await generateSample(warehouse, { seed, shipments, asOf, onProgress });
        await warehouse.checkpoint();
        printSummary(rt, s, warehouse.path, Boolean(flags.json));
      });
    });
}
