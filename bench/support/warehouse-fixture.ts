/**
 * Warehouse set-up shared by the service benchmarks: the CLI run in-process (as `shipcast …` would
 * run it, output captured), the bench's admin key, and a synthetic warehouse with a fleet re-opened
 * in flight and the real ETA model trained on it.
 */
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { generateSample } from '../../src/synth/generate.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
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
async function reopenRecentDeliveries(wh: Warehouse, count: number): Promise<string[]> {
  const reopen = 'SELECT tracking_number FROM shipments WHERE delivered_at IS NOT NULL ORDER BY shipped_at DESC LIMIT $1';
  await wh.run(`DELETE FROM tracking_events WHERE status = 'delivered' AND tracking_number IN (${reopen})`, [count]);
  await wh.run(`UPDATE shipments SET delivered_at = NULL, status = 'in_transit' WHERE tracking_number IN (${reopen})`, [count]);
  const open = await wh.all<{ tracking_number: string }>('SELECT tracking_number FROM shipments WHERE delivered_at IS NULL ORDER BY tracking_number LIMIT $1', [count]);
  return open.map((r) => r.tracking_number);
}

/** What {@link prepareFleetWarehouse} leaves behind. */
export interface FleetWarehouse {
  /** The CLI over the same environment, for further set-up (e.g. `snapshot`). */
  cli: Cli;
  /** An admin key (see {@link createAdminKey}). */
  key: string;
  /** The undelivered tracking numbers, sorted. */
  open: string[];
  /** Wall time of `shipcast train eta --epochs 3`. */
  trainSeconds: number;
}

/**
 * Builds the warehouse at `db` that the ETA-serving benches measure: the synthetic sample (seed
 * 42) of `shipments`, the `open` most recent deliveries re-opened in flight, `shipcast train eta`
 * (3 epochs) and an admin key.
 */
export async function prepareFleetWarehouse(db: string, env: Record<string, string>, size: { shipments: number; open: number }): Promise<FleetWarehouse> {
  const wh = await openWarehouse(db);
  let open: string[];
  try {
    await generateSample(wh, { seed: 42, shipments: size.shipments });
    open = await reopenRecentDeliveries(wh, size.open);
  } finally {
    await wh.close();
  }
  const cli = inProcessCli(env);
  const t0 = performance.now();
  await cli(['train', 'eta', '--db', db, '--epochs', '3']);
  const trainSeconds = (performance.now() - t0) / 1000;
  const key = await createAdminKey(cli, db);
  return { cli, key, open, trainSeconds };
}
