/**
 * Publishing a read-only snapshot of the warehouse for API replicas (docs/SCALE.md, section 4).
 * DuckDB lets one process write a file or many open it read-only, never both, so replicas read a
 * copy: `COPY FROM DATABASE` writes the whole catalog (tables, keys, sequences, views) as of one
 * transaction into a fresh file, which is then renamed over the published one. A replica that
 * still has the old file open keeps reading it (the rename leaves its inode alone) until it reopens.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Warehouse } from './warehouse.js';
import { ShipcastError } from '../errors.js';

export interface SnapshotResult {
  file: string;
  bytes: number;
  seconds: number;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ALIAS = 'shipcast_snapshot';

/**
 * Writes a consistent copy of `wh` to `out` atomically (temp file in the same folder + rename).
 * Works on a warehouse the caller keeps using: other writes wait only for the copy. Refuses
 * (CONFLICT) while a bulk write has its indexes dropped, so a snapshot never lacks a key.
 */
export async function publishSnapshot(wh: Warehouse, out: string): Promise<SnapshotResult> {
  const file = path.resolve(out);
  if (wh.path !== ':memory:' && path.resolve(wh.path) === file) {
    throw new ShipcastError('BAD_INPUT', `out: ${out} is the warehouse itself; publish the snapshot to another file`, { field: 'out' });
  }
  const t0 = performance.now();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const cleanup = () => {
    for (const f of [tmp, `${tmp}.wal`]) fs.rmSync(f, { force: true });
  };
  const db = (await wh.one<{ db: string }>('SELECT current_database() AS db'))!.db;
  await wh.run(`ATTACH ${quoteLiteral(tmp)} AS ${ALIAS}`);
  try {
    await wh.run(`COPY FROM DATABASE ${quoteIdent(db)} TO ${ALIAS}`);
    const deferred = await wh.one<{ n: number }>(`SELECT count(*) AS n FROM ${ALIAS}.deferred_indexes`);
    if (deferred?.n) {
      throw new ShipcastError('CONFLICT', `a bulk write has ${deferred.n} index(es) dropped right now; publish the snapshot once it finishes`);
    }
  } catch (e) {
    await wh.run(`DETACH ${ALIAS}`).catch(() => undefined);
    cleanup();
    throw e;
  }
  await wh.run(`DETACH ${ALIAS}`);
  fs.renameSync(tmp, file);
  cleanup();
  return { file, bytes: fs.statSync(file).size, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The writer's periodic publisher: once now, then every `everySeconds`. A failed round is logged
 * and the next one tries again; `stop` waits for a round in progress.
 */
export function startSnapshotPublisher(
  wh: Warehouse,
  out: string,
  everySeconds: number,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
): { publishNow(): Promise<SnapshotResult | undefined>; stop(): Promise<void> } {
  let running: Promise<SnapshotResult | undefined> | undefined;
  const publishNow = () =>
    (running ??= publishSnapshot(wh, out)
      .then((r) => {
        log.info({ file: r.file, bytes: r.bytes, seconds: Number(r.seconds.toFixed(3)) }, 'snapshot published');
        return r;
      })
      .catch((err: unknown) => {
        log.error({ err, file: out }, 'snapshot not published; the next round tries again');
        return undefined;
      })
      .finally(() => (running = undefined)));
  const timer = setInterval(() => void publishNow(), everySeconds * 1000);
  timer.unref();
  void publishNow();
  return {
    publishNow,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
