/**
 * Adaptive conformal inference (Gibbs & Candès, 2021) for the at-purchase window, with delayed
 * feedback: after training, every shipment purchased since the training cutoff gets its window
 * from the current per-tail miss levels, and each outcome nudges its tail's level once it is
 * known. Split-conformal adjustments fitted on the validation slice assume the next months look
 * like the last weeks of training; when deliveries speed up or slow down they do not (Olist 2018:
 * windows fitted in the late-delivery wave covered 82 % at 12.4 d when deliveries sped up), and
 * these online updates pull each tail back towards missing its share.
 *
 * A tail's outcome is known at the earliest moment it can be: a parcel delivered before its P10 is
 * a lower miss at delivery, one not delivered by its P10 is a lower hit at the P10 time; one not
 * delivered by its P90 is an upper miss at the P90 time (no need to wait for the delivery), one
 * delivered in time is an upper hit at delivery. Everything is point in time: the level used for
 * a purchase at t moves only with outcomes known at t.
 */
import { quantileSorted } from 'simple-statistics';
import { MIN_WIDTH_DAYS, type TailAdjustment } from './calibration.js';

/** What the online updates need, saved with the model (`calibration.adaptive`). */
export interface AdaptiveCalibration {
  /** Step size of the level updates, per resolved outcome: `DEFAULT_ACI_RATE` / validation rows. */
  gamma: number;
  /** Training cutoff (ISO): shipments purchased from then on feed the updates. */
  since: string;
  /** Validation tail scores at purchase, sorted: (P10 − y)/w and (y − P90)/w. */
  lower: number[];
  upper: number[];
  /** Validation rows the scores come from (the arrays may be a quantile summary of them). */
  n: number;
}

/**
 * The step per outcome is this rate divided by the validation rows. Outcomes arrive days after
 * their purchase, so many are in flight at once; a fixed step per outcome would make the levels
 * oscillate on a large warehouse (step × outcomes in flight ≫ 1). The validation slice grows with
 * the daily volume, as the outcomes in flight do, so this keeps their product near 0.5–0.75.
 * Chosen on pseudo-tests inside the Olist training period (docs/ETA.md, Calibration): 1 with a
 * single network, 1.5 when the grid was rerun for the five-network ensemble.
 */
export const DEFAULT_ACI_RATE = 1.5;

/** Most score points saved per tail; larger validation sets are summarized by evenly spaced quantiles. */
export const MAX_SCORE_POINTS = 2000;

/** Per-tail miss levels (each tail aims to miss (1 − coverage)/2 of the time). */
export interface AciLevels {
  lower: number;
  upper: number;
  /** Outcomes applied so far. */
  updates: number;
}

/** One at-purchase prediction in the stream: raw (uncalibrated) days since purchase. */
export interface AciStreamRow {
  purchasedAt: number;
  /** Epoch ms, or NaN while undelivered. */
  deliveredAt: number;
  p10: number;
  p50: number;
  p90: number;
}

const DAY_MS = 86_400_000;

/** Sorted scores, or `MAX_SCORE_POINTS` evenly spaced quantiles of them. */
export function summarizeScores(sorted: readonly number[]): number[] {
  if (sorted.length <= MAX_SCORE_POINTS) return [...sorted];
  return Array.from({ length: MAX_SCORE_POINTS }, (_, k) => quantileSorted(sorted as number[], k / (MAX_SCORE_POINTS - 1)));
}

/**
 * The adjustment for miss levels `levels`: each tail's finite-sample conformal quantile at
 * (1 − level)·(1 + 1/n), the same rule as `fitTailAdjustment`, so the nominal level reproduces
 * the split-conformal adjustment exactly. Levels are kept inside [1/(n+1), 0.5], so the window
 * stays finite (ACI's unbounded form turns it infinite after a run of misses).
 */
export function adjustmentAt(a: AdaptiveCalibration, levels: AciLevels): TailAdjustment {
  const at = (scores: number[], level: number) => {
    const l = Math.min(1, (1 - level) * (1 + 1 / a.n));
    return quantileSorted(scores, l);
  };
  return { lower: at(a.lower, levels.lower), upper: at(a.upper, levels.upper), n: a.n };
}

/** The window [P10, P50, P90] in days for a raw prediction under an adjustment (as `applyCalibration` at purchase). */
function window(r: AciStreamRow, adj: TailAdjustment): [number, number, number] {
  const w = Math.max(MIN_WIDTH_DAYS, r.p90 - r.p10);
  return [Math.max(0, Math.min(r.p50, r.p10 - adj.lower * w)), r.p50, Math.max(r.p50, r.p90 + adj.upper * w)];
}

interface Outcome {
  time: number;
  tail: 0 | 1;
  miss: boolean;
}

/** A binary min-heap of outcomes by time (ties: insertion order is irrelevant, updates commute within a time). */
class OutcomeHeap {
  private readonly items: Outcome[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Outcome | undefined {
    return this.items[0];
  }
  push(o: Outcome): void {
    const h = this.items;
    h.push(o);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].time <= h[i].time) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  pop(): Outcome | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].time < h[m].time) m = l;
        if (r < h.length && h[r].time < h[m].time) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Replays the stream in purchase order (ties keep the input order) and returns each row's
 * calibrated window (row-major [n,3], days since purchase, in input order) and the levels at
 * `until` (after every outcome known by then). Rows purchased after `until` are not replayed and
 * keep a zero window. `coverage` is the nominal P10–P90 coverage.
 */
export function replayAdaptive(
  a: AdaptiveCalibration,
  coverage: number,
  rows: readonly AciStreamRow[],
  until = Infinity,
): { windows: Float32Array; levels: AciLevels } {
  const target = (1 - coverage) / 2;
  const lo = 1 / (a.n + 1);
  const clamp = (x: number) => Math.min(0.5, Math.max(lo, x));
  const levels: AciLevels = { lower: target, upper: target, updates: 0 };
  const pending = new OutcomeHeap();
  const apply = (t: number) => {
    for (let o = pending.peek(); o !== undefined && o.time <= t; o = pending.peek()) {
      pending.pop();
      const step = a.gamma * (target - (o.miss ? 1 : 0));
      if (o.tail === 0) levels.lower = clamp(levels.lower + step);
      else levels.upper = clamp(levels.upper + step);
      levels.updates++;
    }
  };
  const order = Array.from(rows.keys()).sort((i, j) => rows[i].purchasedAt - rows[j].purchasedAt || i - j);
  const windows = new Float32Array(rows.length * 3);
  for (const i of order) {
    const r = rows[i];
    if (r.purchasedAt > until) break;
    apply(r.purchasedAt);
    const [p10, p50, p90] = window(r, adjustmentAt(a, levels));
    windows.set([p10, p50, p90], i * 3);
    const at10 = r.purchasedAt + p10 * DAY_MS;
    const at90 = r.purchasedAt + p90 * DAY_MS;
    const d = Number.isNaN(r.deliveredAt) ? Infinity : r.deliveredAt;
    pending.push(d < at10 ? { time: d, tail: 0, miss: true } : { time: at10, tail: 0, miss: false });
    pending.push(d > at90 ? { time: at90, tail: 1, miss: true } : { time: d, tail: 1, miss: false });
  }
  if (until !== Infinity) apply(until);
  return { windows, levels };
}
