import type { Config, ConfigOverrides } from '../config.js';
import { loadConfig } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { openWarehouse, type OpenOptions } from '../warehouse/duckdb-warehouse.js';

/** What a CLI command gets: its I/O and a way to open the warehouse. Tests build one in-process. */
export interface CliRuntime {
  env: Record<string, string | undefined>;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr (progress, warnings). */
  err(line: string): void;
  /** True when stderr is a terminal, so progress bars may redraw. */
  interactive: boolean;
  log: Logger;
}

export interface CommandContext {
  config: Config;
  log: Logger;
  warehouse: Warehouse;
}

/**
 * Parses config with the command's overrides, opens the warehouse, runs `fn`, always closes it.
 * `open` is passed to `openWarehouse` (e.g. `trackProgress` for a command that shows it).
 */
export async function withWarehouse<T>(
  rt: CliRuntime,
  overrides: ConfigOverrides,
  fn: (ctx: CommandContext) => Promise<T>,
  open: OpenOptions = {},
): Promise<T> {
  const config = loadConfig(rt.env, overrides);
  const warehouse = await openWarehouse(config.dbPath, open);
  try {
    return await fn({ config, log: rt.log, warehouse });
  } finally {
    await warehouse.close();
  }
}

/**
 * The runtime of the real process. When whatever reads stdout goes away (`shipcast status | head`),
 * the rest of the output is dropped and the command finishes normally, as Unix tools do, instead
 * of dying on EPIPE.
 */
export function processRuntime(env: Record<string, string | undefined> = process.env): CliRuntime {
  let readerGone = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    readerGone = true;
  });
  return {
    env,
    out: (line) => {
      if (!readerGone) process.stdout.write(`${line}\n`);
    },
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stderr.isTTY),
    log: createLogger({ level: env.SHIPCAST_LOG_LEVEL ?? 'info', destination: process.stderr }),
  };
}

/** A runtime that captures output; for tests. */
export function captureRuntime(env: Record<string, string | undefined> = {}): CliRuntime & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env,
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    interactive: false,
    log: createLogger({ level: 'silent' }),
  };
}

/** Resolves once SIGINT or SIGTERM has arrived and `stop` has finished: graceful shutdown for long-running commands. */
export function runUntilSignal(rt: CliRuntime, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = () => {
      rt.log.info('shutting down');
      void stop().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
