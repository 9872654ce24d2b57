/**
 * The return-propensity feature spec (standardization statistics, vocabularies) and the encoder
 * that turns examples into one dense Float32 row each: standardized numerics, then a missing
 * indicator per numeric ever missing in training, then a one-hot block per categorical. One-hot
 * rather than embeddings: the vocabularies are small, and a dense input needs no gather kernel and
 * makes each feature's columns easy to group for contributions. Pure functions, no I/O.
 */
import type { EtaFrame } from '../eta/eta-frame.js';
import type { NumericStat } from '../eta/feature-spec.js';
import { numericStat } from '../eta/encode-columns.js';
import { RETURNS_CATEGORICAL_FEATURES, RETURNS_NUMERIC_FEATURES } from './feature-sql.js';

/** Index 0 of every vocabulary is reserved for values unseen in training. */
export const UNKNOWN_INDEX = 0;

/** Categories seen fewer times in training map to "unknown". */
export const RETURNS_CATEGORY_MIN_COUNT = 20;

/** Standardization of one numeric input, as for ETA (`numericStat`). */
export type ReturnsNumericStat = NumericStat;

export interface ReturnsFeatureSpec {
  version: 1;
  numeric: ReturnsNumericStat[];
  categorical: { name: string; vocabulary: string[] }[];
}

/** Encoded inputs for n examples: row-major [n, inputWidth(spec)]. */
export interface EncodedReturns {
  n: number;
  width: number;
  x: Float32Array;
}

/** Fits the spec on training examples: vocabularies sorted, so the spec is deterministic. */
export function fitReturnsSpec(frame: EtaFrame): ReturnsFeatureSpec {
  const rows = frame.n;
  const numeric = RETURNS_NUMERIC_FEATURES.map((name) => numericStat(frame, name));
  const categorical = RETURNS_CATEGORICAL_FEATURES.map((name) => {
    const counts = new Map<string, number>();
    for (const v of frame.text(name)) counts.set(v ?? '', (counts.get(v ?? '') ?? 0) + 1);
    const kept = [...counts].filter(([, c]) => c >= Math.min(RETURNS_CATEGORY_MIN_COUNT, Math.max(1, rows / 100))).map(([v]) => v).sort();
    return { name, vocabulary: ['<unknown>', ...kept] };
  });
  return { version: 1, numeric, categorical };
}

/** One input feature's columns in the encoded row, for grouping contributions. */
export interface FeatureColumns {
  name: string;
  /** Its column indices in the encoded row. */
  columns: number[];
}

/** Width of an encoded row. */
export function inputWidth(spec: ReturnsFeatureSpec): number {
  return featureColumns(spec).reduce((w, f) => w + f.columns.length, 0);
}

/** Each feature's columns: a numeric's value and its missing indicator; a categorical's one-hot block. */
export function featureColumns(spec: ReturnsFeatureSpec): FeatureColumns[] {
  const out: FeatureColumns[] = spec.numeric.map((s, j) => ({ name: s.name, columns: [j] }));
  let next = spec.numeric.length;
  spec.numeric.forEach((s, j) => {
    if (s.missingRate > 0) out[j].columns.push(next++);
  });
  for (const c of spec.categorical) {
    out.push({ name: c.name, columns: c.vocabulary.map((_, k) => next + k) });
    next += c.vocabulary.length;
  }
  return out;
}

/** Encodes examples with a fitted spec. Unseen categories map to index 0; missing numerics to the mean plus an indicator. */
export function encodeReturns(frame: EtaFrame, spec: ReturnsFeatureSpec): EncodedReturns {
  const n = frame.n;
  const groups = featureColumns(spec);
  const width = groups.reduce((w, f) => w + f.columns.length, 0);
  const x = new Float32Array(n * width);
  spec.numeric.forEach((s, j) => {
    const col = frame.number(s.name);
    const indicator = groups[j].columns[1];
    for (let r = 0; r < n; r++) {
      const v = col[r];
      if (Number.isNaN(v)) {
        if (indicator !== undefined) x[r * width + indicator] = 1;
      } else {
        // Clip far outliers so one bad row cannot dominate a batch.
        x[r * width + j] = Math.max(-6, Math.min(6, (v - s.mean) / s.std));
      }
    }
  });
  spec.categorical.forEach((c, k) => {
    const start = groups[spec.numeric.length + k].columns[0];
    const lookup = new Map(c.vocabulary.map((v, i) => [v, i]));
    const col = frame.text(c.name);
    for (let r = 0; r < n; r++) x[r * width + start + (lookup.get(col[r] ?? '') ?? UNKNOWN_INDEX)] = 1;
  });
  return { n, width, x };
}

/** The labels of labelled examples as 0/1 (NaN where unlabelled). */
export function labels(frame: EtaFrame): Float64Array {
  return frame.number('label');
}
