/**
 * The handoff between kafkajs' `eachBatch` (push: one call per topic-partition batch) and a
 * `StreamSource` (pull: `batches()` then `commit(batch)` once durable). It holds no connection: the
 * kafkajs-facing part (kafka-source.ts) feeds it `EachBatchPayload`s and group-membership events,
 * so the commit rules below are exercised with kafkajs' own payloads and a real broker alike.
 *
 * Rules:
 * - `eachBatch` does not return until the consumer made the batch durable (or gave it up). kafkajs'
 *   fetcher does not fetch a partition again before its batches were handled, so at most one batch
 *   per partition is in flight and memory stays bounded by the fetch size (backpressure).
 * - The offset committed is `last + 1` of that partition's batch, only after `commit(batch)`.
 * - While a batch waits, the member heartbeats. A failed heartbeat (the group is rebalancing, the
 *   coordinator moved) abandons every batch in flight: none of them is committed by this member, and
 *   `eachBatch` rethrows so kafkajs rejoins at once. Whoever owns the partition next re-reads from
 *   the last committed offset; the store absorbs the re-delivered events as duplicates.
 * - A batch that arrives for a partition this member no longer holds, or after a rejoin started by
 *   another path, is never committed either (same re-read rule).
 * - After `end()` nothing new is handed out; batches already handed out are still committed.
 */
import type { EachBatchPayload } from 'kafkajs';
import type { StreamRecord } from './stream-source.js';

/** What the handoff reports as it goes (for logs and metrics). */
export interface HandoffStats {
  /** Kafka batches handed to the consumer. */
  delivered: number;
  /** Batches whose offsets were committed after they were durable. */
  committed: number;
  /** Batches given up because of a rebalance, a stale assignment or shutdown (re-read later). */
  abandoned: number;
}

export interface HandoffOptions {
  /** How often a waiting batch heartbeats (kafkajs throttles to its own `heartbeatInterval`). */
  heartbeatMs?: number;
  /** Records per yielded batch at most when several partitions' batches are waiting (default 5,000). */
  maxRecords?: number;
  /** Ends the stream once nothing was delivered for this long while in the group (rejoining does not count). */
  idleMs?: number;
  /** Told about each commit or abandonment; must not throw. */
  onEvent?: (e: { kind: 'committed' | 'abandoned'; topic: string; partition: number; lastOffset: string; reason?: string }) => void;
}

type Outcome = { kind: 'durable' } | { kind: 'abandoned'; reason: string; error?: unknown };

interface InFlight {
  topic: string;
  partition: number;
  lastOffset: string;
  records: StreamRecord[];
  /** The membership epoch (count of group joins) the batch was fetched under. */
  epoch: number;
  /** True once durable or abandoned: the outcome is final. */
  settled: boolean;
  settle: (o: Outcome) => void;
  outcome: Promise<Outcome>;
  /** Resolves once `eachBatch` finished with the batch (offsets committed or not). */
  done: Promise<void>;
  finish: () => void;
}

/** `topic/partition@offset`, as stored in dead-letter reasons. */
export const kafkaPosition = (topic: string, partition: number, offset: string) => `${topic}/${partition}@${offset}`;

/** The offset to commit after `lastOffset` was processed (Kafka's committed offset is the next one to read). */
export const nextOffset = (lastOffset: string) => (BigInt(lastOffset) + 1n).toString();

/** Bridges kafkajs' `eachBatch` to `StreamSource.batches()` / `commit()`. */
export class KafkaHandoff {
  readonly stats: HandoffStats = { delivered: 0, committed: 0, abandoned: 0 };
  private readonly queue: InFlight[] = [];
  private readonly inFlight = new Set<InFlight>();
  private readonly byYield = new WeakMap<readonly StreamRecord[], InFlight[]>();
  private assignment = new Map<string, Set<number>>();
  private epoch = 0;
  /** Between a failed heartbeat (or kafkajs' REBALANCING) and the next join: idleness is not counted. */
  private rejoining = false;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  private readonly maxRecords: number;

  constructor(private readonly opts: HandoffOptions = {}) {
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.maxRecords = opts.maxRecords ?? 5000;
  }

  /** The group was (re)joined with this assignment: batches fetched under an older one are given up. */
  joined(assignment: Record<string, readonly number[]>): void {
    this.epoch++;
    this.assignment = new Map(Object.entries(assignment).map(([t, ps]) => [t, new Set(ps)]));
    this.abandonAll('the group rebalanced');
    this.rejoining = false;
    this.touch();
  }

  /** The group is rebalancing (kafkajs noticed it outside a batch): nothing in flight may commit. */
  rebalancing(): void {
    this.pauseIdle();
    this.abandonAll('the group is rebalancing');
  }

  /** kafkajs gave up (a crash it does not restart from): the stream fails with this error. */
  fail(error: unknown): void {
    this.failure = error;
    this.end();
  }

