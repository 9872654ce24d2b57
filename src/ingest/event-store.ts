/**
 * The durable tracking-event store with group commit. Concurrent `submit` calls queue up; one
 * flush writes everything queued in a single DuckDB transaction and only then resolves each
 * caller, so an HTTP 2xx always follows a COMMIT (never the other way round). While one flush
 * commits, the next requests accumulate, so batches grow with load without any added delay.
 */
import crypto from 'node:crypto';
import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import type { RejectedEvent, TrackingEventInput } from './canonical-event.js';

/** What one submission did, reported once its batch committed. */
export interface SubmitResult {
  accepted: number;
  duplicates: number;
  deadLettered: number;
}

/** A shipment whose status moved forward because of a stored event. */
export interface StatusChange {
  shipmentId: string;
  trackingNumber: string;
  previousStatus: string;
  status: string;
  statusAt: Date;
  promisedAt: Date | null;
  /** The event that set the status. */
  eventId: string;
  source: string;
  /** When that event entered shipcast (for event → re-prediction latency). */
  receivedAt: Date;
}

/** Handed to the effects once a batch is durable. */
export interface CommittedBatch {
  changes: StatusChange[];
  accepted: number;
}

export interface EventStoreOptions {
  /** Events per transaction at most (default 5,000). */
  maxBatch?: number;
  /** Called after each commit, outside the transaction; must not throw. */
  onCommitted?: (batch: CommittedBatch) => void;
}

interface Pending {
  events: TrackingEventInput[];
  rejected: RejectedEvent[];
  receivedAt: Date;
  resolve: (r: SubmitResult) => void;
  reject: (e: unknown) => void;
}

const EVENT_STRUCT = JSON.stringify([
  Object.fromEntries(
    ['source', 'event_id', 'tracking_number', 'shipment_id', 'carrier', 'status', 'carrier_status_code', 'description', 'city', 'region', 'country', 'postal_code', 'occurred_at']
      .map((k) => [k, 'VARCHAR'])
      .concat([['lat', 'DOUBLE'], ['lng', 'DOUBLE']]),
  ),
]);
const DEAD_STRUCT = JSON.stringify([{ source: 'VARCHAR', event_id: 'VARCHAR', field: 'VARCHAR', reason: 'VARCHAR', payload: 'VARCHAR', payload_sha256: 'VARCHAR' }]);
const ADVANCE_STRUCT = JSON.stringify([{ shipment_id: 'VARCHAR', status: 'VARCHAR', occurred_at: 'VARCHAR' }]);

const INSERT_EVENTS = `
  INSERT INTO tracking_events (source, event_id, tracking_number, shipment_id, carrier, status, carrier_status_code, description,
                               city, region, country, postal_code, lat, lng, occurred_at, received_at)
  SELECT source, event_id, tracking_number, shipment_id, carrier, status, carrier_status_code, description,
         city, region, country, postal_code, lat, lng, occurred_at::TIMESTAMPTZ, $2::TIMESTAMPTZ
  FROM (SELECT unnest(from_json($1::JSON, '${EVENT_STRUCT}'), recursive := true))`;

/** DuckDB's ON CONFLICT path costs several times a plain insert, so it is only the fallback (see `flush`). */
const INSERT_EVENTS_SKIPPING_DUPLICATES = `${INSERT_EVENTS} ON CONFLICT DO NOTHING RETURNING source, event_id`;

const INSERT_DEAD = `
  INSERT INTO ingest_dead_letters (source, event_id, field, reason, payload, payload_sha256, received_at)
  SELECT source, event_id, field, reason, payload, payload_sha256, $2::TIMESTAMPTZ
  FROM (SELECT unnest(from_json($1::JSON, '${DEAD_STRUCT}'), recursive := true))
  ON CONFLICT (source, payload_sha256) DO NOTHING`;

/** Statuses at which the carrier has the parcel: the first one sets `shipped_at`. */
const CARRIER_HAS_IT = "('in_transit','delivery_delayed','out_for_delivery','failed_attempt','available_for_pickup','exception','return_to_sender','delivered')";

const ADVANCE = `
  UPDATE shipments AS s SET
    status = b.status,
    status_at = b.occurred_at::TIMESTAMPTZ,
    updated_at = $2::TIMESTAMPTZ,
    delivered_at = CASE WHEN b.status = 'delivered' THEN coalesce(s.delivered_at, b.occurred_at::TIMESTAMPTZ) ELSE s.delivered_at END,
    shipped_at = CASE WHEN s.shipped_at IS NULL AND b.status IN ${CARRIER_HAS_IT} THEN b.occurred_at::TIMESTAMPTZ ELSE s.shipped_at END
  FROM (SELECT unnest(from_json($1::JSON, '${ADVANCE_STRUCT}'), recursive := true)) b
  WHERE s.shipment_id = b.shipment_id`;

const key = (source: string, eventId: string) => `${source}\u0000${eventId}`;

