import type { Command } from 'commander';
import { publishSnapshot } from '../warehouse/snapshot.js';
import { withWarehouse, type CliRuntime } from './runtime.js';

/**
 * `shipcast snapshot --out FILE`: publishes a consistent, read-only-ready copy of the warehouse
 * for API replicas (temp file + rename, so replicas never see half a file). For a writer that is
 * serving, `shipcast serve --snapshot FILE` publishes from inside the process instead (DuckDB lets
 * only one process open the file for writing).
 */
export function registerSnapshotCommand(program: Command, rt: CliRuntime): void {
  program
    .command('snapshot')
    .description('publish a read-only snapshot of the warehouse for API replicas (shipcast serve --replica --db FILE)')
    .requiredOption('--out <file>', 'snapshot file to write (replaced atomically)')
    .option('--db <file>', 'DuckDB file')
    .action(async (opts: { out: string; db?: string }) => {
      const r = await withWarehouse(rt, { db: opts.db }, ({ warehouse }) => publishSnapshot(warehouse, opts.out));
      rt.out(`snapshot ${r.file}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.seconds.toFixed(2)} s`);
    });
}
