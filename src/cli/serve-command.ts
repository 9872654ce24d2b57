import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createApp } from '../app.js';
import { listen } from '../http/router.js';
import { runUntilSignal, type CliRuntime } from './runtime.js';

export interface ServeOptions {
  db?: string;
  port?: string;
  host?: string;
}

/**
 * Starts the HTTP service and resolves once it is listening; the returned `stop` closes the
 * socket, then the app (workers, warehouse). SIGINT/SIGTERM call it.
 */
export async function serve(rt: CliRuntime, opts: ServeOptions): Promise<{ url: string; stop: () => Promise<void> }> {
  const config = loadConfig(rt.env, { db: opts.db, host: opts.host, port: opts.port === undefined ? undefined : Number(opts.port) });
  const app = await createApp(config, { log: rt.log });
  const server = await listen(app.handler, { host: config.http.host, port: config.http.port });
  rt.log.info({ url: server.url, db: config.dbPath }, 'shipcast listening');
  rt.out(`shipcast listening on ${server.url} (GraphQL at ${server.url}/graphql)`);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      await app.close();
    })());
  return { url: server.url, stop };
}

export function registerServeCommand(program: Command, rt: CliRuntime): void {
  program
    .command('serve')
    .description('serve the GraphQL API, webhooks, /healthz, /readyz and /metrics')
    .option('--db <file>', 'DuckDB file')
    .option('--port <port>', 'port (default 4000)')
    .option('--host <host>', 'host (default 127.0.0.1)')
    .action(async (opts: ServeOptions) => {
      const { stop } = await serve(rt, opts);
      await runUntilSignal(rt, stop);
    });
}
