/**
 * Warehouse set-up shared by the service benchmarks: the CLI run in-process (as `shipcast …` would
 * run it, output captured), the bench's admin key, and a fleet re-opened in flight.
 */
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** Runs one `shipcast` command line; resolves to its stdout lines, rejects with its stderr. */
export type Cli = (args: string[]) => Promise<string[]>;

/** The CLI in this process with `env` as its environment. */
export function inProcessCli(env: Record<string, string>): Cli {
  return async (args) => {
    const rt = captureRuntime(env);
    if ((await runCli(args, rt)) !== 0) throw new Error(`shipcast ${args.join(' ')}: ${rt.stderr.join('\n')}`);
    return rt.stdout;
  };
}

/** Creates an admin API key without a practical rate limit (so the limiter never answers 429) and returns it. */
export async function createAdminKey(cli: Cli, db: string): Promise<string> {
  return (await cli(['keys', 'create', '--role', 'admin', '--rate', '1000000', '--label', 'bench', '--db', db])).at(-1)!;
}

/**
 * Re-opens the `count` most recently shipped deliveries (their delivered events removed, the
 * shipments back in transit): the synthetic sample is mostly history, the benches need a fleet in
 * flight. Returns `count` undelivered tracking numbers, sorted.
 */
export async function reopenRecentDeliveries(wh: Warehouse, count: number): Promise<string[]> {
  const reopen = 'SELECT tracking_number FROM shipments WHERE delivered_at IS NOT NULL ORDER BY shipped_at DESC LIMIT $1';
  await wh.run(`DELETE FROM tracking_events WHERE status = 'delivered' AND tracking_number IN (${reopen})`, [count]);
  await wh.run(`UPDATE shipments SET delivered_at = NULL, status = 'in_transit' WHERE tracking_number IN (${reopen})`, [count]);
  const open = await wh.all<{ tracking_number: string }>('SELECT tracking_number FROM shipments WHERE delivered_at IS NULL ORDER BY tracking_number LIMIT $1', [count]);
  return open.map((r) => r.tracking_number);
}
