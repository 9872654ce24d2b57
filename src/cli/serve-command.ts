import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createApp, createReplicaApp } from '../app.js';
import { listen } from '../http/router.js';
import { runUntilSignal, type CliRuntime } from './runtime.js';

export interface ServeOptions {
  db?: string;
  port?: string;
  host?: string;
  /** Serve the read API from a read-only snapshot (`--db`), as one of N replicas. */
  replica?: boolean;
  /** Writer: publish a snapshot for replicas to this file, at start and every SHIPCAST_SNAPSHOT_EVERY_SECONDS. */
  snapshot?: string;
}

export interface Serving {
  url: string;
  role: 'writer' | 'replica';
  stop: () => Promise<void>;
  /** Replicas: reopen the snapshot and reload the active model (what SIGHUP does). */
  refresh?: () => Promise<unknown>;
}

/**
 * Starts the HTTP service and resolves once it is listening; the returned `stop` closes the
 * socket, then the app (workers, warehouse). SIGINT/SIGTERM call it.
 */
export async function serve(rt: CliRuntime, opts: ServeOptions): Promise<Serving> {
  const config = loadConfig(rt.env, {
    db: opts.db, host: opts.host, port: opts.port === undefined ? undefined : Number(opts.port),
    role: opts.replica ? 'replica' : undefined, snapshotFile: opts.snapshot,
  });
  const role = config.replication.role;
  const app = role === 'replica' ? await createReplicaApp(config, { log: rt.log }) : await createApp(config, { log: rt.log });
  const server = await listen(app.handler, { host: config.http.host, port: config.http.port });
  rt.log.info({ url: server.url, db: config.dbPath, role }, 'shipcast listening');
  rt.out(
    role === 'replica'
      ? `shipcast replica listening on ${server.url} (read-only over ${config.dbPath}; GraphQL at ${server.url}/graphql)`
      : `shipcast listening on ${server.url} (GraphQL at ${server.url}/graphql)`,
  );
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      await app.close();
    })());
  return { url: server.url, role, stop, refresh: 'refresh' in app ? () => app.refresh() : undefined };
}

export function registerServeCommand(program: Command, rt: CliRuntime): void {
  program
    .command('serve')
    .description('serve the GraphQL API, webhooks, /healthz, /readyz and /metrics')
    .option('--db <file>', 'DuckDB file (a replica: the published snapshot)')
    .option('--port <port>', 'port (default 4000)')
    .option('--host <host>', 'host (default 127.0.0.1)')
    .option('--replica', 'serve the read API read-only from a snapshot, as one of N replicas (SHIPCAST_ROLE=replica); SIGHUP reopens it')
    .option('--snapshot <file>', 'publish a snapshot for replicas to this file, at start and every SHIPCAST_SNAPSHOT_EVERY_SECONDS')
    .action(async (opts: ServeOptions) => {
      const serving = await serve(rt, opts);
      const { refresh } = serving;
      const onHup = () => {
        rt.log.info('SIGHUP: reopening the snapshot');
        refresh?.().catch((err: unknown) => rt.log.error({ err }, 'replica refresh on SIGHUP failed; still serving the previous snapshot'));
      };
      if (refresh) process.on('SIGHUP', onHup);
      try {
        await runUntilSignal(rt, serving.stop);
      } finally {
        process.off('SIGHUP', onHup);
      }
    });
}
