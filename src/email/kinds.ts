import type { ShipmentMilestone } from '../domain/events.js';
import { ValidationError } from '../errors.js';

/** Every email shipcast sends, in lower_snake (the Mailgun `o:tag` and `email_messages.kind`). */
export const EMAIL_KINDS = [
  'shipped', 'delay', 'out_for_delivery', 'delivered', 'failed_attempt', 'return_label', 'return_received', 'refund_issued',
] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

export type EmailStream = 'transactional' | 'promotional';

export const EMAIL_LOCALES = ['en', 'pt-BR'] as const;
export type EmailLocale = (typeof EMAIL_LOCALES)[number];

/**
 * Kinds that are time-critical for the customer (they may act on them today) and therefore ignore
 * quiet hours. Everything else waits for the morning in the customer's zone.
 */
export const URGENT_KINDS: ReadonlySet<EmailKind> = new Set(['delay', 'out_for_delivery', 'failed_attempt']);

export function parseEmailKind(value: string, field = 'kind'): EmailKind {
  const k = value.trim().toLowerCase();
  if ((EMAIL_KINDS as readonly string[]).includes(k)) return k as EmailKind;
  throw new ValidationError(field, `unknown email kind "${value}"; expected one of ${EMAIL_KINDS.join(', ')}`);
}

/** Maps any BCP-47 tag to a supported template locale (pt, pt-PT, pt-BR → pt-BR; else en). */
export function resolveLocale(tag: string | null | undefined): EmailLocale {
  return tag && /^pt\b/i.test(tag) ? 'pt-BR' : 'en';
}

/** An offer attached to a message (e.g. a next-best-action discount). Its presence makes the message promotional. */
export interface EmailOffer {
  /** The action that produced it, e.g. `discount_10`. */
  action: string;
  /** Percentage off, when the offer is a discount. */
  percentOff?: number;
  /** Fixed amount off, in the order's currency, when the offer is a discount of an amount. */
  amountOff?: number;
  /** Coupon code shown to the customer. */
  code?: string;
}

/**
 * The stream classifier. The template author never chooses the stream: any content that carries
 * an offer is promotional, everything else is transactional.
 */
export function classifyStream(content: { offer?: EmailOffer | null }): EmailStream {
  return content.offer ? 'promotional' : 'transactional';
}

/** How a milestone event becomes an email. `once` sends at most one per shipment; `per_day` one per UTC day. */
export interface WorkflowRule {
  kind: EmailKind;
  dedupe: 'once' | 'per_day';
}

export type EmailWorkflow = Partial<Record<ShipmentMilestone, WorkflowRule>>;

/**
 * The default workflow (documented in docs/EMAIL.md). Delays can recur, so they are limited to one
 * email per day per shipment whatever their cause (carrier-reported, exception or predictive);
 * milestones that happen once per shipment send once even if the carrier reports them twice.
 */
export const DEFAULT_WORKFLOW: EmailWorkflow = {
  shipped: { kind: 'shipped', dedupe: 'once' },
  delayed: { kind: 'delay', dedupe: 'per_day' },
  exception: { kind: 'delay', dedupe: 'per_day' },
  predictive_delay: { kind: 'delay', dedupe: 'per_day' },
  out_for_delivery: { kind: 'out_for_delivery', dedupe: 'per_day' },
  delivered: { kind: 'delivered', dedupe: 'once' },
  failed_attempt: { kind: 'failed_attempt', dedupe: 'per_day' },
  return_initiated: { kind: 'return_label', dedupe: 'once' },
};

/**
 * The idempotency key of a milestone-triggered email: (shipment, kind, milestone) for `once`;
 * (shipment, kind, day) for `per_day`, so different causes of a delay on one day collapse.
 */
export function milestoneKey(shipmentId: string, milestone: ShipmentMilestone, rule: WorkflowRule, occurredAt: Date): string {
  return rule.dedupe === 'per_day'
    ? `${shipmentId}|${rule.kind}|${occurredAt.toISOString().slice(0, 10)}`
    : `${shipmentId}|${rule.kind}|${milestone}`;
}