function eventRow(e: TrackingEventInput, shipmentId: string | null) {
  return {
    source: e.source, event_id: e.eventId, tracking_number: e.trackingNumber, shipment_id: shipmentId, carrier: e.carrier, status: e.status,
    carrier_status_code: e.carrierStatusCode, description: e.description, city: e.city, region: e.region, country: e.country,
    postal_code: e.postalCode, occurred_at: e.occurredAt.toISOString(), lat: e.lat, lng: e.lng,
  };
}

/** The current state of a shipment, read inside the writing transaction. */
export interface ShipmentState {
  shipment_id: string;
  tracking_number: string;
  status: string;
  status_at: Date | null;
  promised_at: Date | null;
}

/** Reads shipments by `shipment_id` or `tracking_number` (one statement for the whole batch). */
export async function loadShipments(tx: SqlRunner, by: 'shipment_id' | 'tracking_number', values: readonly string[]): Promise<ShipmentState[]> {
  if (values.length === 0) return [];
  return tx.all<ShipmentState>(
    `SELECT shipment_id, tracking_number, status, status_at, promised_at FROM shipments
     WHERE ${by} IN (SELECT unnest(from_json($1::JSON, '["VARCHAR"]')))`,
    [JSON.stringify([...new Set(values)])],
  );
}

/** One candidate status per shipment: the latest event by event time. */
interface Candidate {
  shipmentId: string;
  event: TrackingEventInput;
  receivedAt: Date;
}

/**
 * Moves each shipment to its candidate status when the candidate is strictly newer (by
 * `occurred_at`) than the shipment's current status, so a late, older scan never moves it back.
 */
export async function advanceShipments(tx: SqlRunner, candidates: readonly Candidate[], current: ReadonlyMap<string, ShipmentState>, now: Date): Promise<StatusChange[]> {
  const changes: StatusChange[] = [];
  for (const c of candidates) {
    const cur = current.get(c.shipmentId);
    if (!cur) continue;
    if (cur.status_at !== null && c.event.occurredAt.getTime() <= cur.status_at.getTime()) continue;
    changes.push({
      shipmentId: c.shipmentId, trackingNumber: cur.tracking_number, previousStatus: cur.status, status: c.event.status,
      statusAt: c.event.occurredAt, promisedAt: cur.promised_at, eventId: c.event.eventId, source: c.event.source, receivedAt: c.receivedAt,
    });
  }
  if (changes.length > 0) {
    const rows = changes.map((c) => ({ shipment_id: c.shipmentId, status: c.status, occurred_at: c.statusAt.toISOString() }));
    await tx.run(ADVANCE, [JSON.stringify(rows), now]);
  }
  return changes;
}

function latestPerShipment(items: Array<{ shipmentId: string; event: TrackingEventInput; receivedAt: Date }>): Candidate[] {
  const best = new Map<string, Candidate>();
  for (const it of items) {
    const b = best.get(it.shipmentId);
    if (!b || it.event.occurredAt.getTime() > b.event.occurredAt.getTime()) best.set(it.shipmentId, it);
  }
  return [...best.values()];
}

const isDuplicateKey = (e: unknown) => /Constraint Error: Duplicate key/i.test((e as Error)?.message ?? '');

