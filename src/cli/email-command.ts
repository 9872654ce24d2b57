import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { DomainEvents } from '../domain/events.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import { createEmailCapability } from '../email/email-capability.js';
import { createEtaPredictor } from '../ml/eta/predictor.js';
import { parseEmailKind, EMAIL_LOCALES, type EmailLocale } from '../email/kinds.js';
import { ValidationError } from '../errors.js';

export interface EmailPreviewOptions {
  kind: string;
  tracking: string;
  locale?: string;
  db?: string;
  html?: boolean;
}

function parseLocale(v: string | undefined): EmailLocale | undefined {
  if (v === undefined) return undefined;
  const hit = EMAIL_LOCALES.find((l) => l.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ValidationError('locale', `unsupported locale "${v}"; expected one of ${EMAIL_LOCALES.join(', ')}`);
  return hit;
}

export function registerEmailCommand(program: Command, rt: CliRuntime): void {
  const email = program.command('email').description('transactional email');
  email
    .command('preview')
    .description('render the email of a kind for a shipment, as it would be sent now (nothing is recorded)')
    .requiredOption('--kind <kind>', 'shipped, delay, out_for_delivery, delivered, failed_attempt, return_label, return_received, refund_issued')
    .requiredOption('--tracking <number>', 'tracking number')
    .option('--locale <locale>', "en or pt-BR (default: the customer's)")
    .option('--db <file>', 'DuckDB file')
    .option('--html', 'print the HTML part instead of the headers and text part')
    .action(async (opts: EmailPreviewOptions) => {
      const kind = parseEmailKind(opts.kind);
      const locale = parseLocale(opts.locale);
      await withWarehouse(rt, { db: opts.db }, async ({ config, log, warehouse }) => {
        // The active ETA model, as the worker would use at send time (the promise when none is trained).
        const predictor = await createEtaPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
        const cap = createEmailCapability({ config, log, warehouse, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }), predictor });
        try {
          const p = await cap.service.preview({ trackingNumber: opts.tracking, kind, locale });
          if (opts.html) {
            rt.out(p.html);
            return;
          }
          rt.out(`From: ${p.from}`);
          rt.out(`To: ${p.to}`);
          rt.out(`Subject: ${p.subject}`);
          rt.out(`Stream: ${p.stream}   Tags: ${p.tags.join(', ')}   Locale: ${p.locale}   Model: ${p.modelVersion ?? 'none (promised date)'}`);
          rt.out('');
          rt.out(p.text.trimEnd());
        } finally {
          await cap.close();
        }
      });
    });
}
