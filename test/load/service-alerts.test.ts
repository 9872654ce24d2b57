import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEntity } from '../../src/load/load-entity.js';
import { useWarehouseAndDir, writeCsv } from './helpers.js';

const alert = (id: string, over: Record<string, unknown> = {}) => ({
  alert_id: id, carrier: '', country: 'US', region: 'TX', kind: 'weather',
  announced_at: '2026-01-10T06:00:00Z', starts_at: '2026-01-10T06:00:00Z', ends_at: '2026-01-13T18:00:00Z',
  expected_delay_days: '1.5', source: 'ups', message: 'Winter storm: deliveries to Texas may be delayed', ...over,
});

describe('loading service_alerts', () => {
  const ctx = useWarehouseAndDir();

  it('loads good alerts, rejects bad rows by field, and a re-load adds nothing', async () => {
    const file = writeCsv(path.join(ctx.dir, 'alerts.csv'), [
      alert('a1'),
      // A whole-country customs alert for every carrier, without an estimate of the delay.
      alert('a2', { region: '', country: 'CA', kind: 'customs', expected_delay_days: '', carrier: '' }),
      alert('a3', { carrier: 'fedex', kind: 'network' }),
      alert('b1', { ends_at: '2026-01-09T00:00:00Z' }),
      alert('b2', { expected_delay_days: '-1' }),
      alert('b3', { country: 'USA' }),
      alert('b4', { kind: 'storm' }),
      alert('b5', { starts_at: 'soon' }),
      alert('b6', { announced_at: '' }),
    ]);
    const s = await loadEntity(ctx.wh, 'service_alerts', file);
    expect({ read: s.read, loaded: s.loaded, rejected: s.rejected }).toEqual({ read: 9, loaded: 3, rejected: 6 });
    const rejects = await ctx.wh.all<{ line: number; field: string; reason: string }>(
      "SELECT line, field, reason FROM load_rejects WHERE entity = 'service_alerts' ORDER BY line",
    );
    expect(rejects.map((r) => [r.line, r.field])).toEqual([
      [4, 'ends_at'], [5, 'expected_delay_days'], [6, 'country'], [7, 'kind'], [8, 'starts_at'], [9, 'announced_at'],
    ]);
    expect(rejects[0].reason).toBe('must not be before starts_at');
    expect(rejects[1].reason).toBe('must be >= 0');
    expect(rejects[4].reason).toMatch(/not a valid timestamp/);
    expect(rejects[5].reason).toBe('missing required value');

    const rows = await ctx.wh.all<{ alert_id: string; carrier: string | null; region: string | null; expected_delay_days: number | null; ends_at: Date }>(
      'SELECT alert_id, carrier, region, expected_delay_days, ends_at FROM service_alerts ORDER BY alert_id',
    );
    expect(rows).toEqual([
      { alert_id: 'a1', carrier: null, region: 'TX', expected_delay_days: 1.5, ends_at: new Date('2026-01-13T18:00:00Z') },
      { alert_id: 'a2', carrier: null, region: null, expected_delay_days: null, ends_at: new Date('2026-01-13T18:00:00Z') },
      { alert_id: 'a3', carrier: 'fedex', region: 'TX', expected_delay_days: 1.5, ends_at: new Date('2026-01-13T18:00:00Z') },
    ]);

    const again = await loadEntity(ctx.wh, 'service_alerts', file);
    expect(again.skippedAsDuplicateFile).toEqual([file]);
    expect(again.loaded).toBe(0);
    expect((await ctx.wh.one<{ n: number }>('SELECT count(*) AS n FROM service_alerts'))!.n).toBe(3);
  });

  it('a revised alert (same id, new end) updates the row instead of adding one', async () => {
    const file = writeCsv(path.join(ctx.dir, 'alerts-revised.csv'), [alert('a1', { ends_at: '2026-01-15T18:00:00Z', expected_delay_days: '2.5' })]);
    const s = await loadEntity(ctx.wh, 'service_alerts', file);
    expect({ inserted: s.inserted, updated: s.updated, rejected: s.rejected }).toEqual({ inserted: 0, updated: 1, rejected: 0 });
    const row = await ctx.wh.one<{ ends_at: Date; d: number }>("SELECT ends_at, expected_delay_days AS d FROM service_alerts WHERE alert_id = 'a1'");
    expect(row).toEqual({ ends_at: new Date('2026-01-15T18:00:00Z'), d: 2.5 });
  });
});