/** Writes tracking events and dead letters with group commit. */
export class TrackingEventStore {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly maxBatch: number;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly opts: EventStoreOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 5000;
  }

  /**
   * Queues events (and authentic-but-malformed ones for the dead-letter table) and resolves once
   * the transaction holding them committed. Duplicates by (source, event_id) are counted, not stored.
   */
  submit(events: readonly TrackingEventInput[], rejected: readonly RejectedEvent[] = []): Promise<SubmitResult> {
    if (events.length === 0 && rejected.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0, deadLettered: 0 });
    return new Promise<SubmitResult>((resolve, reject) => {
      this.queue.push({ events: [...events], rejected: [...rejected], receivedAt: new Date(), resolve, reject });
      this.kick();
    });
  }

  /** Resolves when everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Attaches stored events whose tracking number had no shipment yet to the shipment that now
   * exists, and moves those shipments' status accordingly. Returns the status changes.
   */
  async attachUnmatched(): Promise<StatusChange[]> {
    // Checked on the read connection first, so the periodic sweep holds the writer (and delays
    // group commits) only when there is something to attach.
    const pending = await this.warehouse.one<{ n: number }>(
      `SELECT count(*) AS n FROM tracking_events t JOIN shipments s ON s.tracking_number = t.tracking_number WHERE t.shipment_id IS NULL`,
    );
    if (!pending?.n) return [];
    const now = new Date();
    const changes = await this.warehouse.transaction(async (tx) => {
      const attached = await tx.all<{
        source: string; event_id: string; shipment_id: string; tracking_number: string; status: string; occurred_at: Date; received_at: Date;
      }>(
        `UPDATE tracking_events AS t SET shipment_id = s.shipment_id FROM shipments s
         WHERE t.shipment_id IS NULL AND t.tracking_number = s.tracking_number
         RETURNING t.source, t.event_id, t.shipment_id, t.tracking_number, t.status, t.occurred_at, t.received_at`,
      );
      const items = attached.map((r) => ({
        shipmentId: r.shipment_id,
        receivedAt: r.received_at,
        event: { source: r.source, eventId: r.event_id, trackingNumber: r.tracking_number, status: r.status, occurredAt: r.occurred_at } as TrackingEventInput,
      }));
      const current = await loadShipments(tx, 'shipment_id', items.map((i) => i.shipmentId));
      return advanceShipments(tx, latestPerShipment(items), new Map(current.map((r) => [r.shipment_id, r])), now);
    });
    if (changes.length > 0) this.opts.onCommitted?.({ changes, accepted: 0 });
    return changes;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length > 0) await this.flushSafely(this.take());
    })().finally(() => {
      this.flushing = undefined;
    });
  }

  private take(): Pending[] {
    let n = 0;
    let i = 0;
    while (i < this.queue.length && (i === 0 || n + this.queue[i].events.length <= this.maxBatch)) n += this.queue[i++].events.length;
    return this.queue.splice(0, i);
  }

  /** One transaction for the batch; if it fails, each submission is retried alone so one bad apple fails only itself. */
  private async flushSafely(batch: Pending[]): Promise<void> {
    const committed: CommittedBatch[] = [];
    try {
      committed.push(await this.flush(batch));
    } catch (e) {
      if (batch.length === 1) batch[0].reject(e);
      else
        for (const p of batch) {
          await this.flush([p]).then((c) => committed.push(c), (err: unknown) => p.reject(err));
        }
    }
    // Effects run after the acks were released and can never turn a commit into a failure.
    for (const c of committed) this.opts.onCommitted?.(c);
  }

  /**
   * Writes the batch in one transaction. Retried deliveries are rare, so the plain INSERT is tried
   * first; a duplicate key aborts that transaction and the batch is rewritten with ON CONFLICT.
   */
  private async flush(batch: Pending[]): Promise<CommittedBatch> {
    try {
      return await this.write(batch, false);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      return this.write(batch, true);
    }
  }

  private async write(batch: Pending[], skipDuplicates: boolean): Promise<CommittedBatch> {
    const now = new Date();
    // First occurrence of a (source, event_id) in the batch wins; later ones are duplicates.
    const seen = new Set<string>();
    const unique: Array<{ p: Pending; e: TrackingEventInput }> = [];
    for (const p of batch) {
      for (const e of p.events) {
        const k = key(e.source, e.eventId);
        if (seen.has(k)) continue;
        seen.add(k);
        unique.push({ p, e });
      }
    }
    const dead = batch.flatMap((p) =>
      p.rejected.map((r) => ({
        source: r.source, event_id: r.eventId, field: r.field, reason: r.reason, payload: r.payload,
        payload_sha256: crypto.createHash('sha256').update(`${r.field}\u0000${r.payload}`).digest('hex'),
      })),
    );
    const { stored, changes } = await this.warehouse.transaction(async (tx) => {
      const shipments = await loadShipments(tx, 'tracking_number', unique.map((u) => u.e.trackingNumber));
      const byTn = new Map(shipments.map((s) => [s.tracking_number, s]));
      let stored = unique;
      if (unique.length > 0) {
        const rows = JSON.stringify(unique.map((u) => eventRow(u.e, byTn.get(u.e.trackingNumber)?.shipment_id ?? null)));
        if (skipDuplicates) {
          const ins = await tx.all<{ source: string; event_id: string }>(INSERT_EVENTS_SKIPPING_DUPLICATES, [rows, now]);
          const fresh = new Set(ins.map((r) => key(r.source, r.event_id)));
          stored = unique.filter((u) => fresh.has(key(u.e.source, u.e.eventId)));
        } else {
          await tx.run(INSERT_EVENTS, [rows, now]);
        }
      }
      if (dead.length > 0) await tx.run(INSERT_DEAD, [JSON.stringify(dead), now]);
      const items = stored.flatMap((u) => {
        const s = byTn.get(u.e.trackingNumber);
        return s ? [{ shipmentId: s.shipment_id, event: u.e, receivedAt: u.p.receivedAt }] : [];
      });
      const current = new Map(shipments.map((s) => [s.shipment_id, s]));
      return { stored, changes: await advanceShipments(tx, latestPerShipment(items), current, now) };
    });
    const acceptedBy = new Map<Pending, number>();
    for (const u of stored) acceptedBy.set(u.p, (acceptedBy.get(u.p) ?? 0) + 1);
    for (const p of batch) {
      const accepted = acceptedBy.get(p) ?? 0;
      p.resolve({ accepted, duplicates: p.events.length - accepted, deadLettered: p.rejected.length });
    }
    return { changes, accepted: stored.length };
  }
}
