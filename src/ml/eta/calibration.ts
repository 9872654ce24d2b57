/**
 * Split-conformal calibration of the P10–P90 window (conformalized quantile regression, one
 * adjustment per tail) on a time-ordered validation slice the network never trained on.
 */
import { quantileSorted } from 'simple-statistics';
import type { AdaptiveCalibration } from './adaptive-calibration.js';

/**
 * Adjustments relative to the raw window width w = P90 − P10: the window becomes
 * [P10 − lower·w, P90 + upper·w]. Scaling by w keeps confident windows (out for delivery) narrow
 * and widens uncertain ones, instead of adding the same days to all.
 */
export interface TailAdjustment {
  lower: number;
  upper: number;
  /** Validation rows the adjustment was fitted on. */
  n: number;
}

export interface EtaCalibration {
  /** Nominal coverage of the calibrated window. */
  coverage: number;
  atPurchase: TailAdjustment;
  /** Pooled over every in-flight status. */
  inFlight: TailAdjustment;
  /** Per latest-event status, for statuses with enough validation rows; others use `inFlight`. */
  byStage?: Record<string, TailAdjustment>;
  /**
   * Online updates of the at-purchase tails from outcomes after training (adaptive-calibration.ts).
   * Absent in models saved before it; then `atPurchase` is used as is.
   */
  adaptive?: AdaptiveCalibration;
}

/** Validation rows a status needs for its own adjustment. */
export const MIN_STAGE_ROWS = 200;

/** The adjustment for a prediction made at `stage` (`none` = at purchase). */
export function adjustmentFor(cal: EtaCalibration, stage: string): TailAdjustment {
  if (stage === 'none') return cal.atPurchase;
  return cal.byStage?.[stage] ?? cal.inFlight;
}

/** Floor on the width used for scaling, so near-zero windows still get a sensible adjustment. */
export const MIN_WIDTH_DAYS = 0.05;

/**
 * Fits one tail adjustment so each tail misses with probability (1 − coverage)/2: the finite-sample
 * conformal quantile of the signed, width-scaled tail scores (P10 − y)/w and (y − P90)/w.
 */
export function fitTailAdjustment(pred: ArrayLike<number>, y: ArrayLike<number>, coverage = 0.8): TailAdjustment {
  const n = y.length;
  if (n === 0) return { lower: 0, upper: 0, n: 0 };
  const { lower, upper } = tailScores(pred, y);
  const level = Math.min(1, (1 - (1 - coverage) / 2) * (1 + 1 / n));
  return { lower: quantileSorted(lower, level), upper: quantileSorted(upper, level), n };
}

/** The width-scaled tail scores (P10 − y)/w and (y − P90)/w of row-major [n,3] predictions, each sorted ascending. */
export function tailScores(pred: ArrayLike<number>, y: ArrayLike<number>): { lower: number[]; upper: number[] } {
  const lower: number[] = [];
  const upper: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const w = Math.max(MIN_WIDTH_DAYS, pred[i * 3 + 2] - pred[i * 3]);
    lower.push((pred[i * 3] - y[i]) / w);
    upper.push((y[i] - pred[i * 3 + 2]) / w);
  }
  lower.sort((a, b) => a - b);
  upper.sort((a, b) => a - b);
  return { lower, upper };
}

/**
 * Applies the calibration in place to row-major [n,3] day predictions (each row's adjustment by
 * its stage), keeping P10 ≤ P50 ≤ P90 and nothing before `elapsed` (days already elapsed).
 */
export function applyCalibration(pred: Float32Array, elapsed: ArrayLike<number>, stages: readonly string[], cal: EtaCalibration): void {
  const n = elapsed.length;
  for (let i = 0; i < n; i++) {
    const a = adjustmentFor(cal, stages[i]);
    const p50 = pred[i * 3 + 1];
    const w = Math.max(MIN_WIDTH_DAYS, pred[i * 3 + 2] - pred[i * 3]);
    pred[i * 3] = Math.max(elapsed[i], Math.min(p50, pred[i * 3] - a.lower * w));
    pred[i * 3 + 2] = Math.max(p50, pred[i * 3 + 2] + a.upper * w);
  }
}
