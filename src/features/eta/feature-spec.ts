/**
 * The ETA feature spec: vocabularies and normalization statistics fitted on training rows and
 * saved next to the model, so serving encodes exactly as training did. Pure functions, no I/O.
 */
import type { RawEtaRow } from './feature-sql.js';
import { frameFromRows } from './eta-frame.js';
import { encodeFrame, fitFeatureSpecFrame } from './encode-columns.js';

/** Index 0 of every vocabulary is reserved for values unseen in training. */
export const UNKNOWN_INDEX = 0;

export interface NumericStat {
  name: string;
  mean: number;
  std: number;
  /** Share of training rows where the value was missing; a missing-indicator input is added when > 0. */
  missingRate: number;
}

export interface EtaFeatureSpec {
  version: 1;
  numeric: NumericStat[];
  categorical: { name: string; vocabulary: string[] }[];
  /**
   * Target transform: the network learns (t(total_days) − t(baseline)) / targetScale with
   * t(x) = ln(1 + x). Quantiles commute with monotone transforms, and the log keeps the long
   * right tail of delivery times from dominating the fit.
   */
  targetScale: number;
  /** Used when a row has no rolling lane history at all. */
  fallbackBaselineDays: number;
  /**
   * `remaining`: the baseline is the query's `baseline_days` (the lane mean at purchase, elapsed
   * time plus the lane's usual remaining transit in flight). Specs saved before it existed used the
   * lane mean at every moment, and keep doing so. `rolled`: `baseline_days` plus
   * `baseline_roll_days`, the baseline's arrival moved to the destination's next delivery day.
   */
  baseline?: 'remaining' | 'rolled';
}

/** Encoded model inputs for N rows. */
export interface EncodedEta {
  n: number;
  /** Row-major [n, numericWidth(spec)]: standardized values followed by missing indicators. */
  numeric: Float32Array;
  /** One Int32Array of length n per categorical feature (vocabulary indices). */
  categorical: Int32Array[];
  /** The baseline in days (point-in-time lane mean) the model predicts a residual over. */
  baseline: Float32Array;
  /** Days already elapsed since purchase at the moment of prediction. */
  elapsed: Float32Array;
}

/** Days → the model's residual scale. */
export function toResidual(days: number, baseline: number, spec: Pick<EtaFeatureSpec, 'targetScale'>): number {
  return (Math.log1p(Math.max(0, days)) - Math.log1p(Math.max(0, baseline))) / spec.targetScale;
}

/** The model's residual scale → days. */
export function fromResidual(resid: number, baseline: number, spec: Pick<EtaFeatureSpec, 'targetScale'>): number {
  return Math.expm1(Math.log1p(Math.max(0, baseline)) + resid * spec.targetScale);
}

/** Fits vocabularies (sorted, so the spec is deterministic) and standardization statistics (see `fitFeatureSpecFrame`). */
export function fitFeatureSpec(rows: readonly RawEtaRow[]): EtaFeatureSpec {
  return fitFeatureSpecFrame(frameFromRows(rows));
}

/** Width of the numeric input: one column per feature plus one indicator per feature ever missing. */
export function numericWidth(spec: EtaFeatureSpec): number {
  return spec.numeric.length + spec.numeric.filter((s) => s.missingRate > 0).length;
}

/** Encodes rows with a fitted spec (see `encodeFrame`). Unseen categories map to index 0; missing numerics to the mean plus an indicator. */
export function encodeRows(rows: readonly RawEtaRow[], spec: EtaFeatureSpec): EncodedEta {
  return encodeFrame(frameFromRows(rows), spec);
}
