/**
 * The handoff's commit rules, deterministically and without a broker: batches are kafkajs' own
 * `Batch` class built from fetch-response partition data; the payload's kafkajs callbacks are
 * recorded so the test sees exactly which offsets would reach the coordinator, and when.
 * (kafka-source.test.ts runs the same rules against a Kafka-protocol broker.)
 */
import { createRequire } from 'node:module';
import type { Batch, EachBatchPayload, Offsets } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaHandoff, nextOffset } from '../../src/ingest/kafka-handoff.js';
import type { StreamRecord } from '../../src/ingest/stream-source.js';

const require = createRequire(import.meta.url);
const KafkaBatch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, data: unknown) => Batch;

function batch(topic: string, partition: number, offsets: number[], controlAt?: number): Batch {
  const messages = offsets.map((o) => ({ offset: String(o), key: null, value: Buffer.from(JSON.stringify({ o })), timestamp: '0', attributes: 0, headers: {}, isControlRecord: o === controlAt }));
  return new KafkaBatch(topic, String(offsets[0]), { partition, highWatermark: String(offsets.at(-1)! + 1), messages, abortedTransactions: [] });
}

function payload(b: Batch, opts: { heartbeat?: () => Promise<void> } = {}) {
  const calls = { commits: [] as Offsets[], resolved: [] as string[], paused: 0 };
  const p: EachBatchPayload = {
    batch: b,
    resolveOffset: (o) => void calls.resolved.push(o),
    heartbeat: opts.heartbeat ?? (async () => undefined),
    pause: () => {
      calls.paused++;
      return () => undefined;
    },
    commitOffsetsIfNecessary: async (o) => void (o && calls.commits.push(o)),
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => true,
    isStale: () => false,
  };
  return { p, calls };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('KafkaHandoff', () => {
  it('commits last + 1 per partition only after the consumer made the batch durable', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0, 1] });
    const a = payload(batch('t', 0, [10, 11, 12]));
    const b = payload(batch('t', 1, [7]));
    const runs = [h.eachBatch(a.p), h.eachBatch(b.p)];
    const it = h.batches()[Symbol.asyncIterator]();
    const first = (await it.next()).value as StreamRecord[];
    // Both partitions' waiting batches become one write.
    expect(first.map((r) => r.position)).toEqual(['t/0@10', 't/0@11', 't/0@12', 't/1@7']);
    await tick();
    expect(a.calls.commits).toEqual([]); // not durable yet: nothing committed
    await h.commit(first);
    await Promise.all(runs);
    expect(a.calls.commits).toEqual([{ topics: [{ topic: 't', partitions: [{ partition: 0, offset: '13' }] }] }]);
    expect(b.calls.commits).toEqual([{ topics: [{ topic: 't', partitions: [{ partition: 1, offset: '8' }] }] }]);
    expect(a.calls.resolved).toEqual(['12']);
    expect(h.stats).toEqual({ delivered: 2, committed: 2, abandoned: 0 });
    expect(nextOffset('9007199254740993')).toBe('9007199254740994'); // offsets are int64, not doubles
  });

  it('gives up every batch in flight when a heartbeat fails (rebalance) and rethrows so kafkajs rejoins', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0, 1] });
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' });
    const a = payload(batch('t', 0, [1, 2]), { heartbeat: async () => Promise.reject(rebalancing) });
    const b = payload(batch('t', 1, [5]));
    const runA = h.eachBatch(a.p);
    const runB = h.eachBatch(b.p);
    const it = h.batches()[Symbol.asyncIterator]();
    const taken = (await it.next()).value as StreamRecord[];
    await expect(runA).rejects.toBe(rebalancing);
    await expect(runB).rejects.toBe(rebalancing);
    await h.commit(taken); // durable now, but too late: the partitions may have moved
    expect([...a.calls.commits, ...b.calls.commits]).toEqual([]);
    expect(h.stats).toMatchObject({ delivered: 2, committed: 0, abandoned: 2 });
  });

  it('ignores batches of partitions it does not hold, and after end() hands nothing out and pauses', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0] });
    const foreign = payload(batch('t', 3, [1]));
    await h.eachBatch(foreign.p); // returns at once, unresolved and uncommitted
    expect(foreign.calls).toEqual({ commits: [], resolved: [], paused: 0 });

    const queued = payload(batch('t', 0, [4]));
    const run = h.eachBatch(queued.p);
    h.end();
    await run;
    expect(queued.calls.commits).toEqual([]);
    const late = payload(batch('t', 0, [4]));
    await h.eachBatch(late.p);
    expect(late.calls.paused).toBe(1);
    const rest: StreamRecord[][] = [];
    for await (const b of h.batches()) rest.push(b);
    expect(rest).toEqual([]);
  });

  it('a rejoin while a batch is being written makes that batch uncommittable', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0] });
    const a = payload(batch('t', 0, [1]));
    const run = h.eachBatch(a.p);
    const it = h.batches()[Symbol.asyncIterator]();
    const taken = (await it.next()).value as StreamRecord[];
    h.joined({ t: [0] }); // same partition, new generation: kafkajs re-reads from the committed offset
    await h.commit(taken);
    await run;
    expect(a.calls.commits).toEqual([]);
  });

  it('counts a batch whose offset commit failed as given up and rethrows, so kafkajs rejoins', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0] });
    const a = payload(batch('t', 0, [3]));
    const refused = new Error('The coordinator is not aware of this member');
    a.p.commitOffsetsIfNecessary = async () => Promise.reject(refused);
    const run = h.eachBatch(a.p);
    const it = h.batches()[Symbol.asyncIterator]();
    await h.commit((await it.next()).value as StreamRecord[]);
    await expect(run).rejects.toBe(refused);
    expect(h.stats).toEqual({ delivered: 1, committed: 0, abandoned: 1 });
  });

  it('ends after idleMs without a batch, but not while the group is rebalancing', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5, idleMs: 40 });
    let ended = false;
    const drained = (async () => {
      for await (const b of h.batches()) await h.commit(b);
      ended = true;
    })();
    await new Promise((r) => setTimeout(r, 80));
    expect(ended).toBe(false); // not joined yet: the join itself is not idleness
    h.joined({ t: [0] });
    h.rebalancing();
    await new Promise((r) => setTimeout(r, 80));
    expect(ended).toBe(false); // rejoining does not count either
    h.joined({ t: [0] });
    await drained;
    expect(ended).toBe(true);
  });

  it('commits past a transaction marker that ends the batch (kafkajs filters it out of the messages)', async () => {
    const h = new KafkaHandoff({ heartbeatMs: 5 });
    h.joined({ t: [0] });
    const a = payload(batch('t', 0, [20, 21, 22], 22));
    const run = h.eachBatch(a.p);
    const it = h.batches()[Symbol.asyncIterator]();
    const taken = (await it.next()).value as StreamRecord[];
    expect(taken.map((r) => r.position)).toEqual(['t/0@20', 't/0@21']);
    await h.commit(taken);
    await run;
    expect(a.calls.commits).toEqual([{ topics: [{ topic: 't', partitions: [{ partition: 0, offset: '23' }] }] }]);
  });
});
