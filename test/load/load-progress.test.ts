import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEntity, type LoadProgress } from '../../src/load/load-entity.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads 600k generated events into a fresh warehouse, collecting every progress report. */
async function loadWithProgress(trackProgress: boolean) {
  const wh = await openWarehouse(':memory:', { trackProgress });
  try {
    const file = path.join(dir, `events-${trackProgress}.csv`);
    await wh.run(
      `COPY (SELECT 'p' AS source, 'e' || range AS event_id, 'T' || (range // 8) AS tracking_number, 'in_transit' AS status,
                    TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(range) AS occurred_at,
                    TIMESTAMPTZ '2024-03-01 00:05:00+00' + to_seconds(range) AS received_at
             FROM range(600000)) TO '${file}' (HEADER)`,
    );
    const events: LoadProgress[] = [];
    const s = await loadEntity(wh, 'tracking_events', file, { onProgress: (p) => events.push(p), progressIntervalMs: 10 });
    return { loaded: s.loaded, events, after: wh.progress() };
  } finally {
    await wh.close();
  }
}

describe('progress of a large load', () => {
  it("reports the file's bytes hashed, then DuckDB's estimate of each running statement", async () => {
    const { loaded, events, after } = await loadWithProgress(true);
    expect(loaded).toBe(600_000);
    const hashing = events.filter((e) => e.phase === 'hashing').map((e) => e.percent);
    expect(hashing[0]).toBe(0);
    expect(hashing.at(-1)).toBe(100);
    const loading = events.filter((e) => e.phase === 'loading' && e.percent !== undefined).map((e) => e.percent as number);
    expect(loading.length).toBeGreaterThan(0);
    expect(loading.every((p) => p >= 0 && p <= 100)).toBe(true);
    expect(Math.max(...loading)).toBeGreaterThan(0);
    expect(events.at(-1)?.phase).toBe('done');
    // Nothing runs any more.
    expect(after).toBeUndefined();
  }, 60_000);

  it('reports no estimate from a warehouse opened without trackProgress', async () => {
    const { loaded, events } = await loadWithProgress(false);
    expect(loaded).toBe(600_000);
    expect(events.filter((e) => e.phase === 'loading' && e.percent !== undefined)).toEqual([]);
  }, 60_000);
});
