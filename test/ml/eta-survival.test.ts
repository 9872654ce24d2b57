import { describe, expect, it } from 'vitest';
import { conditionOnUndelivered } from '../../src/ml/eta/survival.js';

const H = 3_600_000;

describe('conditionOnUndelivered', () => {
  it('leaves a window that starts in the future alone', () => {
    expect(conditionOnUndelivered([10 * H, 20 * H, 40 * H], 5 * H)).toEqual([10 * H, 20 * H, 40 * H]);
  });

  it('moves the window inside (now, …) and keeps it ordered when part of it has passed', () => {
    const [p10, p50, p90] = conditionOnUndelivered([10 * H, 20 * H, 40 * H], 15 * H);
    expect(p10).toBeGreaterThanOrEqual(15 * H);
    expect(p10).toBeLessThan(p50);
    expect(p50).toBeLessThan(p90);
    // Half of the mass below P50 is gone: the conditional median sits above the unconditional one.
    expect(p50).toBeGreaterThan(20 * H);
    expect(p90).toBeGreaterThan(40 * H);
  });

  it('keeps a non-zero window for an overdue parcel, starting now', () => {
    const now = 60 * H;
    const [p10, p50, p90] = conditionOnUndelivered([10 * H, 20 * H, 40 * H], now);
    expect(p10).toBe(now);
    expect(p90 - p10).toBeGreaterThanOrEqual(0.5 * 30 * H - 1);
    expect(p50).toBeGreaterThan(p10);
  });
});
