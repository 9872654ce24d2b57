/**
 * Evaluation metrics for delivery windows. Pure functions over arrays of days since purchase.
 */
import { median, quantileSorted } from 'simple-statistics';

export interface WindowMetrics {
  n: number;
  /** Mean absolute error of P50, days. */
  mae: number;
  /** Median absolute error of P50, days. */
  medianAe: number;
  /** Mean pinball loss over P10/P50/P90 (NaN for point baselines). */
  pinball: number;
  /** Share of actuals inside [P10, P90]. */
  coverage: number;
  /** Mean P90 − P10, days. */
  meanWidth: number;
  /** Share of actuals later than P90, i.e. late if P90 were the promise. */
  lateRate: number;
}

/** A window per row: P10, P50, P90 in days (P10/P90 may be NaN for point forecasts). */
export interface Windows {
  p10: ArrayLike<number>;
  p50: ArrayLike<number>;
  p90: ArrayLike<number>;
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** Pinball loss of a single quantile prediction. */
export function pinball(y: number, q: number, tau: number): number {
  const d = y - q;
  return Math.max(tau * d, (tau - 1) * d);
}

/** All window metrics for actuals `y` (days). */
export function windowMetrics(w: Windows, y: ArrayLike<number>): WindowMetrics {
  const n = y.length;
  if (n === 0) return { n: 0, mae: NaN, medianAe: NaN, pinball: NaN, coverage: NaN, meanWidth: NaN, lateRate: NaN };
  const abs: number[] = [];
  let pin = 0;
  let covered = 0;
  let width = 0;
  let late = 0;
  for (let i = 0; i < n; i++) {
    abs.push(Math.abs(y[i] - w.p50[i]));
    pin += (pinball(y[i], w.p10[i], 0.1) + pinball(y[i], w.p50[i], 0.5) + pinball(y[i], w.p90[i], 0.9)) / 3;
    if (y[i] >= w.p10[i] && y[i] <= w.p90[i]) covered++;
    width += w.p90[i] - w.p10[i];
    if (y[i] > w.p90[i]) late++;
  }
  return {
    n,
    mae: round(abs.reduce((a, b) => a + b, 0) / n),
    medianAe: round(median(abs)),
    pinball: round(pin / n),
    coverage: round(covered / n),
    meanWidth: round(width / n),
    lateRate: round(late / n),
  };
}

/**
 * The per-group empirical quantiles of a training set, used as the "lane median" baseline:
 * P10/P50/P90 of the group's history, falling back to the overall quantiles for unseen groups.
 */
export function groupQuantileBaseline(trainKeys: readonly string[], trainY: readonly number[], minCount = 1): (key: string) => [number, number, number] {
  const groups = new Map<string, number[]>();
  trainKeys.forEach((k, i) => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(trainY[i]);
  });
  const qs = (xs: number[]): [number, number, number] => {
    const s = [...xs].sort((a, b) => a - b);
    return [quantileSorted(s, 0.1), quantileSorted(s, 0.5), quantileSorted(s, 0.9)];
  };
  const overall = qs([...trainY]);
  const table = new Map<string, [number, number, number]>();
  for (const [k, v] of groups) if (v.length >= minCount) table.set(k, qs(v));
  return (key) => table.get(key) ?? overall;
}
