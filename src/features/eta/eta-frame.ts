/**
 * ETA examples held column by column (`EtaFrame`), so training and batch scoring never build one
 * JS object per example. A frame comes from a columnar warehouse read, or wraps row objects (the
 * serving path and tests), and both give the same values to the encoder.
 */
import type { ColumnarResult, SqlRunner } from '../../warehouse/warehouse.js';
import { ShipcastError } from '../../errors.js';
import { etaFeatureQuery, type EtaExampleSelection, type RawEtaRow } from './feature-sql.js';

export interface EtaFrame {
  /** Number of examples. */
  readonly n: number;
  /**
   * A column as numbers, NaN where missing or not finite: numbers as they are, timestamps as epoch
   * milliseconds, booleans as 0/1, text through `Number()` (as the row encoder reads values).
   */
  number(name: string): Float64Array;
  /** A column as text, null where missing; other types as `String(value)` formats them. */
  text(name: string): readonly (string | null)[];
}

/** Rows or a frame: the training functions accept either. */
export type EtaExamples = EtaFrame | readonly RawEtaRow[];

function finiteOrNaN(x: number): number {
  return Number.isFinite(x) ? x : NaN;
}

/** The values with infinities turned into NaN; the same array when there are none (the usual case). */
function finiteValues(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) {
    if (values[i] === Infinity || values[i] === -Infinity) return values.map(finiteOrNaN);
  }
  return values;
}

function cached<T>(read: (name: string) => T): (name: string) => T {
  const memo = new Map<string, T>();
  return (name) => {
    let v = memo.get(name);
    if (v === undefined) {
      v = read(name);
      memo.set(name, v);
    }
    return v;
  };
}

/** A frame over a columnar query result; asking for a column the result lacks is an error naming it. */
export function frameFromColumns(res: ColumnarResult): EtaFrame {
  const col = (name: string) => {
    const c = res.columns[name];
    if (!c) throw new ShipcastError('BAD_INPUT', `${name}: no such column in the ETA feature result`, { field: name });
    return c;
  };
  return {
    n: res.rowCount,
    number: cached((name) => {
      const c = col(name);
      if (c.type === 'string') return Float64Array.from(c.values, (v) => (v === null ? NaN : finiteOrNaN(Number(v))));
      if (c.type === 'boolean') return Float64Array.from(c.values, (v, i) => (c.valid && !c.valid[i] ? NaN : v));
      // NULLs are already NaN; DOUBLE infinities become missing too, as in the row encoder.
      return finiteValues(c.values);
    }),
    text: cached((name) => {
      const c = col(name);
      if (c.type === 'string') return c.values;
      const out: (string | null)[] = new Array(res.rowCount);
      for (let i = 0; i < res.rowCount; i++) {
        if (c.valid && !c.valid[i]) out[i] = null;
        else out[i] = c.type === 'timestamp' ? String(new Date(c.values[i])) : c.type === 'boolean' ? String(c.values[i] === 1) : String(c.values[i]);
      }
      return out;
    }),
  };
}

/** A frame over row objects (values read as the row encoder always read them). */
export function frameFromRows(rows: readonly RawEtaRow[]): EtaFrame {
  return {
    n: rows.length,
    number: cached((name) =>
      Float64Array.from(rows, (r) => {
        const v = r[name];
        return v === null || v === undefined ? NaN : finiteOrNaN(typeof v === 'number' ? v : Number(v));
      }),
    ),
    text: cached((name) => rows.map((r) => (r[name] === null || r[name] === undefined ? null : String(r[name])))),
  };
}

/** Rows or frame → frame. */
export function asFrame(x: EtaExamples): EtaFrame {
  return Array.isArray(x) ? frameFromRows(x as readonly RawEtaRow[]) : (x as EtaFrame);
}

/**
 * The examples at `idx`, in that order; columns are gathered when first asked for. A contiguous
 * ascending range (a time split of examples ordered by purchase) is a view, not a copy.
 */
export function takeFrame(frame: EtaFrame, idx: Int32Array): EtaFrame {
  const n = idx.length;
  const start = n > 0 ? idx[0] : 0;
  const contiguous = n === 0 || idx[n - 1] - start === n - 1 && idx.every((i, k) => i === start + k);
  return {
    n,
    number: cached((name) => {
      const src = frame.number(name);
      if (contiguous) return src.subarray(start, start + n);
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = src[idx[k]];
      return out;
    }),
    text: cached((name) => {
      const src = frame.text(name);
      if (contiguous) return src.slice(start, start + n);
      const out: (string | null)[] = new Array(n);
      for (let k = 0; k < n; k++) out[k] = src[idx[k]];
      return out;
    }),
  };
}

/**
 * Splits examples (ordered by purchase time) so the most recent `share` of shipments is validation:
 * the cut is the purchase time at that quantile of the at-purchase examples. Same rule as `timeSplit`.
 */
export function splitFrameByTime(frame: EtaFrame, share: number): { train: EtaFrame; val: EtaFrame; cutoff: Date | undefined } {
  const purchased = frame.number('purchased_at');
  const stage = frame.text('stage');
  const times: number[] = [];
  for (let i = 0; i < frame.n; i++) if (stage[i] === 'none') times.push(purchased[i]);
  const all = Int32Array.from({ length: frame.n }, (_, i) => i);
  if (times.length === 0 || share <= 0) return { train: takeFrame(frame, all), val: takeFrame(frame, new Int32Array(0)), cutoff: undefined };
  const sorted = Float64Array.from(times).sort();
  const cutoff = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * (1 - share)))];
  return {
    train: takeFrame(frame, all.filter((i) => purchased[i] < cutoff)),
    val: takeFrame(frame, all.filter((i) => purchased[i] >= cutoff)),
    cutoff: new Date(cutoff),
  };
}

/**
 * Runs the feature query and reads it column by column. `exclude` drops columns the caller does
 * not need (e.g. event ids when training), which saves decoding their strings; the projection keeps
 * the query's order (DuckDB preserves insertion order).
 */
export async function queryEtaFeatureFrame(db: SqlRunner, sel: EtaExampleSelection, exclude: readonly string[] = []): Promise<EtaFrame> {
  const { sql, params } = etaFeatureQuery(sel);
  const select = exclude.length ? `SELECT * EXCLUDE (${exclude.join(', ')}) FROM (${sql})` : sql;
  return frameFromColumns(await db.columns(select, params));
}
