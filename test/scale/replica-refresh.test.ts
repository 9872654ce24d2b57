/**
 * What the replica's refresher reloads, and when (docs/SCALE.md, section 4): a real snapshot file
 * replaced by rename, the registry's active pointers moved per kind, and predictors that count
 * their reloads. The ETA model is reloaded (emptying its caches) only on its own pointer or a new
 * snapshot; the returns model likewise on its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EtaPredictor } from '../../src/domain/eta.js';
import type { ModelKind, ModelStore } from '../../src/domain/models.js';
import type { ReturnsPredictor } from '../../src/domain/returns.js';
import { silentLogger } from '../../src/log.js';
import { createReplicaRefresher, type ReplicaRefresher } from '../../src/replica/replica-refresh.js';
import type { SwappableWarehouse } from '../../src/warehouse/swappable-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

let dir: string;
let file: string;
let refresher: ReplicaRefresher;
const active: Partial<Record<ModelKind, string>> = {};
const reloads = { eta: 0, returns: 0, swaps: 0 };

/** A predictor of `kind` whose active version is the registry's as of its last reload. */
function countingPredictor(kind: 'eta' | 'returns') {
  let version = active[kind];
  return {
    activeVersion: () => version,
    async reload() {
      reloads[kind]++;
      version = active[kind];
    },
  };
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-refresh-'));
  file = path.join(dir, 'snapshot.duckdb');
  fs.writeFileSync(file, 'v1');
  Object.assign(active, { eta: 'eta-1', returns: 'returns-1' });
  Object.assign(reloads, { eta: 0, returns: 0, swaps: 0 });
  const eta = countingPredictor('eta') as unknown as EtaPredictor;
  const returns = countingPredictor('returns') as unknown as ReturnsPredictor;
  const models = { activeVersion: async (kind: ModelKind) => active[kind] } as unknown as ModelStore;
  const warehouse = { swap: async () => void reloads.swaps++ } as unknown as SwappableWarehouse;
  refresher = await createReplicaRefresher({
    warehouse, file, open: async () => ({}) as Warehouse, models, predictor: () => eta, returnsPredictor: returns, log: silentLogger(), pollSeconds: 0,
  });
});
afterEach(async () => {
  await refresher.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Publishes a new snapshot the way the writer does: a fresh file renamed over the old one. */
function publish(content: string) {
  fs.writeFileSync(`${file}.tmp`, content);
  fs.renameSync(`${file}.tmp`, file);
}

describe('the replica refresher', () => {
  it('does nothing while nothing changed', async () => {
    expect(await refresher.check()).toBeUndefined();
    expect(reloads).toEqual({ eta: 0, returns: 0, swaps: 0 });
  });

  it('reloads the returns model alone when its active pointer moves', async () => {
    active.returns = 'returns-2';
    expect(await refresher.check()).toEqual({ reopened: false, etaVersion: 'eta-1', returnsVersion: 'returns-2' });
    expect(reloads).toEqual({ eta: 0, returns: 1, swaps: 0 });
    expect(await refresher.check()).toBeUndefined();
  });

  it('reloads the ETA model alone when its pointer moves', async () => {
    active.eta = 'eta-2';
    expect(await refresher.check()).toMatchObject({ reopened: false, etaVersion: 'eta-2' });
    expect(reloads).toEqual({ eta: 1, returns: 0, swaps: 0 });
  });

  it('reopens a new snapshot and reloads both; SIGHUP (refresh) does so unconditionally', async () => {
    publish('v2');
    expect(await refresher.check()).toEqual({ reopened: true, etaVersion: 'eta-1', returnsVersion: 'returns-1' });
    expect(reloads).toEqual({ eta: 1, returns: 1, swaps: 1 });
    expect(await refresher.refresh()).toEqual({ reopened: true, etaVersion: 'eta-1', returnsVersion: 'returns-1' });
    expect(reloads).toEqual({ eta: 2, returns: 2, swaps: 2 });
  });
});
