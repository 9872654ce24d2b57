/**
 * The ETA feature spec: vocabularies and normalization statistics fitted on training rows and
 * saved next to the model, so serving encodes exactly as training did. Pure functions, no I/O.
 */
import { CATEGORICAL_FEATURES, CATEGORICAL_MIN_COUNT, NUMERIC_FEATURES, type RawEtaRow } from './feature-sql.js';

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
   * lane mean at every moment, and keep doing so.
   */
  baseline?: 'remaining';
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

function num(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const x = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(x) ? x : undefined;
}

/** The baseline the residual is taken over (see `EtaFeatureSpec.baseline`), else the global mean, else a constant. */
export function baselineDays(row: RawEtaRow, spec: Pick<EtaFeatureSpec, 'baseline' | 'fallbackBaselineDays'>): number {
  return num(spec.baseline === 'remaining' ? row.baseline_days : row.lane_mean) ?? num(row.global_mean) ?? spec.fallbackBaselineDays;
}

/** Days → the model's residual scale. */
export function toResidual(days: number, baseline: number, spec: Pick<EtaFeatureSpec, 'targetScale'>): number {
  return (Math.log1p(Math.max(0, days)) - Math.log1p(Math.max(0, baseline))) / spec.targetScale;
}

/** The model's residual scale → days. */
export function fromResidual(resid: number, baseline: number, spec: Pick<EtaFeatureSpec, 'targetScale'>): number {
  return Math.expm1(Math.log1p(Math.max(0, baseline)) + resid * spec.targetScale);
}

/** Fits vocabularies (sorted, so the spec is deterministic) and standardization statistics. */
export function fitFeatureSpec(rows: readonly RawEtaRow[]): EtaFeatureSpec {
  const numeric: NumericStat[] = NUMERIC_FEATURES.map((name) => {
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (const r of rows) {
      const x = num(r[name]);
      if (x === undefined) continue;
      n++;
      sum += x;
      sq += x * x;
    }
    const mean = n > 0 ? sum / n : 0;
    const variance = n > 1 ? Math.max(0, sq / n - mean * mean) : 0;
    return { name, mean, std: Math.sqrt(variance) > 1e-9 ? Math.sqrt(variance) : 1, missingRate: rows.length ? 1 - n / rows.length : 0 };
  });
  const categorical = CATEGORICAL_FEATURES.map((name) => {
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = String(r[name] ?? '');
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const min = CATEGORICAL_MIN_COUNT[name] ?? 1;
    return { name, vocabulary: ['<unknown>', ...[...counts].filter(([, c]) => c >= min).map(([v]) => v).sort()] };
  });
  const totals = rows.map((r) => num(r.total_days)).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const median = totals.length ? totals[Math.floor(totals.length / 2)] : 7;
  const residuals = rows
    .map((r) => Math.abs(toResidual(num(r.total_days) ?? median, baselineDays(r, { baseline: 'remaining', fallbackBaselineDays: median }), { targetScale: 1 })))
    .sort((a, b) => a - b);
  const mad = residuals.length ? residuals[Math.floor(residuals.length / 2)] : 0.5;
  return { version: 1, numeric, categorical, targetScale: Math.max(0.05, mad * 2), fallbackBaselineDays: median, baseline: 'remaining' };
}

/** Width of the numeric input: one column per feature plus one indicator per feature ever missing. */
export function numericWidth(spec: EtaFeatureSpec): number {
  return spec.numeric.length + spec.numeric.filter((s) => s.missingRate > 0).length;
}

/** Encodes rows with a fitted spec. Unseen categories map to index 0; missing numerics to the mean plus an indicator. */
export function encodeRows(rows: readonly RawEtaRow[], spec: EtaFeatureSpec): EncodedEta {
  const n = rows.length;
  const width = numericWidth(spec);
  const numeric = new Float32Array(n * width);
  const indicatorCols = spec.numeric.map((s, i) => ({ i, has: s.missingRate > 0 }));
  const indicatorIndex = new Map<number, number>();
  let next = spec.numeric.length;
  for (const c of indicatorCols) if (c.has) indicatorIndex.set(c.i, next++);
  const lookups = spec.categorical.map((c) => new Map(c.vocabulary.map((v, i) => [v, i])));
  const categorical = spec.categorical.map(() => new Int32Array(n));
  const baseline = new Float32Array(n);
  const elapsed = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    const o = r * width;
    for (let j = 0; j < spec.numeric.length; j++) {
      const s = spec.numeric[j];
      const x = num(row[s.name]);
      if (x === undefined) {
        const ind = indicatorIndex.get(j);
        if (ind !== undefined) numeric[o + ind] = 1;
      } else {
        // Clip far outliers so one bad row cannot dominate a batch.
        numeric[o + j] = Math.max(-6, Math.min(6, (x - s.mean) / s.std));
      }
    }
    for (let j = 0; j < spec.categorical.length; j++) {
      categorical[j][r] = lookups[j].get(String(row[spec.categorical[j].name] ?? '')) ?? UNKNOWN_INDEX;
    }
    baseline[r] = baselineDays(row, spec);
    elapsed[r] = num(row.elapsed_days) ?? 0;
  }
  return { n, numeric, categorical, baseline, elapsed };
}
