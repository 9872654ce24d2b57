/**
 * Columnar reads: copies a DuckDB result into one typed array (or string array) per column,
 * straight from the chunks' vector buffers. Row objects cost ~1 µs per value (a Date per
 * timestamp, a property per column); this costs a few nanoseconds per number.
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBDecimalType, DuckDBTypeId, type DuckDBDataChunk, type DuckDBResult, type DuckDBType } from '@duckdb/node-api';
import type { Column, ColumnarResult } from './warehouse.js';
import { ShipcastError } from '../errors.js';

type IntArrayCtor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor;

/** Fixed-width numeric types read as numbers, with their element type. */
const NUMERIC: Partial<Record<DuckDBTypeId, IntArrayCtor | Float32ArrayConstructor | Float64ArrayConstructor>> = {
  [DuckDBTypeId.DOUBLE]: Float64Array,
  [DuckDBTypeId.FLOAT]: Float32Array,
  [DuckDBTypeId.INTEGER]: Int32Array,
  [DuckDBTypeId.SMALLINT]: Int16Array,
  [DuckDBTypeId.TINYINT]: Int8Array,
  [DuckDBTypeId.UINTEGER]: Uint32Array,
  [DuckDBTypeId.USMALLINT]: Uint16Array,
  [DuckDBTypeId.UTINYINT]: Uint8Array,
};

/** Largest |epoch ms| a JS Date holds. */
const MAX_DATE_MS = 8.64e15;

const DAY_MS = 86_400_000;

/**
 * Unscaled DECIMAL values as numbers, by width (DuckDB's layout: 16, 32, 64 or 128-bit integers;
 * a 128-bit one is a little-endian uint64 low half and int64 high half).
 */
function decimalUnscaled(width: number, data: Uint8Array, rows: number): (i: number) => number {
  const buf = data.buffer as ArrayBuffer;
  if (width <= 4) {
    const a = new Int16Array(buf, data.byteOffset, rows);
    return (i) => a[i];
  }
  if (width <= 9) {
    const a = new Int32Array(buf, data.byteOffset, rows);
    return (i) => a[i];
  }
  if (width <= 18) {
    const a = new BigInt64Array(buf, data.byteOffset, rows);
    return (i) => Number(a[i]);
  }
  const lo = new BigUint64Array(buf, data.byteOffset, rows * 2);
  const hi = new BigInt64Array(buf, data.byteOffset, rows * 2);
  return (i) => Number(hi[2 * i + 1]) * 2 ** 64 + Number(lo[2 * i]);
}

const utf8 = new TextDecoder();

