/**
 * Return-propensity examples held column by column (the ETA `EtaFrame`, which is generic over
 * column names), read from the warehouse's columnar result, and their time-ordered split.
 */
import type { SqlRunner } from '../../warehouse/warehouse.js';
import { frameFromColumns, frameFromRows, takeFrame, type EtaFrame } from '../eta/eta-frame.js';
import { returnsFeatureQuery, type RawReturnsRow, type ReturnsExampleSelection } from './feature-sql.js';

/** Runs the feature query and reads it column by column (training, backtests). */
export async function queryReturnsFrame(db: SqlRunner, sel: ReturnsExampleSelection): Promise<EtaFrame> {
  const { sql, params } = returnsFeatureQuery(sel);
  return frameFromColumns(await db.columns(sql, params));
}

/**
 * Splits examples (ordered by their prediction instant, as the query returns them) so that the
 * most recent `share` is the validation slice: everything from the instant at that quantile on.
 */
export function splitByInstant(frame: EtaFrame, share: number): { train: EtaFrame; val: EtaFrame; cutoff: Date | undefined } {
  const instants = frame.number('instant');
  const all = Int32Array.from({ length: frame.n }, (_, i) => i);
  if (frame.n === 0 || share <= 0) return { train: takeFrame(frame, all), val: takeFrame(frame, new Int32Array(0)), cutoff: undefined };
  const cutoff = Float64Array.from(instants).sort()[Math.min(frame.n - 1, Math.floor(frame.n * (1 - share)))];
  return { train: takeFrame(frame, all.filter((i) => instants[i] < cutoff)), val: takeFrame(frame, all.filter((i) => instants[i] >= cutoff)), cutoff: new Date(cutoff) };
}

/** A frame over row objects (serving, tests); `frameFromRows` only reads `row[name]`, whatever the row type. */
export function returnsFrameFromRows(rows: readonly RawReturnsRow[]): EtaFrame {
  return frameFromRows(rows as unknown as Parameters<typeof frameFromRows>[0]);
}
