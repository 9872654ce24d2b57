/**
 * How an API replica follows the writer (docs/SCALE.md, section 4): it reopens its snapshot file
 * when a new one is published (the writer renames a fresh file over it, so the inode changes) and
 * reloads the ETA and returns models when the registry's `active` pointer of their kind moves, or
 * the snapshot changed. All are checked every `pollSeconds`; `refresh()` (SIGHUP) does everything at
 * once unconditionally.
 */
import fs from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EtaPredictor } from '../domain/eta.js';
import type { ModelStore } from '../domain/models.js';
import type { ReturnsPredictor } from '../domain/returns.js';
import type { Logger } from '../log.js';
import type { SwappableWarehouse } from '../warehouse/swappable-warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface RefreshOutcome {
  /** The snapshot was reopened. */
  reopened: boolean;
  /** The active ETA version after the refresh. */
  etaVersion?: string;
  /** The active returns version after the refresh. */
  returnsVersion?: string;
}

export interface ReplicaRefresher {
  /** Reopens the snapshot and reloads the models now (SIGHUP). */
  refresh(): Promise<RefreshOutcome>;
  /** Refreshes only what changed since the last look; undefined when nothing did. */
  check(): Promise<RefreshOutcome | undefined>;
  stop(): Promise<void>;
}

export interface ReplicaRefreshDeps {
  warehouse: SwappableWarehouse;
  /** The published snapshot file the replica serves. */
  file: string;
  open: (file: string) => Promise<Warehouse>;
  models: ModelStore;
  /** The predictor the API serves through (its reload also empties the prediction cache). */
  predictor: () => EtaPredictor | undefined;
  /** The predictor `returnRisk` serves through. */
  returnsPredictor?: ReturnsPredictor;
  log: Logger;
  pollSeconds: number;
  onRefreshed?: (o: RefreshOutcome & { fileMtimeMs: number }) => void;
}

async function fileIdentity(file: string): Promise<{ id: string; mtimeMs: number }> {
  const s = await fs.stat(file);
  return { id: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`, mtimeMs: s.mtimeMs };
}

export async function createReplicaRefresher(deps: ReplicaRefreshDeps): Promise<ReplicaRefresher> {
  const { log } = deps;
  let data = await fileIdentity(deps.file);
  const activeVersions = async () => ({ eta: await deps.models.activeVersion('eta'), returns: await deps.models.activeVersion('returns') });
  let model = await activeVersions();
  // A snapshot that failed to open is not retried on every poll, only when it changes again.
  let failed: string | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  async function apply(force: boolean): Promise<RefreshOutcome | undefined> {
    const seen = await fileIdentity(deps.file);
    const active = await activeVersions();
    const dataChanged = force || (seen.id !== data.id && seen.id !== failed);
    const etaMoved = active.eta !== model.eta;
    const returnsMoved = active.returns !== model.returns;
    if (!dataChanged && !etaMoved && !returnsMoved) return undefined;
    let reopened = false;
    if (dataChanged) {
      try {
        await deps.warehouse.swap(await deps.open(deps.file));
        data = seen;
        failed = undefined;
        reopened = true;
      } catch (err) {
        failed = seen.id;
        log.error({ err, file: deps.file }, 'replica: the new snapshot could not be opened; still serving the previous one');
        if (force) throw err;
      }
    }
    // After a reopen too: cached predictions and the online calibration were computed on the old data.
    if (dataChanged || etaMoved) await deps.predictor()?.reload();
    if (dataChanged || returnsMoved) await deps.returnsPredictor?.reload();
    model = active;
    const outcome = { reopened, etaVersion: deps.predictor()?.activeVersion(), returnsVersion: deps.returnsPredictor?.activeVersion() };
    log.info({ ...outcome, file: deps.file }, 'replica refreshed');
    deps.onRefreshed?.({ ...outcome, fileMtimeMs: data.mtimeMs });
    return outcome;
  }

  const check = () =>
    serialized(() => apply(false)).catch((err: unknown) => {
      log.error({ err }, 'replica: refresh check failed');
      return undefined;
    });
  const timer = deps.pollSeconds > 0 ? setInterval(() => void check(), deps.pollSeconds * 1000) : undefined;
  timer?.unref();
  deps.onRefreshed?.({ reopened: false, etaVersion: deps.predictor()?.activeVersion(), returnsVersion: deps.returnsPredictor?.activeVersion(), fileMtimeMs: data.mtimeMs });

  return {
    refresh: async () => (await serialized(() => apply(true)))!,
    check,
    async stop() {
      if (timer) clearInterval(timer);
      await chain;
    },
  };
}

/** `onRefreshed` that keeps the replica's Prometheus figures: refreshes, and the served snapshot's age. */
export function replicaMetrics(registry: Registry): NonNullable<ReplicaRefreshDeps['onRefreshed']> {
  const refreshes = new Counter({ name: 'shipcast_replica_refreshes_total', help: 'Replica refreshes, by whether the snapshot was reopened', labelNames: ['reopened'], registers: [registry] });
  const mtime = new Gauge({ name: 'shipcast_replica_snapshot_mtime_seconds', help: 'Modification time of the snapshot file the replica serves (unix seconds)', registers: [registry] });
  let first = true;
  return (o) => {
    mtime.set(o.fileMtimeMs / 1000);
    if (!first) refreshes.inc({ reopened: String(o.reopened) });
    first = false;
  };
}
