/**
 * tracking number → shipment id, cached. The pair never changes once a shipment exists, so the
 * API can answer `predictedEta` without a warehouse round trip per request (DuckDB reads share
 * one connection and would serialize under load). Misses are not cached: a shipment may appear
 * later.
 */
import type { SqlRunner } from '../warehouse/warehouse.js';

export interface TrackingIndex {
  /** Shipment ids of the known tracking numbers among `trackingNumbers`. */
  resolve(trackingNumbers: readonly string[]): Promise<Map<string, string>>;
}

export function createTrackingIndex(db: SqlRunner, opts: { maxEntries?: number } = {}): TrackingIndex {
  const max = opts.maxEntries ?? 200_000;
  const cache = new Map<string, string>();
  return {
    async resolve(trackingNumbers) {
      const out = new Map<string, string>();
      const misses: string[] = [];
      for (const t of trackingNumbers) {
        const id = cache.get(t);
        if (id === undefined) misses.push(t);
        else out.set(t, id);
      }
      if (misses.length === 0) return out;
      const rows = await db.all<{ tracking_number: string; shipment_id: string }>(
        misses.length === 1
          ? 'SELECT tracking_number, shipment_id FROM shipments WHERE tracking_number = $1'
          : 'SELECT tracking_number, shipment_id FROM shipments WHERE tracking_number IN (SELECT unnest(string_split($1, chr(31))))',
        [misses.join('\x1f')],
      );
      // Insertion-ordered Map: dropping the oldest entries keeps memory bounded.
      if (cache.size + rows.length > max) for (const k of [...cache.keys()].slice(0, rows.length + max / 10)) cache.delete(k);
      for (const r of rows) {
        cache.set(r.tracking_number, r.shipment_id);
        out.set(r.tracking_number, r.shipment_id);
      }
      return out;
    },
  };
}
