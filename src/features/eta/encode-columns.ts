/**
 * Fitting the feature spec and encoding examples column by column, straight into the Float32 /
 * Int32 buffers the model takes. Generic over the spec's feature lists, so a feature added to
 * `NUMERIC_FEATURES` or `CATEGORICAL_FEATURES` flows through without edits here. The row-based
 * `fitFeatureSpec` / `encodeRows` delegate to these, so both paths give bit-identical inputs.
 */
import { CATEGORICAL_FEATURES, CATEGORICAL_MIN_COUNT, NUMERIC_FEATURES } from './feature-sql.js';
import { numericWidth, toResidual, UNKNOWN_INDEX, type EncodedEta, type EtaFeatureSpec, type NumericStat } from './feature-spec.js';
import type { EtaFrame } from './eta-frame.js';

/** The baseline (days) of every example (see `EtaFeatureSpec.baseline`), else the global mean, else the fallback. */
export function frameBaselines(frame: EtaFrame, spec: Pick<EtaFeatureSpec, 'baseline' | 'fallbackBaselineDays'>): Float64Array {
  const fallback = spec.fallbackBaselineDays;
  const lane = frame.number(spec.baseline === undefined ? 'lane_mean' : 'baseline_days');
  const roll = spec.baseline === 'rolled' ? frame.number('baseline_roll_days') : null;
  const global = frame.number('global_mean');
  const out = new Float64Array(frame.n);
  for (let i = 0; i < frame.n; i++) {
    out[i] = Number.isNaN(lane[i]) ? (Number.isNaN(global[i]) ? fallback : global[i]) : lane[i] + (roll && !Number.isNaN(roll[i]) ? roll[i] : 0);
  }
  return out;
}

/** Standardization statistics of one numeric column, over its non-missing (NaN) values; a constant column gets std 1. */
export function numericStat(frame: EtaFrame, name: string): NumericStat {
  const rows = frame.n;
  const col = frame.number(name);
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < rows; i++) {
    const x = col[i];
    if (Number.isNaN(x)) continue;
    n++;
    sum += x;
    sq += x * x;
  }
  const mean = n > 0 ? sum / n : 0;
  const sd = n > 1 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0;
  return { name, mean, std: sd > 1e-9 ? sd : 1, missingRate: rows ? 1 - n / rows : 0 };
}

/** Fits vocabularies (sorted, so the spec is deterministic) and standardization statistics. */
export function fitFeatureSpecFrame(frame: EtaFrame): EtaFeatureSpec {
  const rows = frame.n;
  const numeric: NumericStat[] = NUMERIC_FEATURES.map((name) => numericStat(frame, name));
  const categorical = CATEGORICAL_FEATURES.map((name) => {
    const col = frame.text(name);
    const counts = new Map<string, number>();
    for (let i = 0; i < rows; i++) {
      const v = col[i] ?? '';
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const min = CATEGORICAL_MIN_COUNT[name] ?? 1;
    return { name, vocabulary: ['<unknown>', ...[...counts].filter(([, c]) => c >= min).map(([v]) => v).sort()] };
  });
  const total = frame.number('total_days');
  const totals = total.filter((x) => !Number.isNaN(x)).sort();
  const median = totals.length ? totals[Math.floor(totals.length / 2)] : 7;
  const base = frameBaselines(frame, { baseline: 'rolled', fallbackBaselineDays: median });
  const residuals = new Float64Array(rows);
  for (let i = 0; i < rows; i++) residuals[i] = Math.abs(toResidual(Number.isNaN(total[i]) ? median : total[i], base[i], { targetScale: 1 }));
  residuals.sort();
  const mad = rows ? residuals[Math.floor(rows / 2)] : 0.5;
  return { version: 1, numeric, categorical, targetScale: Math.max(0.05, mad * 2), fallbackBaselineDays: median, baseline: 'rolled' };
}

/** Encodes examples with a fitted spec. Unseen categories map to index 0; missing numerics to the mean plus an indicator. */
export function encodeFrame(frame: EtaFrame, spec: EtaFeatureSpec): EncodedEta {
  const n = frame.n;
  const width = numericWidth(spec);
  const numeric = new Float32Array(n * width);
  let nextIndicator = spec.numeric.length;
  spec.numeric.forEach((s, j) => {
    const col = frame.number(s.name);
    const indicator = s.missingRate > 0 ? nextIndicator++ : -1;
    for (let r = 0; r < n; r++) {
      const x = col[r];
      if (Number.isNaN(x)) {
        if (indicator >= 0) numeric[r * width + indicator] = 1;
      } else {
        // Clip far outliers so one bad row cannot dominate a batch.
        numeric[r * width + j] = Math.max(-6, Math.min(6, (x - s.mean) / s.std));
      }
    }
  });
  const categorical = spec.categorical.map((c) => {
    const lookup = new Map(c.vocabulary.map((v, i) => [v, i]));
    const col = frame.text(c.name);
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) out[r] = lookup.get(col[r] ?? '') ?? UNKNOWN_INDEX;
    return out;
  });
  const baseline = Float32Array.from(frameBaselines(frame, spec));
  const elapsed = Float32Array.from(frame.number('elapsed_days'), (x) => (Number.isNaN(x) ? 0 : x));
  return { n, numeric, categorical, baseline, elapsed };
}

/** Residual targets on the model's scale, tiled to the model's output width (tfjs wants matching shapes). */
export function residualTargets(frame: EtaFrame, enc: EncodedEta, spec: EtaFeatureSpec, width: number): Float32Array {
  const total = frame.number('total_days');
  const y = new Float32Array(enc.n * width);
  for (let i = 0; i < enc.n; i++) y.fill(toResidual(total[i], enc.baseline[i], spec), i * width, (i + 1) * width);
  return y;
}

/** The encoding of `a`'s examples followed by `b`'s (encoding is per example, so this equals encoding both at once). */
export function concatEncoded(a: EncodedEta, b: EncodedEta): EncodedEta {
  const cat = <T extends Float32Array | Int32Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const f32 = (n: number) => new Float32Array(n);
  return {
    n: a.n + b.n,
    numeric: cat(a.numeric, b.numeric, f32),
    categorical: a.categorical.map((c, j) => cat(c, b.categorical[j], (n) => new Int32Array(n))),
    baseline: cat(a.baseline, b.baseline, f32),
    elapsed: cat(a.elapsed, b.elapsed, f32),
  };
}
