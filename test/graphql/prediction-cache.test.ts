import { describe, expect, it } from 'vitest';
import { DomainEvents } from '../../src/domain/events.js';
import { cachePredictions } from '../../src/graphql/prediction-cache.js';
import { FixedPredictor } from './helpers.js';

const w = (p50: number) => ({ p10: new Date(p50 - 1), p50: new Date(p50), p90: new Date(p50 + 1), confidence: 0.8, modelVersion: 'v1', basis: 'AT_PURCHASE' as const });

function setup() {
  const inner = new FixedPredictor(new Map([['A', w(1000)], ['B', w(2000)]]), 'v1');
  const events = new DomainEvents();
  let t = 0;
  const cache = cachePredictions(inner, events, { ttlMs: 1000, now: () => t });
  return { inner, events, cache, tick: (ms: number) => (t += ms) };
}

describe('prediction cache', () => {
  it('serves repeats from memory and only asks the model for misses', async () => {
    const { inner, cache } = setup();
    expect((await cache.predict(['A'])).get('A')!.p50).toEqual(new Date(1000));
    const both = await cache.predict(['A', 'B', 'C']);
    expect([...both.keys()].sort()).toEqual(['A', 'B']);
    expect(inner.calls).toEqual([['A'], ['B', 'C']]);
  });

  it('drops an entry on shipment.updated, or takes the fresh prediction it carries', async () => {
    const { inner, events, cache } = setup();
    await cache.predict(['A', 'B']);
    events.publish('shipment.updated', { type: 'shipment.updated', shipmentId: 'A', trackingNumber: 'TA', status: 'in_transit', statusAt: new Date() });
    const fresh = { ...w(5000), shipmentId: 'B', predictedAt: new Date() };
    events.publish('shipment.updated', { type: 'shipment.updated', shipmentId: 'B', trackingNumber: 'TB', status: 'in_transit', statusAt: new Date(), eta: fresh });
    const got = await cache.predict(['A', 'B']);
    expect(got.get('B')).toBe(fresh);
    expect(inner.calls.at(-1)).toEqual(['A']);
  });

  it('expires after the TTL and on reload', async () => {
    const { inner, cache, tick } = setup();
    await cache.predict(['A']);
    tick(1001);
    await cache.predict(['A']);
    expect(inner.calls).toHaveLength(2);
    await cache.reload();
    expect(cache.size()).toBe(0);
    await cache.predict(['A']);
    expect(inner.calls).toHaveLength(3);
  });

  it('lets concurrent requests share one model call, and shares its failure', async () => {
    const { inner, cache } = setup();
    const [a, b] = await Promise.all([cache.predict(['A']), cache.predict(['A', 'B'])]);
    expect(a.get('A')).toEqual(b.get('A'));
    expect(inner.calls).toEqual([['A'], ['B']]);
    const failing = setup();
    failing.inner.failWith = new Error('model down');
    await expect(cache.predict(['Z'])).resolves.toEqual(new Map());
    await expect(failing.cache.predict(['A'])).rejects.toThrow('model down');
  });
});
