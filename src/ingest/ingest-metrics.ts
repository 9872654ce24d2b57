import { Counter, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of ingestion, registered on the app's own registry. */
export interface IngestMetrics {
  /** Events by source and outcome: received, accepted, duplicate, dead_lettered, ignored. */
  events: Counter<'source' | 'outcome'>;
  /** Requests refused before any event was read: unauthenticated, rate_limited, too_large, bad_content_type, bad_json, replayed. */
  rejected: Counter<'source' | 'reason'>;
  /** From the request arriving to its acknowledgement (after commit). */
  latency: Histogram<'source'>;
  /** Events written per group-commit transaction. */
  batchSize: Histogram;
  /** From an event entering shipcast to the ETA re-predicted because of it. */
  eventToPrediction: Histogram;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    events: new Counter({ name: 'shipcast_ingest_events_total', help: 'Ingested events by source and outcome', labelNames: ['source', 'outcome'], registers }),
    rejected: new Counter({ name: 'shipcast_ingest_rejected_requests_total', help: 'Webhook requests refused before processing, by reason', labelNames: ['source', 'reason'], registers }),
    latency: new Histogram({
      name: 'shipcast_ingest_latency_seconds', help: 'Webhook request latency up to the acknowledgement (after commit)', labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    }),
    batchSize: new Histogram({ name: 'shipcast_ingest_commit_batch_events', help: 'Events per group-commit transaction', buckets: [1, 5, 10, 50, 100, 500, 1000, 5000], registers }),
    eventToPrediction: new Histogram({
      name: 'shipcast_ingest_event_to_prediction_seconds', help: 'Time from an event arriving to the ETA re-predicted from it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
  };
}
