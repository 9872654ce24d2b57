import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import type { SqlRunner } from '../warehouse/warehouse.js';

/** Tables reported by `shipcast status`, in contract order. */
export const CANONICAL_TABLES = [
  'customers', 'orders', 'order_items', 'shipments', 'tracking_events', 'freight_invoices', 'freight_invoice_charges',
  'returns', 'email_messages', 'email_events', 'csat_responses', 'support_contacts', 'nba_decisions', 'service_alerts', 'load_rejects',
] as const;

/** Reference data the loaders resolve against, and the loaded-files ledger. */
export const REFERENCE_TABLES = ['postal_geo', 'sellers', 'products', 'product_categories', 'load_files'] as const;

/** Row counts per table (the canonical ones by default). */
export async function tableCounts(db: SqlRunner, tables: readonly string[] = CANONICAL_TABLES): Promise<Record<string, number>> {
  const sql = tables.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL ');
  const rows = await db.all<{ t: string; n: number }>(sql);
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = rows.find((r) => r.t === t)?.n ?? 0;
  return out;
}

export function registerStatusCommand(program: Command, rt: CliRuntime): void {
  program
    .command('status')
    .description('print row counts per canonical table')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--json', 'print JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse, config }) => {
        const counts = await tableCounts(warehouse);
        const reference = await tableCounts(warehouse, REFERENCE_TABLES);
        if (opts.json) {
          rt.out(JSON.stringify({ db: config.dbPath, tables: counts, reference }));
          return;
        }
        rt.out(`database: ${config.dbPath}`);
        const w = Math.max(...[...Object.keys(counts), ...Object.keys(reference)].map((k) => k.length));
        for (const [t, n] of Object.entries(counts)) rt.out(`${t.padEnd(w)}  ${n.toLocaleString('en-US')}`);
        rt.out('reference:');
        for (const [t, n] of Object.entries(reference)) rt.out(`${t.padEnd(w)}  ${n.toLocaleString('en-US')}`);
      });
    });
}