  /** Stops handing out batches; those already handed out are still committed by `commit`. */
  end(): void {
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const h of this.queue.splice(0)) this.abandon(h, { kind: 'abandoned', reason: 'the source is closing' });
    this.wake?.();
  }

  /** The `eachBatch` handler (with `eachBatchAutoResolve: false` and `autoCommit: false`). */
  async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.ended) {
      // Closing: keep kafkajs from fetching this partition again until disconnect.
      payload.pause();
      return;
    }
    if (batch.messages.length === 0 || payload.isStale() || !this.holds(batch.topic, batch.partition)) return;
    const records = batch.messages.map((m) => ({
      // A tombstone (null value) is kept as an empty record: the parser dead-letters it with its position.
      value: m.value?.toString('utf8') ?? '',
      position: kafkaPosition(batch.topic, batch.partition, m.offset),
    }));
    // The batch's last offset, not its last message's: records after that message are control or
    // aborted ones kafkajs filtered out, and committing past them keeps the group from stopping there.
    const h = this.enqueue(batch.topic, batch.partition, records, batch.lastOffset());
    const beat = setInterval(() => {
      payload.heartbeat().catch((error: unknown) => {
        this.pauseIdle();
        this.abandonAll(`heartbeat failed: ${(error as Error).message}`, error);
      });
    }, this.heartbeatMs);
    try {
      const outcome = await h.outcome;
      if (outcome.kind === 'abandoned') {
        if (outcome.error !== undefined) throw outcome.error;
        return;
      }
      if (h.epoch !== this.epoch || payload.isStale() || !this.holds(h.topic, h.partition)) {
        this.count('abandoned', h, 'the partition was reassigned while the batch was written');
        return;
      }
      payload.resolveOffset(h.lastOffset);
      try {
        await payload.commitOffsetsIfNecessary({ topics: [{ topic: h.topic, partitions: [{ partition: h.partition, offset: nextOffset(h.lastOffset) }] }] });
      } catch (error) {
        // E.g. the group started rebalancing: the batch is durable but will be re-read; kafkajs rejoins.
        this.count('abandoned', h, `offset commit failed: ${(error as Error).message}`);
        throw error;
      }
      this.count('committed', h);
    } finally {
      clearInterval(beat);
      this.inFlight.delete(h);
      h.finish();
      this.touch();
    }
  }

  /** Waiting batches, merged up to `maxRecords`; ends after `end()` once the queue is empty. */
  async *batches(): AsyncGenerator<StreamRecord[]> {
    this.touch();
    for (;;) {
      while (this.queue.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
      if (this.queue.length === 0) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      const taken: InFlight[] = [this.queue.shift()!];
      let n = taken[0].records.length;
      while (this.queue.length > 0 && n + this.queue[0].records.length <= this.maxRecords) {
        const h = this.queue.shift()!;
        n += h.records.length;
        taken.push(h);
      }
      const records = taken.length === 1 ? taken[0].records : taken.flatMap((h) => h.records);
      this.byYield.set(records, taken);
      yield records;
    }
  }

  /**
   * Marks a yielded batch durable and resolves once each partition's offsets were committed (or
   * skipped because the partition moved on; the records were durable either way).
   */
  async commit(records: readonly StreamRecord[]): Promise<void> {
    const taken = this.byYield.get(records);
    if (!taken) throw new Error('commit() of a batch this source did not yield');
    this.byYield.delete(records);
    for (const h of taken) h.settle({ kind: 'durable' });
    await Promise.all(taken.map((h) => h.done));
  }

  /**
   * Ends the stream, gives up every batch that was not made durable (a consumer that stopped early
   * never will) and resolves once no `eachBatch` call is left waiting, so the consumer can leave.
   */
  async close(): Promise<void> {
    this.end();
    this.abandonAll('the source closed before the batch was durable');
    await Promise.all([...this.inFlight].map((h) => h.done));
  }

  private holds(topic: string, partition: number): boolean {
    return this.assignment.get(topic)?.has(partition) ?? false;
  }

  private enqueue(topic: string, partition: number, records: StreamRecord[], lastOffset: string): InFlight {
    let settle!: (o: Outcome) => void;
    let finish!: () => void;
    const outcome = new Promise<Outcome>((r) => (settle = r));
    const done = new Promise<void>((r) => (finish = r));
    const h: InFlight = {
      topic, partition, lastOffset, records, epoch: this.epoch, settled: false, outcome, done, finish,
      settle: (o) => {
        if (h.settled) return;
        h.settled = true;
        settle(o);
      },
    };
    this.inFlight.add(h);
    this.queue.push(h);
    this.stats.delivered++;
    this.touch();
    this.wake?.();
    return h;
  }

  private abandon(h: InFlight, o: Extract<Outcome, { kind: 'abandoned' }>): void {
    if (h.settled) return;
    const i = this.queue.indexOf(h);
    if (i >= 0) this.queue.splice(i, 1);
    this.count('abandoned', h, o.reason);
    h.settle(o);
  }

  private abandonAll(reason: string, error?: unknown): void {
    for (const h of [...this.inFlight]) this.abandon(h, { kind: 'abandoned', reason, error });
  }

  private count(kind: 'committed' | 'abandoned', h: InFlight, reason?: string): void {
    this.stats[kind]++;
    this.opts.onEvent?.({ kind, topic: h.topic, partition: h.partition, lastOffset: h.lastOffset, reason });
  }

  private pauseIdle(): void {
    this.rejoining = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
  }

  private touch(): void {
    if (this.opts.idleMs === undefined || this.ended || this.epoch === 0 || this.rejoining) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.inFlight.size === 0) this.end();
      else this.touch();
    }, this.opts.idleMs);
    this.idleTimer.unref();
  }
}