/** Validity bitmap of a vector as one byte per row (null when every row is valid). */
function validityOf(vector: duckdb.Vector, rows: number): Uint8Array | null {
  const bits = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  if (!bits) return null;
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) out[i] = (bits[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** Slots of the per-column cache of short strings (direct-mapped, so a miss just decodes). */
const CACHE_BITS = 12;

/**
 * Decodes DuckDB's 16-byte string_t entries: length, then the bytes inline (≤ 12) or a prefix and
 * a pointer. Short strings repeat a lot (categories, statuses), so they are looked up
 * by their 16 raw bytes in a small cache before decoding; ASCII strings skip TextDecoder, whose
 * per-call cost dominates for short strings.
 */
function stringReader(): (vector: duckdb.Vector, rows: number, valid: Uint8Array | null, out: (string | null)[], at: number) => void {
  const keys = new Uint32Array(4 << CACHE_BITS).fill(0xffffffff);
  const strings: string[] = new Array(1 << CACHE_BITS);
  const decode = (bytes: Uint8Array, len: number) => {
    // Long strings go to TextDecoder too: `apply` takes a bounded number of arguments.
    if (len > 64) return utf8.decode(bytes);
    for (let k = 0; k < len; k++) if (bytes[k] >= 0x80) return utf8.decode(bytes);
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  };
  return (vector, rows, valid, out, at) => {
    const data = duckdb.vector_get_data(vector, rows * 16);
    const words = new Uint32Array(data.buffer as ArrayBuffer, data.byteOffset, rows * 4);
    for (let i = 0; i < rows; i++) {
      if (valid && !valid[i]) {
        out[at + i] = null;
        continue;
      }
      const w = i * 4;
      const len = words[w];
      if (len > 12) {
        out[at + i] = decode(duckdb.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + w * 4 + 8, len), len);
        continue;
      }
      const a = words[w + 1];
      const b = words[w + 2];
      const c = words[w + 3];
      const slot = (Math.imul(a ^ len, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d)) >>> (32 - CACHE_BITS);
      const k = slot * 4;
      if (keys[k] === len && keys[k + 1] === a && keys[k + 2] === b && keys[k + 3] === c) {
        out[at + i] = strings[slot];
        continue;
      }
      const str = decode(data.subarray(w * 4 + 4, w * 4 + 4 + len), len);
      keys[k] = len;
      keys[k + 1] = a;
      keys[k + 2] = b;
      keys[k + 3] = c;
      strings[slot] = str;
      out[at + i] = str;
    }
  };
}

interface Builder {
  column: Column;
  /** Copies one chunk's vector into rows [at, at + rows). */
  read(vector: duckdb.Vector, rows: number, at: number): void;
}

function validSlot(total: number): { valid: Uint8Array | null; set(chunkValid: Uint8Array | null, at: number, rows: number): void } {
  const slot = {
    valid: null as Uint8Array | null,
    set(chunkValid: Uint8Array | null, at: number, rows: number) {
      if (!chunkValid) {
        slot.valid?.fill(1, at, at + rows);
        return;
      }
      if (!slot.valid) slot.valid = new Uint8Array(total).fill(1, 0, at);
      slot.valid.set(chunkValid, at);
    },
  };
  return slot;
}

function builderFor(name: string, duckType: DuckDBType, total: number): Builder {
  const type = duckType.typeId;
  const typeName = duckType.toString();
  const slot = validSlot(total);
  const numeric = NUMERIC[type];
  if (numeric) {
    const values = new Float64Array(total);
    const column = { type: 'number' as const, values, valid: null as Uint8Array | null };
    return {
      column,
      read(vector, rows, at) {
        const data = duckdb.vector_get_data(vector, rows * numeric.BYTES_PER_ELEMENT);
        const items = new numeric(data.buffer as ArrayBuffer, data.byteOffset, rows);
        const valid = validityOf(vector, rows);
        slot.set(valid, at, rows);
        column.valid = slot.valid;
        for (let i = 0; i < rows; i++) values[at + i] = valid && !valid[i] ? NaN : items[i];
      },
    };
  }
  if (type === DuckDBTypeId.BIGINT || type === DuckDBTypeId.TIMESTAMP_TZ || type === DuckDBTypeId.TIMESTAMP) {
    const timestamp = type !== DuckDBTypeId.BIGINT;
    const values = new Float64Array(total);
    const column: { type: 'number' | 'timestamp'; values: Float64Array; valid: Uint8Array | null } = { type: timestamp ? 'timestamp' : 'number', values, valid: null };
    return {
      column,
      read(vector, rows, at) {
        const data = duckdb.vector_get_data(vector, rows * 8);
        const items = new BigInt64Array(data.buffer, data.byteOffset, rows);
        const valid = validityOf(vector, rows);
        slot.set(valid, at, rows);
        column.valid = slot.valid;
        for (let i = 0; i < rows; i++) {
          if (valid && !valid[i]) {
            values[at + i] = NaN;
            continue;
          }
          const x = Number(items[i]);
          if (timestamp) {
            // Microseconds → milliseconds, truncated like the row reader's BigInt division.
            const ms = Math.trunc(x / 1000);
            if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new ShipcastError('BAD_INPUT', `column ${name}: ${typeName} value out of the JS Date range`, { field: name });
            values[at + i] = ms;
          } else {
            if (!Number.isSafeInteger(x)) throw new ShipcastError('BAD_INPUT', `column ${name}: BIGINT value ${items[i]} does not fit a JS number exactly`, { field: name });
            values[at + i] = x;
          }
        }
      },
    };
  }
  if (type === DuckDBTypeId.DATE) {
    // Days since the epoch, as midnight UTC in milliseconds (what row reads' Dates hold).
    const values = new Float64Array(total);
    const column = { type: 'timestamp' as const, values, valid: null as Uint8Array | null };
    return {
      column,
      read(vector, rows, at) {
        const data = duckdb.vector_get_data(vector, rows * 4);
        const items = new Int32Array(data.buffer as ArrayBuffer, data.byteOffset, rows);
        const valid = validityOf(vector, rows);
        slot.set(valid, at, rows);
        column.valid = slot.valid;
        for (let i = 0; i < rows; i++) values[at + i] = valid && !valid[i] ? NaN : items[i] * DAY_MS;
      },
    };
  }
  if (duckType instanceof DuckDBDecimalType) {
    // Unscaled integer / 10^scale, the same division DuckDB's decimal-to-double conversion does.
    const { width, scale } = duckType;
    const divisor = 10 ** scale;
    const values = new Float64Array(total);
    const column = { type: 'number' as const, values, valid: null as Uint8Array | null };
    return {
      column,
      read(vector, rows, at) {
        const bytes = width <= 4 ? 2 : width <= 9 ? 4 : width <= 18 ? 8 : 16;
        const unscaled = decimalUnscaled(width, duckdb.vector_get_data(vector, rows * bytes), rows);
        const valid = validityOf(vector, rows);
        slot.set(valid, at, rows);
        column.valid = slot.valid;
        for (let i = 0; i < rows; i++) values[at + i] = valid && !valid[i] ? NaN : unscaled(i) / divisor;
      },
    };
  }
  if (type === DuckDBTypeId.BOOLEAN) {
    const values = new Uint8Array(total);
    const column = { type: 'boolean' as const, values, valid: null as Uint8Array | null };
    return {
      column,
      read(vector, rows, at) {
        const data = duckdb.vector_get_data(vector, rows);
        const valid = validityOf(vector, rows);
        slot.set(valid, at, rows);
        column.valid = slot.valid;
        for (let i = 0; i < rows; i++) values[at + i] = valid && !valid[i] ? 0 : data[i] ? 1 : 0;
      },
    };
  }
  if (type === DuckDBTypeId.VARCHAR) {
    const values: (string | null)[] = new Array(total);
    const readStrings = stringReader();
    return {
      column: { type: 'string', values },
      read(vector, rows, at) {
        readStrings(vector, rows, validityOf(vector, rows), values, at);
      },
    };
  }
  throw new ShipcastError('BAD_INPUT', `column ${name}: type ${typeName} is not supported by columnar reads (use DOUBLE, an integer type up to BIGINT, DECIMAL, BOOLEAN, VARCHAR, DATE or TIMESTAMP[TZ])`, { field: name });
}

/** Reads every chunk of a result into columns. */
export async function readColumns(result: DuckDBResult): Promise<ColumnarResult> {
  const chunks: DuckDBDataChunk[] = await result.fetchAllChunks();
  const rowCount = chunks.reduce((s, c) => s + c.rowCount, 0);
  const names = result.columnNames();
  const builders = names.map((name, j) => builderFor(name, result.columnType(j), rowCount));
  let at = 0;
  for (const chunk of chunks) {
    const rows = chunk.rowCount;
    for (let j = 0; j < names.length; j++) builders[j].read(duckdb.data_chunk_get_vector(chunk.chunk, j), rows, at);
    at += rows;
  }
  const columns: Record<string, Column> = {};
  names.forEach((name, j) => (columns[name] = builders[j].column));
  return { rowCount, names, columns };
}
