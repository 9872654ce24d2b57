import crypto from 'node:crypto';
import type { Logger } from '../log.js';
import type { EtaPredictor } from '../domain/eta.js';
import type { NbaDecision, NextBestActionService } from '../domain/nba.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { ShipcastError } from '../errors.js';
import { URGENT_KINDS, classifyStream, resolveLocale, type EmailKind, type EmailLocale, type EmailOffer, type EmailStream } from './kinds.js';
import { DEFAULT_QUIET_HOURS, releaseTime, type QuietHours } from './format.js';
import { blockedReason, loadSendPermissions, loadShipmentContexts, shipmentIdForTracking } from './recipients.js';
import { existingKeys, insertMany, latestFor, type NewMessage, type OutboxStatus } from './outbox-store.js';
import { discountOffer, planDelayAction, type DelayPlan, type DiscountTerms } from './delay-actions.js';
import type { ComplaintGuardrail, GuardrailState } from './complaint-guardrail.js';
import { composeEmail, type ComposeDeps } from './compose.js';
import type { OutgoingEmail } from './mailers/mailer.js';
import type { EmailMetrics } from './email-metrics.js';

export interface EnqueueRequest {
  shipmentId: string;
  kind: EmailKind;
  /** The milestone behind it, or `manual`. */
  trigger: string;
  /** (shipment, kind, milestone…): a second request with the same key returns the first message. */
  idempotencyKey: string;
  /** An offer makes the message promotional, which needs recorded consent. */
  offer?: EmailOffer | null;
  /** Ask the next-best-action service (when there is one) which action the email carries; set for delay milestones. */
  askNextBestAction?: boolean;
}

/** A message as callers see it. */
export interface QueuedMessage {
  id: string;
  kind: EmailKind;
  stream: EmailStream;
  status: OutboxStatus;
  /** Why it is suppressed, refused, failed or waiting for a retry. */
  reason: string | null;
  /** False when the idempotency key already existed and the earlier message was returned. */
  created: boolean;
}

/** What a message would look like if sent now: the rendered parts a provider would get, plus how it was personalized. */
export interface EmailPreview extends Pick<OutgoingEmail, 'kind' | 'stream' | 'from' | 'to' | 'subject' | 'html' | 'text' | 'headers' | 'tags'> {
  locale: EmailLocale;
  modelVersion?: string;
  window?: { p10: Date; p50: Date; p90: Date };
}

export interface EmailServiceDeps {
  warehouse: Warehouse;
  compose: Omit<ComposeDeps, 'now'>;
  predictor?: EtaPredictor;
  log: Logger;
  metrics?: EmailMetrics;
  /** Provider name stored on each message (`outbox` or `mailgun`). */
  provider: string;
  quietHours?: QuietHours;
  /** Called after a message is queued, to wake the worker. */
  onQueued?: () => void;
  /** Chooses the action of delay emails; without it they are the plain delay notice. */
  nextBestAction?: NextBestActionService;
  /** Stops promotional actions while the promotional complaint rate is above its limit. */
  guardrail?: ComplaintGuardrail;
  /** Coupon key and discount terms of `discount_code` actions. */
  discount?: { key: Buffer; terms: DiscountTerms };
}

export interface EmailService {
  /**
   * Records the message in the outbox (exactly once per idempotency key). Suppressed addresses
   * and missing transactional consent give a `suppressed`/`refused` message kept with its
   * reason; a promotional message without recorded consent is recorded as refused and throws
   * CONSENT_REQUIRED.
   */
  enqueue(req: EnqueueRequest, now?: Date): Promise<QueuedMessage>;
  /**
   * The batch form (one context query, one permissions query, one transaction): results in
   * request order; refusals are returned, never thrown. Unknown shipments throw NOT_FOUND.
   */
  enqueueMany(reqs: readonly EnqueueRequest[], now?: Date): Promise<QueuedMessage[]>;
  /** Idempotent per (shipment, kind) unless `resend`: returns the existing message when there is one. */
  sendTransactional(trackingNumber: string, kind: EmailKind, opts?: { resend?: boolean }): Promise<QueuedMessage>;
  /** Renders what would be sent now, without recording anything. */
  preview(req: { trackingNumber: string; kind: EmailKind; locale?: EmailLocale; offer?: EmailOffer | null }, now?: Date): Promise<EmailPreview>;
}

