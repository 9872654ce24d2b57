import type { Logger } from '../log.js';
import type { DomainEvents, ShipmentMilestoneEvent } from '../domain/events.js';
import { DEFAULT_WORKFLOW, milestoneKey, type EmailWorkflow } from './kinds.js';
import type { EmailService, EnqueueRequest } from './email-service.js';

/** The enqueue request a milestone maps to under a workflow (delay emails ask for the next-best action), or undefined when it sends nothing. */
export function milestoneRequest(e: ShipmentMilestoneEvent, workflow: EmailWorkflow = DEFAULT_WORKFLOW): EnqueueRequest | undefined {
  const rule = workflow[e.milestone];
  if (!rule) return undefined;
  const req: EnqueueRequest = { shipmentId: e.shipmentId, kind: rule.kind, trigger: e.milestone, idempotencyKey: milestoneKey(e.shipmentId, e.milestone, rule, e.occurredAt) };
  // The delay email is where the next-best action is taken (apology, reschedule, discount, refund).
  if (rule.kind === 'delay') req.askNextBestAction = true;
  return req;
}

export interface MilestoneSubscription {
  /** Enqueues everything buffered so far. */
  flush(): Promise<void>;
  /** Stops listening and flushes. */
  close(): Promise<void>;
}

/**
 * Subscribes the email workflow to `shipment.milestone` events. Events arriving within `batchMs`
 * are enqueued together (an ingest burst becomes one transaction); the idempotency key makes a
 * duplicate or replayed event a no-op. If a batch fails, each request is retried alone so one bad
 * event (e.g. an unknown shipment) cannot drop the others; failures are logged with their cause.
 */
export function subscribeMilestones(
  events: DomainEvents,
  service: EmailService,
  log: Logger,
  workflow: EmailWorkflow = DEFAULT_WORKFLOW,
  opts: { batchMs?: number } = {},
): MilestoneSubscription {
  const batchMs = opts.batchMs ?? 5;
  let pending: EnqueueRequest[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const drain = async (batch: EnqueueRequest[]) => {
    try {
      await service.enqueueMany(batch);
    } catch {
      for (const req of batch) {
        await service.enqueue(req).catch((err: unknown) => log.error({ err, key: req.idempotencyKey, trigger: req.trigger }, 'milestone email not enqueued'));
      }
    }
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length > 0) inFlight = inFlight.then(() => drain(batch));
    return inFlight;
  };
  const unsubscribe = events.subscribe('shipment.milestone', (e) => {
    const req = milestoneRequest(e, workflow);
    if (!req) return;
    pending.push(req);
    timer ??= setTimeout(() => void flush(), batchMs);
  });
  return {
    flush,
    async close() {
      unsubscribe();
      await flush();
    },
  };
}
