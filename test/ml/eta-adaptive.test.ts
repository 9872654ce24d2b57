/**
 * The online (adaptive conformal) updates of the at-purchase tails, on hand-made streams: they
 * start from the split-conformal adjustment, move only with outcomes known at each purchase, treat
 * a parcel not delivered by its P90 as a miss at that moment, stay finite, and pull coverage back
 * towards nominal when the deliveries drift away from the validation slice.
 */
import { describe, expect, it } from 'vitest';
import { adjustmentAt, replayAdaptive, summarizeScores, MAX_SCORE_POINTS, type AciStreamRow, type AdaptiveCalibration } from '../../src/ml/eta/adaptive-calibration.js';
import { fitTailAdjustment, tailScores } from '../../src/ml/eta/calibration.js';
import { seededRandom } from '../../src/ml/eta/train.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Raw windows 4..6..8 days; actual days ~ N(6 + shift, sd). */
function stream(n: number, rand: () => number, opts: { shift?: (k: number) => number; sd?: number; perDay?: number } = {}): AciStreamRow[] {
  const rows: AciStreamRow[] = [];
  for (let k = 0; k < n; k++) {
    const purchasedAt = T0 + (k / (opts.perDay ?? 50)) * DAY;
    const y = Math.max(0.2, 6 + (opts.shift?.(k) ?? 0) + (opts.sd ?? 1.56) * gaussian(rand));
    rows.push({ purchasedAt, deliveredAt: purchasedAt + y * DAY, p10: 4, p50: 6, p90: 8 });
  }
  return rows;
}

/** Settings fitted on a validation slice drawn like `stream` without shift. */
function settings(gamma: number, seed = 1): { a: AdaptiveCalibration; fitted: ReturnType<typeof fitTailAdjustment> } {
  const val = stream(1500, seededRandom(seed));
  const pred = val.flatMap((r) => [r.p10, r.p50, r.p90]);
  const y = val.map((r) => (r.deliveredAt - r.purchasedAt) / DAY);
  const { lower, upper } = tailScores(pred, y);
  return { a: { gamma, since: new Date(T0).toISOString(), lower, upper, n: y.length }, fitted: fitTailAdjustment(pred, y, 0.8) };
}

function coverage(rows: readonly AciStreamRow[], windows: Float32Array, from = 0): number {
  let hit = 0;
  for (let i = from; i < rows.length; i++) {
    const y = (rows[i].deliveredAt - rows[i].purchasedAt) / DAY;
    if (y >= windows[i * 3] && y <= windows[i * 3 + 2]) hit++;
  }
  return hit / (rows.length - from);
}