export function createEmailService(deps: EmailServiceDeps): EmailService {
  const { warehouse: wh } = deps;
  const quiet = deps.quietHours ?? DEFAULT_QUIET_HOURS;

  const requireShipment = async (trackingNumber: string): Promise<string> => {
    const id = await shipmentIdForTracking(wh, trackingNumber);
    if (!id) throw new ShipcastError('NOT_FOUND', `trackingNumber: no shipment with tracking number ${trackingNumber}`, { field: 'trackingNumber' });
    return id;
  };

  /**
   * Asks the policy for the delay emails of a batch whose keys are new: a duplicate milestone must
   * not log a second decision that no email carries. A failing policy costs the action, not the email.
   */
  const decisions = async (reqs: readonly EnqueueRequest[], now: Date): Promise<Map<string, NbaDecision>> => {
    const out = new Map<string, NbaDecision>();
    const nba = deps.nextBestAction;
    const asking = reqs.filter((r) => r.askNextBestAction && !r.offer);
    if (!nba || asking.length === 0 || nba.activeVersion() === undefined) return out;
    const keys = [...new Set(asking.map((r) => r.idempotencyKey))];
    const existing = new Set(await existingKeys(wh, keys));
    for (const req of asking) {
      if (existing.has(req.idempotencyKey) || out.has(req.idempotencyKey)) continue;
      try {
        const d = await nba.decide({ shipmentId: req.shipmentId, at: now });
        if (d) out.set(req.idempotencyKey, d);
      } catch (err) {
        deps.log.warn({ err, shipmentId: req.shipmentId }, 'next-best-action decision failed; sending the plain delay notice');
      }
    }
    return out;
  };

  const recordPlan = (messageId: string, decision: NbaDecision, plan: DelayPlan, guardrail: GuardrailState | undefined) => {
    deps.metrics?.nbaActions.inc({ action: plan.action });
    if (!plan.fallback) return;
    deps.metrics?.nbaFallbacks.inc({ action: decision.action, reason: plan.fallback.reason });
    if (plan.fallback.reason === 'guardrail' && guardrail) deps.guardrail?.recordStop({ messageId, decisionId: decision.decisionId, action: decision.action, state: guardrail });
    deps.log.info({ messageId, decisionId: decision.decisionId, action: decision.action, fallback: plan.fallback.reason, detail: plan.fallback.detail }, 'promotional next-best action replaced by the transactional delay notice');
  };

  const service: EmailService = {
    async enqueueMany(reqs, now = new Date()) {
      if (reqs.length === 0) return [];
      const ctxs = await loadShipmentContexts(wh, reqs.map((r) => r.shipmentId));
      const missing = reqs.find((r) => !ctxs.has(r.shipmentId));
      if (missing) throw new ShipcastError('NOT_FOUND', `shipmentId: unknown shipment ${missing.shipmentId}`, { field: 'shipmentId' });
      const perms = await loadSendPermissions(wh, [...ctxs.values()]);
      const decided = await decisions(reqs, now);
      let guardrail: GuardrailState | undefined;
      if (deps.guardrail && [...decided.values()].some((d) => d.action === 'discount_code')) guardrail = await deps.guardrail.check(now);
      const plans = new Map<string, { decision: NbaDecision; plan: DelayPlan }>();
      for (const req of reqs) {
        const decision = decided.get(req.idempotencyKey);
        if (!decision || plans.has(req.idempotencyKey)) continue;
        const ctx = ctxs.get(req.shipmentId)!;
        const plan = planDelayAction({
          action: decision.action,
          offer: decision.action === 'discount_code' && deps.discount ? discountOffer(deps.discount.key, decision.decisionId, deps.discount.terms) : null,
          promoDomain: Boolean(deps.compose.senders.promotional),
          promoBlocked: blockedReason(ctx, 'promotional', perms),
          guardrail,
        });
        plans.set(req.idempotencyKey, { decision, plan });
      }
      const messages: NewMessage[] = reqs.map((req) => {
        const ctx = ctxs.get(req.shipmentId)!;
        const planned = plans.get(req.idempotencyKey);
        const offer = planned ? planned.plan.offer : req.offer;
        const stream = classifyStream({ offer });
        const blocked = stream === 'promotional' && !deps.compose.senders.promotional
          ? 'no promotional sending domain configured (MAILGUN_PROMO_DOMAIN)'
          : blockedReason(ctx, stream, perms);
        const status: OutboxStatus = !blocked ? 'queued' : blocked.startsWith('suppressed') ? 'suppressed' : 'refused';
        const urgent = stream === 'transactional' && URGENT_KINDS.has(req.kind);
        return {
          messageId: crypto.randomUUID(),
          idempotencyKey: req.idempotencyKey,
          shipmentId: ctx.shipmentId,
          orderId: ctx.orderId,
          customerId: ctx.customerId,
          kind: req.kind,
          stream,
          locale: resolveLocale(ctx.locale),
          toAddress: ctx.email ? ctx.email.trim().toLowerCase() : null,
          trigger: req.trigger,
          offer: offer ?? null,
          nbaAction: planned?.plan.action ?? null,
          status,
          nextAttemptAt: urgent ? now : releaseTime(now, ctx.timeZone, quiet),
          reason: blocked ?? null,
          provider: deps.provider,
          nba: planned ? { decisionId: planned.decision.decisionId, chosen: planned.decision.action, fallback: planned.plan.fallback ? `${planned.plan.fallback.reason}: ${planned.plan.fallback.detail}` : null } : null,
        };
      });
      const stored = await insertMany(wh, messages, now);
      let queued = false;
      const seen = new Set<string>();
      const out = messages.map((m) => {
        const { row, created: createdByCall } = stored.get(m.idempotencyKey)!;
        // The same key twice in one batch: only its first occurrence counts as created.
        const created = createdByCall && row.messageId === m.messageId && !seen.has(m.idempotencyKey);
        seen.add(m.idempotencyKey);
        if (created) {
          deps.metrics?.enqueued.inc({ kind: m.kind, stream: m.stream, status: m.status });
          deps.log.info({ messageId: row.messageId, kind: m.kind, stream: m.stream, status: m.status, trigger: m.trigger, nbaDecisionId: m.nba?.decisionId, nbaAction: m.nbaAction ?? undefined }, 'email enqueued');
          const planned = plans.get(m.idempotencyKey);
          if (planned) recordPlan(row.messageId, planned.decision, planned.plan, guardrail);
          queued ||= m.status === 'queued';
        }
        return { id: row.messageId, kind: row.kind, stream: row.stream, status: row.status, reason: row.lastError, created };
      });
      if (queued) deps.onQueued?.();
      return out;
    },

    async enqueue(req, now = new Date()) {
      const [m] = await service.enqueueMany([req], now);
      if (m.created && m.status === 'refused' && m.stream === 'promotional') {
        throw new ShipcastError('CONSENT_REQUIRED', `offer: ${m.reason}`, { field: 'offer', details: { messageId: m.id } });
      }
      return m;
    },

    async sendTransactional(trackingNumber, kind, opts = {}) {
      const shipmentId = await requireShipment(trackingNumber);
      if (!opts.resend) {
        const existing = await latestFor(wh, shipmentId, kind);
        if (existing) return { id: existing.messageId, kind: existing.kind, stream: existing.stream, status: existing.status, reason: existing.lastError, created: false };
      }
      const key = opts.resend ? `${shipmentId}|${kind}|resend|${crypto.randomUUID()}` : `${shipmentId}|${kind}|manual`;
      return service.enqueue({ shipmentId, kind, trigger: 'manual', idempotencyKey: key });
    },

    async preview(req, now = new Date()) {
      const shipmentId = await requireShipment(req.trackingNumber);
      const ctx = (await loadShipmentContexts(wh, [shipmentId])).get(shipmentId);
      if (!ctx) throw new ShipcastError('NOT_FOUND', `trackingNumber: no order for tracking number ${req.trackingNumber}`, { field: 'trackingNumber' });
      let prediction;
      if (deps.predictor && deps.predictor.activeVersion() !== undefined) {
        try {
          prediction = (await deps.predictor.predict([shipmentId], now)).get(shipmentId);
        } catch (err) {
          deps.log.warn({ err }, 'ETA prediction failed during preview');
        }
      }
      const stream = classifyStream({ offer: req.offer });
      const composed = composeEmail(
        { messageId: 'preview', kind: req.kind, stream, trigger: req.kind === 'delay' ? 'delayed' : 'manual', offer: req.offer, ctx, prediction, locale: req.locale },
        { ...deps.compose, now },
      );
      const e = composed.email;
      return { kind: req.kind, stream, locale: composed.locale, from: e.from, to: e.to, subject: e.subject, html: e.html, text: e.text, headers: e.headers, tags: e.tags, modelVersion: composed.modelVersion, window: composed.window };
    },
  };
  return service;
}
