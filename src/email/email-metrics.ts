import { Counter, Gauge, type Registry } from 'prom-client';

/** Email counters, registered on the app's own registry. */
export interface EmailMetrics {
  enqueued: Counter<'kind' | 'stream' | 'status'>;
  sent: Counter<'kind' | 'stream' | 'provider'>;
  retried: Counter<'kind' | 'status'>;
  failed: Counter<'kind' | 'stream'>;
  /** Next-best actions carried by an email, by the action the message actually carries. */
  nbaActions: Counter<'action'>;
  /** Promotional next-best actions replaced by the transactional delay notice, by cause. */
  nbaFallbacks: Counter<'action' | 'reason'>;
  /** The promotional stream's complaint rate over the guardrail window, as last measured. */
  promoComplaintRate: Gauge;
  /** 1 while the complaint-rate guardrail stops promotional actions. */
  promoGuardrailTripped: Gauge;
  /** Promotional actions stopped by the guardrail. */
  promoGuardrailStops: Counter<'action'>;
}

export function createEmailMetrics(registry: Registry): EmailMetrics {
  return {
    enqueued: new Counter({ name: 'shipcast_email_enqueued_total', help: 'Emails created, by initial status (queued, suppressed, refused)', labelNames: ['kind', 'stream', 'status'], registers: [registry] }),
    sent: new Counter({ name: 'shipcast_email_sent_total', help: 'Emails accepted by the provider', labelNames: ['kind', 'stream', 'provider'], registers: [registry] }),
    retried: new Counter({ name: 'shipcast_email_retries_total', help: 'Send attempts that will be retried (429, 5xx, network)', labelNames: ['kind', 'status'], registers: [registry] }),
    failed: new Counter({ name: 'shipcast_email_failed_total', help: 'Emails that failed permanently', labelNames: ['kind', 'stream'], registers: [registry] }),
    nbaActions: new Counter({ name: 'shipcast_email_nba_actions_total', help: 'Delay emails enqueued with a next-best action, by the action they carry', labelNames: ['action'], registers: [registry] }),
    nbaFallbacks: new Counter({ name: 'shipcast_email_nba_fallbacks_total', help: 'Promotional next-best actions sent as the transactional delay notice instead, by cause', labelNames: ['action', 'reason'], registers: [registry] }),
    promoComplaintRate: new Gauge({ name: 'shipcast_email_promo_complaint_rate', help: 'Promotional complaint rate (complained / delivered) over the guardrail window', registers: [registry] }),
    promoGuardrailTripped: new Gauge({ name: 'shipcast_email_promo_guardrail_tripped', help: '1 while the complaint-rate guardrail stops promotional actions', registers: [registry] }),
    promoGuardrailStops: new Counter({ name: 'shipcast_email_promo_guardrail_stops_total', help: 'Promotional actions stopped by the complaint-rate guardrail', labelNames: ['action'], registers: [registry] }),
  };
}
