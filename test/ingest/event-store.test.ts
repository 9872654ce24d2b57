import { describe, expect, it } from 'vitest';
import type { TrackingEventInput } from '../../src/ingest/canonical-event.js';
import { milestoneFor } from '../../src/ingest/effects.js';
import { TrackingEventStore, type CommittedBatch } from '../../src/ingest/event-store.js';
import { consumeStream, type StreamRecord, type StreamSource } from '../../src/ingest/stream-source.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

const event = (id: string, over: Partial<TrackingEventInput> = {}): TrackingEventInput => ({
  source: 'webhook', eventId: id, trackingNumber: 'GC-1', carrier: null, status: 'in_transit', carrierStatusCode: null, description: null,
  city: null, region: null, country: null, postalCode: null, lat: null, lng: null, occurredAt: new Date('2026-01-01T00:00:00Z'), ...over,
});

/** Wraps a warehouse to log transaction boundaries, optionally failing the first N transactions. */
function instrumented(wh: Warehouse, log: string[], failFirst = 0): Warehouse {
  let n = 0;
  return {
    ...wh,
    transaction: (fn) =>
      wh.transaction(async (tx) => {
        const i = ++n;
        log.push(`begin ${i}`);
        const out = await fn(tx);
        if (i <= failFirst) throw new Error(`injected failure ${i}`);
        return out;
      }).then((r) => {
        log.push('commit');
        return r;
      }),
  };
}

describe('group commit', () => {
  it('writes concurrent submissions in one transaction and acknowledges each only after the commit', async () => {
    const wh = await openWarehouse(':memory:');
    const log: string[] = [];
    const store = new TrackingEventStore(instrumented(wh, log));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.submit([event(`e${i}`), event(`e${i}`)]).then((r) => {
          log.push(`ack ${i}`);
          return r;
        }),
      ),
    );
    // The first submission starts a flush alone; the 19 queued meanwhile share the next one.
    expect(log.filter((l) => l.startsWith('begin'))).toHaveLength(2);
    expect(log.indexOf('ack 0')).toBeGreaterThan(log.indexOf('commit'));
    expect(log.indexOf('ack 19')).toBeGreaterThan(log.lastIndexOf('commit'));
    expect(results.every((r) => r.accepted === 1 && r.duplicates === 1)).toBe(true);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM tracking_events'))?.n).toBe(20);
    await wh.close();
  });

  it('retries each submission alone when a batch fails, and rejects (never acks) what did not commit', async () => {
    const wh = await openWarehouse(':memory:');
    const log: string[] = [];
    // Transactions 1 (first submission), 2 (the batch of the others) and 3 (first retry) fail.
    const store = new TrackingEventStore(instrumented(wh, log, 3));
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => store.submit([event(id)])));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    const ids = (await wh.all<{ event_id: string }>('SELECT event_id FROM tracking_events')).map((r) => r.event_id);
    expect(ids).toEqual(['c']);
    await wh.close();
  });

  it('reports status changes after the commit, with the previous status, for the effects', async () => {
    const wh = await openWarehouse(':memory:');
    await wh.run("INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level) VALUES ('s1', 'o1', 'GC-1', 'ups', 'ground')");
    const seen: CommittedBatch[] = [];
    const store = new TrackingEventStore(wh, { onCommitted: (b) => seen.push(b) });
    await store.submit([event('x1', { status: 'out_for_delivery', occurredAt: new Date('2026-01-02T00:00:00Z') })]);
    await store.drain(); // effects run after the acks were released
    expect(seen).toHaveLength(1);
    expect(seen[0].changes.map((c) => [c.previousStatus, c.status])).toEqual([['pending', 'out_for_delivery']]);
    await wh.close();
  });
});

describe('milestones', () => {
  it('maps status changes to the milestones the email workflow consumes', () => {
    expect(milestoneFor('info_received', 'in_transit')).toBe('shipped');
    expect(milestoneFor('delivery_delayed', 'in_transit')).toBeUndefined();
    expect(milestoneFor('in_transit', 'delivery_delayed')).toBe('delayed');
    expect(milestoneFor('in_transit', 'return_to_sender')).toBe('return_initiated');
    expect(milestoneFor('out_for_delivery', 'out_for_delivery')).toBeUndefined();
    expect(milestoneFor('in_transit', 'available_for_pickup')).toBeUndefined();
  });
});

describe('StreamSource', () => {
  it('commits a batch only once it is durable, and dead-letters bad records with their position', async () => {
    const wh = await openWarehouse(':memory:');
    const store = new TrackingEventStore(wh);
    const storedAtCommit: number[] = [];
    const batches: StreamRecord[][] = [
      [
        { value: JSON.stringify({ event_id: 'k1', tracking_number: 'T', status: 'delivered', occurred_at: '2026-01-01T00:00:00Z' }), position: 'topic/0@10' },
        { value: '{"event_id":"k2"}', position: 'topic/0@11' },
      ],
      [{ value: JSON.stringify({ event_id: 'k3', tracking_number: 'T', status: 'delivered', occurred_at: '2026-01-01T00:00:00Z' }), position: 'topic/0@12' }],
    ];
    const src: StreamSource = {
      name: 'kafka',
      async *batches() {
        yield* batches;
      },
      async commit() {
        storedAtCommit.push((await wh.one<{ n: number }>("SELECT count(*) AS n FROM tracking_events WHERE source = 'kafka'"))!.n);
      },
      close: async () => undefined,
    };
    expect(await consumeStream(src, store)).toEqual({ accepted: 2, duplicates: 0, deadLettered: 1, records: 3 });
    expect(storedAtCommit).toEqual([1, 2]);
    expect((await wh.one<{ reason: string }>('SELECT reason FROM ingest_dead_letters'))?.reason).toMatch(/^topic\/0@11: tracking_number: /);
    await wh.close();
  });
});
