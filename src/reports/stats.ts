/** Small pure helpers for report figures: safe ratios, rounding and correlations. */
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';

/** `num / den`, or null when the denominator is zero (a rate over nothing is unknown, not 0). */
export function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/** Rounds to `digits` decimals, keeping null. */
export function round(v: number | null | undefined, digits = 4): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  // + 0 turns -0 into 0, so a tiny negative never prints as "-$0.00".
  return Math.round(v * f) / f + 0;
}

/** Money to cents. */
export function cents(v: number | null | undefined): number {
  return round(v ?? 0, 2) ?? 0;
}

export interface Correlation {
  n: number;
  pearson: number | null;
  spearman: number | null;
}

/** Pearson and Spearman correlation of paired samples; null when undefined (n < 3 or no variance). */
export function correlate(x: readonly number[], y: readonly number[]): Correlation {
  if (x.length !== y.length) throw new RangeError(`paired samples differ in length (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 3) return { n, pearson: null, spearman: null };
  const safe = (f: () => number): number | null => {
    const v = f();
    return Number.isFinite(v) ? round(v, 4) : null;
  };
  return { n, pearson: safe(() => sampleCorrelation([...x], [...y])), spearman: safe(() => sampleRankCorrelation([...x], [...y])) };
}
