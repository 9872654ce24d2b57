import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { readIndexes } from '../../src/warehouse/bulk-indexes.js';
import { generateSample, GENERATED_TABLES, TRUTH_TABLES } from '../../src/synth/generate.js';

describe('generateSample and the deferred indexes', () => {
  it('leaves every index of the generated tables in place, the journal empty, and reports each step', async () => {
    const wh = await openWarehouse(':memory:');
    const tables = [...GENERATED_TABLES, ...TRUTH_TABLES];
    const before = await readIndexes(wh, tables);
    const summary = await generateSample(wh, { seed: 3, shipments: 500, asOf: new Date('2026-11-27T12:00:00Z') });
    expect(await readIndexes(wh, tables)).toEqual(before);
    expect(before.map((i) => i.name)).toEqual(expect.arrayContaining(['tracking_events_pk', 'tracking_events_tn_idx', 'shipments_tracking_number_key']));
    expect(await wh.all('SELECT * FROM deferred_indexes')).toEqual([]);
    expect(Object.keys(summary.stageSeconds)).toEqual(expect.arrayContaining(['prepare_tracking_events', 'tracking_events', 'email', 'commit', 'index']));
    // The generator's keys are unique by construction, so the pre-commit duplicate pass is skipped.
    expect(summary.stageSeconds).not.toHaveProperty('key_check');
    expect(Object.keys(summary.stageCpuSeconds)).toEqual(Object.keys(summary.stageSeconds));
    await wh.close();
  });
});
