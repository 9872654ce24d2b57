import { EventEmitter } from 'node:events';
import type { EtaPrediction } from './eta.js';

/** Milestones the email workflow reacts to. */
export type ShipmentMilestone =
  | 'shipped'
  | 'delayed'
  | 'exception'
  | 'predictive_delay'
  | 'out_for_delivery'
  | 'delivered'
  | 'failed_attempt'
  | 'return_initiated';

export interface ShipmentMilestoneEvent {
  type: 'shipment.milestone';
  milestone: ShipmentMilestone;
  shipmentId: string;
  trackingNumber: string;
  /** Identifies the cause (the tracking event id, or the prediction) so consumers can dedupe. */
  causeId: string;
  occurredAt: Date;
}

export interface ShipmentUpdatedEvent {
  type: 'shipment.updated';
  shipmentId: string;
  trackingNumber: string;
  status: string;
  statusAt: Date;
  eta?: EtaPrediction;
}

export interface DomainEventMap {
  'shipment.milestone': ShipmentMilestoneEvent;
  'shipment.updated': ShipmentUpdatedEvent;
}

/**
 * In-process domain event bus passed through the app context. Ingestion publishes; email and
 * GraphQL subscriptions consume. Handlers run asynchronously and their failures are reported to
 * `onError`, never to the publisher.
 */
export class DomainEvents {
  private readonly emitter = new EventEmitter();
  constructor(private readonly onError: (err: unknown, event: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(0);
  }

  publish<K extends keyof DomainEventMap>(type: K, event: DomainEventMap[K]): void {
    this.emitter.emit(type, event);
  }

  subscribe<K extends keyof DomainEventMap>(type: K, handler: (e: DomainEventMap[K]) => void | Promise<void>): () => void {
    const wrapped = (e: DomainEventMap[K]) => {
      try {
        const r = handler(e);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.onError(err, e));
      } catch (err) {
        this.onError(err, e);
      }
    };
    this.emitter.on(type, wrapped);
    return () => this.emitter.off(type, wrapped);
  }
}
