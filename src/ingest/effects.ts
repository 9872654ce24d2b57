/**
 * What a stored event causes: domain events for subscribers (GraphQL `shipmentUpdated`, email
 * milestones) and an in-flight ETA re-prediction. Runs after the commit, never before an ack.
 */
import type { DomainEvents, ShipmentMilestone } from '../domain/events.js';
import type { EtaPrediction, EtaPredictor } from '../domain/eta.js';
import type { Logger } from '../log.js';
import type { CommittedBatch, StatusChange } from './event-store.js';
import type { IngestMetrics } from './ingest-metrics.js';

const BEFORE_HANDOFF = new Set(['pending', 'info_received']);

const MILESTONE_OF: Readonly<Record<string, ShipmentMilestone>> = {
  delivery_delayed: 'delayed',
  exception: 'exception',
  out_for_delivery: 'out_for_delivery',
  delivered: 'delivered',
  failed_attempt: 'failed_attempt',
  return_to_sender: 'return_initiated',
};

/** The milestone a status change means, if any (`shipped` is the hand-off to the carrier). */
export function milestoneFor(previousStatus: string, status: string): ShipmentMilestone | undefined {
  if (previousStatus === status) return undefined;
  if (status === 'in_transit') return BEFORE_HANDOFF.has(previousStatus) ? 'shipped' : undefined;
  return MILESTONE_OF[status];
}

/** True when the window's P90 falls after the promise shown to the customer. */
export function isPredictiveDelay(eta: EtaPrediction, promisedAt: Date | null): boolean {
  return promisedAt !== null && eta.p90.getTime() > promisedAt.getTime();
}

export interface EffectsDeps {
  events: DomainEvents;
  log: Logger;
  metrics: IngestMetrics;
  /** The ETA predictor, when the app has one (looked up on each use: it may load after ingestion). */
  predictor: () => EtaPredictor | undefined;
}

/**
 * Builds the post-commit hook of the event store. Predictions are coalesced: while one runs,
 * further changes accumulate and go into the next single batched `predict` call.
 */
export function createIngestEffects(deps: EffectsDeps): { onCommitted: (b: CommittedBatch) => void; idle: () => Promise<void> } {
  let pending = new Map<string, StatusChange>();
  let running: Promise<void> | undefined;

  const publishUpdated = (c: StatusChange, eta?: EtaPrediction) =>
    deps.events.publish('shipment.updated', { type: 'shipment.updated', shipmentId: c.shipmentId, trackingNumber: c.trackingNumber, status: c.status, statusAt: c.statusAt, eta });

  const predictBatch = async (changes: StatusChange[], predictor: EtaPredictor) => {
    let etas = new Map<string, EtaPrediction>();
    try {
      etas = await predictor.predict(changes.map((c) => c.shipmentId));
    } catch (err) {
      deps.log.error({ err, shipments: changes.length }, 're-prediction after ingest failed');
    }
    const done = Date.now();
    for (const c of changes) {
      const eta = etas.get(c.shipmentId);
      if (eta) deps.metrics.eventToPrediction.observe((done - c.receivedAt.getTime()) / 1000);
      publishUpdated(c, eta);
      if (eta && isPredictiveDelay(eta, c.promisedAt)) {
        deps.events.publish('shipment.milestone', {
          type: 'shipment.milestone', milestone: 'predictive_delay', shipmentId: c.shipmentId, trackingNumber: c.trackingNumber,
          causeId: `predictive_delay:${c.source}:${c.eventId}`, occurredAt: new Date(done),
        });
      }
    }
  };

  const pump = () => {
    if (running) return;
    running = (async () => {
      while (pending.size > 0) {
        const predictor = deps.predictor();
        const batch = [...pending.values()];
        pending = new Map();
        if (predictor?.activeVersion()) await predictBatch(batch, predictor);
        else for (const c of batch) publishUpdated(c);
      }
    })().finally(() => {
      running = undefined;
    });
  };

  return {
    onCommitted(b) {
      for (const c of b.changes) {
        const m = milestoneFor(c.previousStatus, c.status);
        if (m) {
          deps.events.publish('shipment.milestone', {
            type: 'shipment.milestone', milestone: m, shipmentId: c.shipmentId, trackingNumber: c.trackingNumber, causeId: `${c.source}:${c.eventId}`, occurredAt: c.statusAt,
          });
        }
        pending.set(c.shipmentId, c);
      }
      pump();
    },
    async idle() {
      while (running) await running;
    },
  };
}
