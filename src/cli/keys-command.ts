import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { createApiKeyStore } from '../auth/api-keys.js';
import { permissionsOf, ROLES } from '../auth/roles.js';
import { ValidationError } from '../errors.js';

/** `shipcast keys create|list|revoke`: manages API keys (only their hashes are stored). */
export function registerKeysCommand(program: Command, rt: CliRuntime): void {
  const keys = program.command('keys').description('manage API keys for the GraphQL API');
  keys
    .command('create')
    .description('create an API key; the key is printed once, as the last line')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--label <text>', 'what the key is for')
    .option('--rate <n>', 'requests per second allowed (default: the server default)')
    .option('--db <file>', 'DuckDB file')
    .action(async (opts: { role: string; label?: string; rate?: string; db?: string }) => {
      const rate = opts.rate === undefined ? undefined : Number(opts.rate);
      if (rate !== undefined && !Number.isInteger(rate)) throw new ValidationError('rate', `must be an integer (got "${opts.rate}")`);
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const { key, info } = await createApiKeyStore(warehouse).create({ role: opts.role, label: opts.label, ratePerSecond: rate });
        rt.err(`created key ${info.keyId} (role ${info.role}: ${permissionsOf(info.role).join(', ')}); store it now, it is not shown again`);
        rt.out(key);
      });
    });
  keys
    .command('list')
    .description('list API keys (ids, roles, state; never the keys)')
    .option('--db <file>', 'DuckDB file')
    .option('--json', 'print JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const list = await createApiKeyStore(warehouse).list();
        if (opts.json) {
          rt.out(JSON.stringify(list));
          return;
        }
        for (const k of list) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
          rt.out([k.keyId, k.role.padEnd(14), state.padEnd(32), k.createdAt.toISOString(), k.ratePerSecond ?? '-', k.label ?? ''].join('  '));
        }
      });
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key by id')
    .option('--db <file>', 'DuckDB file')
    .action(async (id: string, opts: { db?: string }) => {
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const info = await createApiKeyStore(warehouse).revoke(id);
        rt.out(`revoked ${info.keyId} (${info.role})`);
      });
    });
}
