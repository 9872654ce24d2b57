/**
 * Publishing a read-only snapshot of the warehouse for API replicas (docs/SCALE.md, section 4).
 * DuckDB lets one process write a file or many open it read-only, never both, so replicas read a
 * copy. Right after a CHECKPOINT, with writes held back, the file holds every commit and nothing
 * changes it: it is copied then (a reflink where the file system has them) to a temp file beside
 * the target, checked, and renamed over the published one. A replica that still has the old file
 * open keeps reading it (the rename leaves its inode alone) until it reopens.
 */

/**
 * Copies in a child process. POSIX record locks belong to a process and closing *any* descriptor
 * of a file drops them all: reading the warehouse file here would silently release DuckDB's
 * write lock, and a second writer could then open it.
 */
async function copyOutOfProcess(source: string, target: string): Promise<void> {
  const script = "require('node:fs').copyFileSync(process.argv[1], process.argv[2], require('node:fs').constants.COPYFILE_FICLONE)";
  await promisify(execFile)(process.execPath, ['-e', script, source, target]);
}
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Warehouse } from './warehouse.js';
import { openWarehouse } from './duckdb-warehouse.js';
import { ShipcastError } from '../errors.js';

export interface SnapshotResult {
  file: string;
  bytes: number;
  /** Whole publication, copy and check included. */
  seconds: number;
  /** How long writes were held back (checkpoint + copy). */
  writesHeldSeconds: number;
}

/**
 * Writes a consistent copy of the file warehouse `wh` to `out` atomically (temp file + rename).
 * Works on a warehouse the caller keeps using: other writes wait only for the checkpoint and the
 * copy. Refuses (CONFLICT) while a bulk write has its indexes dropped, so a snapshot never lacks a key.
 */
export async function publishSnapshot(wh: Warehouse, out: string): Promise<SnapshotResult> {
  const file = path.resolve(out);
  if (wh.path === ':memory:') throw new ShipcastError('BAD_INPUT', 'db: an in-memory warehouse has no file to publish', { field: 'db' });
  const source = path.resolve(wh.path);
  if (source === file) throw new ShipcastError('BAD_INPUT', `out: ${out} is the warehouse itself; publish the snapshot to another file`, { field: 'out' });
  const t0 = performance.now();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  let held = 0;
  try {
    await wh.checkpoint(async () => {
      const h0 = performance.now();
      // Reads are not held back by the checkpoint's lock, and nothing can write while it is held.
      const deferred = await wh.one<{ n: number }>('SELECT count(*) AS n FROM deferred_indexes');
      if (deferred?.n) throw new ShipcastError('CONFLICT', `a bulk write has ${deferred.n} index(es) dropped right now; publish the snapshot once it finishes`);
      const wal = `${source}.wal`;
      if (fs.existsSync(wal) && fs.statSync(wal).size > 0) throw new ShipcastError('CONFLICT', 'the checkpoint left a write-ahead log behind; publish again');
      await copyOutOfProcess(source, tmp);
      held = (performance.now() - h0) / 1000;
    });
    // Opening it as a replica would (read-only, schema checked) before anyone can.
    await (await openWarehouse(tmp, { readOnly: true })).close();
    fs.renameSync(tmp, file);
  } finally {
    for (const f of [tmp, `${tmp}.wal`]) fs.rmSync(f, { force: true });
  }
  return { file, bytes: fs.statSync(file).size, seconds: (performance.now() - t0) / 1000, writesHeldSeconds: held };
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
  const round = (p: Promise<SnapshotResult>) =>
    p
      .then((r) => {
        log.info({ file: r.file, bytes: r.bytes, seconds: Number(r.seconds.toFixed(3)), writesHeldSeconds: Number(r.writesHeldSeconds.toFixed(3)) }, 'snapshot published');
        return r;
      })
      .catch((err: unknown) => {
        log.error({ err, file: out }, 'snapshot not published; the next round tries again');
        return undefined;
      })
      .finally(() => (running = undefined));
  const publishNow = () => (running ??= round(publishSnapshot(wh, out)));
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
