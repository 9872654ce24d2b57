import path from 'node:path';
import type { Config } from '../config.js';
import type { EtaPredictor } from '../domain/eta.js';
import type { NextBestActionService } from '../domain/nba.js';
import type { Route } from '../http/router.js';
import { createLinkSigner, resolveLinkSecret, type LinkSigner } from './link-tokens.js';
import { createTemplateRenderer } from './templates/render.js';
import { createOutboxMailer } from './mailers/outbox-mailer.js';
import { createMailgunMailer, requireMailgunKey } from './mailers/mailgun-mailer.js';
import type { Mailer } from './mailers/mailer.js';
import type { Senders } from './compose.js';
import { createEmailService, type EmailService } from './email-service.js';
import { createOutboxWorker, type OutboxWorker, type WorkerOptions } from './outbox-worker.js';
import { createEmailMetrics } from './email-metrics.js';
import { emailRoutes } from './email-routes.js';
import { subscribeMilestones } from './milestone-triggers.js';
import { DEFAULT_WORKFLOW, type EmailWorkflow } from './kinds.js';
import { createComplaintGuardrail, type ComplaintGuardrail } from './complaint-guardrail.js';
import type { DiscountTerms } from './delay-actions.js';
import type { CoreDeps } from '../core-deps.js';

/** Domains used when no Mailgun domain is configured (the outbox provider): `.invalid` never resolves. */
const LOCAL_DOMAINS = { transactional: 'notify.shipcast.invalid', promotional: 'offers.shipcast.invalid' };

/**
 * One sending identity per stream. With Mailgun, promotional mail needs its own
 * `MAILGUN_PROMO_DOMAIN`; without it, promotional messages are refused rather than mixed in.
 */
export function sendersFromConfig(config: Config, brand: string): Senders {
  const mg = config.mail.mailgun;
  const tDomain = mg.domain ?? LOCAL_DOMAINS.transactional;
  const pDomain = mg.promoDomain ?? (config.mail.provider === 'outbox' ? LOCAL_DOMAINS.promotional : undefined);
  return {
    transactional: { domain: tDomain, from: `${brand} <shipping@${tDomain}>` },
    promotional: pDomain ? { domain: pDomain, from: `${brand} <offers@${pDomain}>` } : undefined,
  };
}

/** The configured provider: `outbox` (default, `.eml` files under `<dataDir>/outbox`) or `mailgun`. */
export function mailerFromConfig(config: Config): Mailer {
  if (config.mail.provider === 'mailgun') {
    return createMailgunMailer({ apiKey: requireMailgunKey(config.mail.mailgun.apiKey), url: config.mail.mailgun.url, testMode: config.env === 'test' });
  }
  return createOutboxMailer(path.join(config.dataDir, 'outbox'));
}

export interface EmailCapability {
  service: EmailService;
  worker: OutboxWorker;
  signer: LinkSigner;
  mailer: Mailer;
  routes: Route[];
  /** The promotional complaint-rate guardrail (config.mail.promoGuardrail). */
  guardrail: ComplaintGuardrail;
  /** Starts the outbox worker. */
  start(): Promise<void>;
  /** Unsubscribes from events, stops the worker, closes the mailer. */
  close(): Promise<void>;
}

export interface EmailCapabilityDeps extends CoreDeps {
  predictor?: EtaPredictor;
  /** Overrides the configured provider (tests, benchmarks). */
  mailer?: Mailer;
  workflow?: EmailWorkflow;
  worker?: WorkerOptions;
  brand?: string;
  /** Chooses the action of each delay email; without it delay emails are the plain notice. */
  nextBestAction?: NextBestActionService;
  /** What a `discount_code` action gives (default 10.00 off in the order's currency, the generator's unit). */
  discount?: DiscountTerms;
  /** Reuse of one complaint-rate measurement, ms (default 60 s). */
  guardrailCacheMs?: number;
}

/** Builds the email capability: mailer, composer, outbox service and worker, milestone triggers, routes. */
export function createEmailCapability(deps: EmailCapabilityDeps): EmailCapability {
  const { config, warehouse } = deps;
  const log = deps.log.child({ module: 'email' });
  const brand = deps.brand ?? 'Shipcast';
  const secret = resolveLinkSecret(config.linkSecret, config.dataDir);
  const signer = createLinkSigner(secret);
  const mailer = deps.mailer ?? mailerFromConfig(config);
  const metrics = createEmailMetrics(deps.metrics);
  const compose = { renderer: createTemplateRenderer(), signer, senders: sendersFromConfig(config, brand), publicUrl: config.http.publicUrl, brand };
  const { complaintLimit, windowDays } = config.mail.promoGuardrail;
  const guardrail = createComplaintGuardrail({ warehouse, limit: complaintLimit, windowDays, log, metrics, cacheMs: deps.guardrailCacheMs });
  const worker = createOutboxWorker({ warehouse, mailer, compose, predictor: deps.predictor, log, metrics, guardrail }, deps.worker);
  const service = createEmailService({
    warehouse, compose, predictor: deps.predictor, log, metrics, provider: mailer.name, onQueued: () => worker.wake(),
    nextBestAction: deps.nextBestAction, guardrail, discount: { key: secret, terms: deps.discount ?? { amountOff: 10 } },
  });
  const triggers = subscribeMilestones(deps.events, service, log, deps.workflow ?? DEFAULT_WORKFLOW);
  return {
    service,
    worker,
    signer,
    mailer,
    routes: emailRoutes({ warehouse, signer, predictor: deps.predictor, log }),
    guardrail,
    start: () => worker.start(),
    async close() {
      await triggers.close();
      await worker.stop();
      await mailer.close();
    },
  };
}
