import type { Logger } from '../log.js';
import type { DomainEvents, ShipmentMilestoneEvent } from '../domain/events.js';
import { DEFAULT_WORKFLOW, milestoneKey, type EmailWorkflow } from './kinds.js';
import type { EmailService, QueuedMessage } from './email-service.js';

/**
 * Turns one milestone into its email per the workflow. The idempotency key makes a duplicate or
 * replayed event a no-op that returns the message already queued. Milestones without a rule are
 * ignored (undefined).
 */
export async function handleMilestone(service: EmailService, e: ShipmentMilestoneEvent, workflow: EmailWorkflow = DEFAULT_WORKFLOW): Promise<QueuedMessage | undefined> {
  const rule = workflow[e.milestone];
  if (!rule) return undefined;
  return service.enqueue({ shipmentId: e.shipmentId, kind: rule.kind, trigger: e.milestone, idempotencyKey: milestoneKey(e.shipmentId, e.milestone, rule, e.occurredAt) });
}

/** Subscribes the email workflow to `shipment.milestone` events; returns the unsubscribe function. */
export function subscribeMilestones(events: DomainEvents, service: EmailService, log: Logger, workflow: EmailWorkflow = DEFAULT_WORKFLOW): () => void {
  return events.subscribe('shipment.milestone', async (e) => {
    const m = await handleMilestone(service, e, workflow);
    if (m && !m.created) log.debug({ messageId: m.id, milestone: e.milestone, causeId: e.causeId }, 'duplicate milestone; email already queued');
  });
}