describe('adaptive conformal updates of the at-purchase tails', () => {
  it('start from exactly the split-conformal adjustment', () => {
    const { a, fitted } = settings(0.001);
    const adj = adjustmentAt(a, { lower: 0.1, upper: 0.1, updates: 0 });
    expect(adj.lower).toBe(fitted.lower);
    expect(adj.upper).toBe(fitted.upper);
    // The first purchase has no outcome yet.
    const { windows } = replayAdaptive(a, 0.8, stream(5, seededRandom(2)));
    expect(windows[0]).toBeCloseTo(4 - fitted.lower * 4, 5);
    expect(windows[2]).toBeCloseTo(8 + fitted.upper * 4, 5);
  });

  it('with gamma 0 never move', () => {
    const { a, fitted } = settings(0);
    const rows = stream(2000, seededRandom(3), { shift: () => 3 });
    const { windows, levels } = replayAdaptive(a, 0.8, rows);
    expect(levels.updates).toBeGreaterThan(0);
    expect(levels.lower).toBe((1 - 0.8) / 2);
    expect(levels.upper).toBe((1 - 0.8) / 2);
    for (let i = 0; i < rows.length; i++) expect(windows[i * 3 + 2]).toBeCloseTo(8 + fitted.upper * 4, 5);
  });

  it('use only outcomes known at each purchase (point in time)', () => {
    const { a } = settings(1 / 1500);
    const rows = stream(3000, seededRandom(4));
    const base = replayAdaptive(a, 0.8, rows).windows;
    // Make every parcel purchased after day 30 arrive 10 days later: windows of purchases before
    // the first of those outcomes can be known must not change.
    const k = 30 * 50;
    const later = rows.map((r, i) => (i >= k ? { ...r, deliveredAt: r.deliveredAt + 10 * DAY } : r));
    const moved = replayAdaptive(a, 0.8, later).windows;
    // The earliest moment a changed outcome differs: the old delivery (a lower miss or upper hit
    // known then) or the P10 time (a lower hit known then), of a purchase from index k on.
    const firstKnown = Math.min(
      ...rows.slice(k).map((r, j) => Math.min(r.deliveredAt, r.purchasedAt + Math.min(base[(k + j) * 3], moved[(k + j) * 3]) * DAY)),
    );
    let compared = 0;
    rows.forEach((r, i) => {
      if (r.purchasedAt < firstKnown) {
        expect(moved.subarray(i * 3, i * 3 + 3)).toEqual(base.subarray(i * 3, i * 3 + 3));
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(k);
    // ... and windows after it do change: the upper tail widens.
    expect(moved[(rows.length - 1) * 3 + 2]).toBeGreaterThan(base[(rows.length - 1) * 3 + 2]);
  });

  it('count a parcel not delivered by its P90 as a miss at that moment, before any delivery', () => {
    const { a } = settings(0.01);
    // One never-delivered parcel, then a purchase long after its P90.
    const rows: AciStreamRow[] = [
      { purchasedAt: T0, deliveredAt: NaN, p10: 4, p50: 6, p90: 8 },
      { purchasedAt: T0 + 30 * DAY, deliveredAt: NaN, p10: 4, p50: 6, p90: 8 },
    ];
    const { levels } = replayAdaptive(a, 0.8, rows, T0 + 30 * DAY);
    // Lower tail: not delivered by P10, a hit; upper tail: a miss. Both known by day 30.
    expect(levels.updates).toBe(2);
    expect(levels.upper).toBeCloseTo(0.1 + 0.01 * (0.1 - 1), 10);
    expect(levels.lower).toBeCloseTo(0.1 + 0.01 * 0.1, 10);
  });

  it('stay near nominal on a stationary stream, with the default rate per validation row', () => {
    const { a, fitted } = settings(1 / 1500);
    const rows = stream(9000, seededRandom(8));
    const { windows, levels } = replayAdaptive(a, 0.8, rows);
    expect(Math.abs(levels.lower - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(levels.upper - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(coverage(rows, windows) - 0.8)).toBeLessThan(0.02);
    // The last window is close to the split-conformal one.
    expect(Math.abs(windows[(rows.length - 1) * 3 + 2] - (8 + fitted.upper * 4))).toBeLessThan(0.5);
  });

  it('stay finite after a long run of misses', () => {
    const { a } = settings(0.05);
    const rows = stream(3000, seededRandom(5), { shift: () => 20 });
    const { windows, levels } = replayAdaptive(a, 0.8, rows);
    expect(levels.upper).toBeCloseTo(1 / (a.n + 1), 10);
    for (const v of windows) expect(Number.isFinite(v)).toBe(true);
    expect(Math.max(...windows)).toBeLessThanOrEqual(8 + a.upper[a.upper.length - 1] * 4 + 1e-4);
  });

  it('pull coverage back towards nominal when deliveries drift', () => {
    const { a } = settings(0.002);
    const off = { ...a, gamma: 0 };
    // Deliveries slow down by 1.5 days a month after the split: fixed windows under-cover.
    const rows = stream(9000, seededRandom(6), { shift: (k) => (k > 1500 ? 1.5 : 0) });
    const fixed = coverage(rows, replayAdaptive(off, 0.8, rows).windows, 4500);
    const adaptive = coverage(rows, replayAdaptive(a, 0.8, rows).windows, 4500);
    expect(fixed).toBeLessThan(0.7);
    expect(Math.abs(adaptive - 0.8)).toBeLessThan(0.05);
    // And when they speed up, fixed windows over-cover and the adaptive ones narrow.
    const fast = stream(9000, seededRandom(7), { shift: (k) => (k > 1500 ? -0.3 : 0), sd: 0.9 });
    const fixedWin = replayAdaptive(off, 0.8, fast).windows;
    const adaptiveWin = replayAdaptive(a, 0.8, fast).windows;
    expect(coverage(fast, fixedWin, 4500)).toBeGreaterThan(0.9);
    expect(Math.abs(coverage(fast, adaptiveWin, 4500) - 0.8)).toBeLessThan(0.05);
    const width = (w: Float32Array) => {
      let s = 0;
      for (let i = 4500; i < fast.length; i++) s += w[i * 3 + 2] - w[i * 3];
      return s / (fast.length - 4500);
    };
    expect(width(adaptiveWin)).toBeLessThan(width(fixedWin) * 0.85);
  });

  it('summarize large score sets into evenly spaced quantiles', () => {
    const big = Array.from({ length: 10_000 }, (_, i) => i / 9999);
    const s = summarizeScores(big);
    expect(s).toHaveLength(MAX_SCORE_POINTS);
    expect(s[0]).toBe(0);
    expect(s.at(-1)).toBe(1);
    expect(summarizeScores([3, 1, 2].sort())).toEqual([1, 2, 3]);
  });
});
