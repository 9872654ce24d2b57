import { Counter, type Registry } from 'prom-client';

/** Email counters, registered on the app's own registry. */
export interface EmailMetrics {
  enqueued: Counter<'kind' | 'stream' | 'status'>;
  sent: Counter<'kind' | 'stream' | 'provider'>;
  retried: Counter<'kind' | 'status'>;
  failed: Counter<'kind' | 'stream'>;
}

export function createEmailMetrics(registry: Registry): EmailMetrics {
  return {
    enqueued: new Counter({ name: 'shipcast_email_enqueued_total', help: 'Emails created, by initial status (queued, suppressed, refused)', labelNames: ['kind', 'stream', 'status'], registers: [registry] }),
    sent: new Counter({ name: 'shipcast_email_sent_total', help: 'Emails accepted by the provider', labelNames: ['kind', 'stream', 'provider'], registers: [registry] }),
    retried: new Counter({ name: 'shipcast_email_retries_total', help: 'Send attempts that will be retried (429, 5xx, network)', labelNames: ['kind', 'status'], registers: [registry] }),
    failed: new Counter({ name: 'shipcast_email_failed_total', help: 'Emails that failed permanently', labelNames: ['kind', 'stream'], registers: [registry] }),
  };
}
