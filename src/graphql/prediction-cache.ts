/**
 * A prediction cache in front of the ETA predictor. A prediction is a function of the model
 * version, the shipment's own data and its latest tracking event (its time features are measured
 * from purchase to that event, not to "now"), so it stays exact until the shipment gets a new
 * event or the model changes:
 * - `shipment.updated` drops the entry (or replaces it with the event's fresh prediction);
 * - a different active version misses;
 * - a TTL bounds staleness from writes that publish no event (bulk loads, manual edits).
 * Concurrent requests for a shipment being predicted wait for that one model call.
 */
import type { DomainEvents } from '../domain/events.js';
import type { EtaPrediction, EtaPredictor } from '../domain/eta.js';

export interface PredictionCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** Wraps `inner` so repeated predictions are served from memory; see the module comment for validity. */
export function cachePredictions(inner: EtaPredictor, events: DomainEvents, opts: PredictionCacheOptions = {}): EtaPredictor & { size(): number } {
  const ttl = opts.ttlMs ?? 10 * 60_000;
  const max = opts.maxEntries ?? 100_000;
  const clock = opts.now ?? Date.now;
  const cache = new Map<string, { p: EtaPrediction; until: number }>();
  const inflight = new Map<string, Promise<EtaPrediction | undefined>>();

  const store = (p: EtaPrediction) => {
    if (cache.size >= max) for (const k of [...cache.keys()].slice(0, Math.ceil(max / 10))) cache.delete(k);
    cache.set(p.shipmentId, { p, until: clock() + ttl });
  };
  events.subscribe('shipment.updated', (e) => {
    inflight.delete(e.shipmentId);
    if (e.eta && e.eta.modelVersion === inner.activeVersion()) store(e.eta);
    else cache.delete(e.shipmentId);
  });

  return {
    activeVersion: () => inner.activeVersion(),
    async reload() {
      await inner.reload();
      cache.clear();
    },
    size: () => cache.size,
    async predict(ids, now) {
      const version = inner.activeVersion();
      const out = new Map<string, EtaPrediction>();
      const waits: Array<Promise<void>> = [];
      const misses: string[] = [];
      const t = clock();
      for (const id of new Set(ids)) {
        const hit = cache.get(id);
        if (hit && hit.until > t && hit.p.modelVersion === version) {
          out.set(id, hit.p);
          continue;
        }
        const pending = inflight.get(id);
        if (pending) waits.push(pending.then((p) => void (p && out.set(id, p))));
        else misses.push(id);
      }
      if (misses.length > 0) {
        const call = inner.predict(misses, now);
        for (const id of misses) {
          const one = call.then((m) => m.get(id));
          // A failed call is reported by the awaiting request below; waiters see it too.
          one.catch(() => undefined);
          inflight.set(id, one);
        }
        try {
          const got = await call;
          for (const [id, p] of got) {
            out.set(id, p);
            store(p);
          }
        } finally {
          for (const id of misses) inflight.delete(id);
        }
      }
      await Promise.all(waits);
      return out;
    },
  };
}
