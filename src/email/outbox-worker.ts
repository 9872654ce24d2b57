import type { Logger } from '../log.js';
import type { EtaPredictor, EtaPrediction } from '../domain/eta.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { blockedReason, loadSendPermissions, loadShipmentContexts, type SendPermissions, type ShipmentContext } from './recipients.js';
import { claimDue, recordOutcomes, requeueInterrupted, type Outcome, type OutboxRow } from './outbox-store.js';
import { composeEmail, type ComposeDeps } from './compose.js';
import { SendFailure, type Mailer } from './mailers/mailer.js';
import type { EmailMetrics } from './email-metrics.js';
import { planDelayAction } from './delay-actions.js';
import type { ComplaintGuardrail, GuardrailState } from './complaint-guardrail.js';

export interface WorkerOptions {
  /** Rows claimed per round. */
  batchSize?: number;
  /** Concurrent provider requests per round. */
  concurrency?: number;
  /**
   * Rounds run at once. Claims are atomic, so lanes never share a row; while one lane waits on
   * the warehouse (claim, record) another keeps the provider busy.
   */
  lanes?: number;
  /** Idle poll interval; enqueueing wakes the worker sooner. */
  pollMs?: number;
  /** Attempts before a retryable failure becomes permanent. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt (with jitter) up to `backoffMaxMs`. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface OutboxWorkerDeps {
  warehouse: Warehouse;
  mailer: Mailer;
  compose: Omit<ComposeDeps, 'now'>;
  predictor?: EtaPredictor;
  log: Logger;
  metrics?: EmailMetrics;
  /** Re-checked at send time for messages carrying a promotional next-best action. */
  guardrail?: ComplaintGuardrail;
}

/** Drains the outbox: claims due rows, renders them with the ETA at send time, sends, records. */
export interface OutboxWorker {
  /** Requeues rows a dead process left in `sending`, then polls until `stop()`. */
  start(): Promise<void>;
  /** Finishes the round in progress and stops. */
  stop(): Promise<void>;
  /** Asks a sleeping worker to look for due rows now. */
  wake(): void;
  /** One round: claim, send, record. Returns how many rows it handled. */
  runOnce(now?: Date): Promise<number>;
}

/** Exponential backoff with full jitter in [delay/2, delay]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay / 2 + (random() * delay) / 2);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}

export function createOutboxWorker(deps: OutboxWorkerDeps, opts: WorkerOptions = {}): OutboxWorker {
  const batchSize = opts.batchSize ?? 64;
  const concurrency = opts.concurrency ?? 8;
  const lanes = opts.lanes ?? 2;
  const pollMs = opts.pollMs ?? 1000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const baseMs = opts.backoffBaseMs ?? 2000;
  const maxMs = opts.backoffMaxMs ?? 10 * 60_000;
  const { warehouse: wh, mailer, log } = deps;
  let running = false;
  let loop: Promise<void> | undefined;
  const sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  /** Set from a provider's Retry-After: the whole stream is rate limited, not just one message. */
  let pausedUntil = 0;

  const sleep = (ms: number) => {
    let entry!: { timer: NodeJS.Timeout; resolve: () => void };
    return new Promise<void>((resolve) => {
      entry = { timer: setTimeout(resolve, ms), resolve };
      sleepers.add(entry);
    }).finally(() => sleepers.delete(entry));
  };

  const predictions = async (rows: OutboxRow[], now: Date): Promise<Map<string, EtaPrediction>> => {
    // No active model yet: the promise is the best window there is, and nothing is wrong.
    if (!deps.predictor || deps.predictor.activeVersion() === undefined) return new Map();
    try {
      return await deps.predictor.predict(rows.map((r) => r.shipmentId), now);
    } catch (err) {
      // An email with the promised date beats no email; the live-ETA image catches up at open time.
      log.warn({ err }, 'ETA prediction failed; composing with the promised date');
      return new Map();
    }
  };

  /**
   * A promotional next-best action queued earlier (quiet hours hold offers until morning) is checked
   * again: if the offer cannot go now, the delay notice still does, as transactional mail.
   */
  const sendTimePlan = (row: OutboxRow, ctx: ShipmentContext, perms: SendPermissions, guardrail: GuardrailState | undefined) => {
    const kept = { stream: row.stream, offer: row.offer, action: row.nbaAction, fallback: undefined as string | undefined };
    if (!row.nbaAction || row.stream !== 'promotional') return kept;
    const plan = planDelayAction({ action: row.nbaAction, offer: row.offer, promoDomain: Boolean(deps.compose.senders.promotional), promoBlocked: blockedReason(ctx, 'promotional', perms), guardrail });
    if (!plan.fallback) return kept;
    deps.metrics?.nbaFallbacks.inc({ action: row.nbaAction, reason: plan.fallback.reason });
    if (plan.fallback.reason === 'guardrail' && guardrail) deps.guardrail?.recordStop({ messageId: row.messageId, action: row.nbaAction, state: guardrail });
    log.info({ messageId: row.messageId, action: row.nbaAction, fallback: plan.fallback.reason, detail: plan.fallback.detail }, 'promotional next-best action dropped at send time; sending the transactional delay notice');
    return { stream: plan.stream, offer: plan.offer, action: plan.action, fallback: `${plan.fallback.reason}: ${plan.fallback.detail}` };
  };

  const attempt = async (row: OutboxRow, ctxs: Map<string, ShipmentContext>, perms: SendPermissions, preds: Map<string, EtaPrediction>, now: Date, guardrail?: GuardrailState): Promise<Outcome> => {
    const ctx = ctxs.get(row.shipmentId);
    if (!ctx) return { messageId: row.messageId, status: 'failed', reason: 'shipment no longer exists' };
    const { stream, offer, action, fallback } = sendTimePlan(row, ctx, perms, guardrail);
    // Consent and suppressions can change between enqueue and send (a bounce, an unsubscribe).
    const blocked = blockedReason(ctx, stream, perms);
    if (blocked) return { messageId: row.messageId, status: blocked.startsWith('suppressed') ? 'suppressed' : 'refused', reason: blocked };
    let composed;
    try {
      composed = composeEmail(
        { messageId: row.messageId, kind: row.kind, stream, trigger: row.trigger, offer, action, ctx, prediction: preds.get(row.shipmentId), locale: row.locale },
        { ...deps.compose, now },
      );
    } catch (err) {
      return { messageId: row.messageId, status: 'failed', reason: `compose: ${(err as Error).message}` };
    }
    try {
      const res = await mailer.send(composed.email);
      deps.metrics?.sent.inc({ kind: row.kind, stream, provider: res.provider });
      return { messageId: row.messageId, status: 'sent', provider: res.provider, providerMessageId: res.providerMessageId, subject: composed.email.subject, modelVersion: composed.modelVersion, window: composed.window, fallback };
    } catch (err) {
      // An unexpected error (a full disk under the outbox mailer, a bug) may pass: retry it like a 5xx.
      const f = err instanceof SendFailure ? err : new SendFailure((err as Error).message ?? String(err), true);
      if (f.retryable && row.attempts < maxAttempts) {
        const wait = Math.max(f.retryAfterMs ?? 0, backoffMs(row.attempts, baseMs, maxMs));
        if (f.retryAfterMs !== undefined) pausedUntil = Math.max(pausedUntil, Date.now() + f.retryAfterMs);
        deps.metrics?.retried.inc({ kind: row.kind, status: String(f.status ?? 'network') });
        log.warn({ messageId: row.messageId, status: f.status, attempt: row.attempts, waitMs: wait }, 'email send failed; will retry');
        return { messageId: row.messageId, status: 'queued', retryAt: new Date(now.getTime() + wait), reason: f.message };
      }
      deps.metrics?.failed.inc({ kind: row.kind, stream });
      log.error({ messageId: row.messageId, status: f.status, attempts: row.attempts }, 'email send failed permanently');
      return { messageId: row.messageId, status: 'failed', reason: f.message, subject: composed.email.subject };
    }
  };

  const runOnce = async (now: Date = new Date()): Promise<number> => {
    if (Date.now() < pausedUntil) return 0;
    const rows = await claimDue(wh, now, batchSize);
    if (rows.length === 0) return 0;
    const [ctxs, preds] = await Promise.all([loadShipmentContexts(wh, rows.map((r) => r.shipmentId)), predictions(rows, now)]);
    const perms = await loadSendPermissions(wh, [...ctxs.values()]);
    const guardrail = deps.guardrail && rows.some((r) => r.nbaAction && r.stream === 'promotional') ? await deps.guardrail.check(now) : undefined;
    const outcomes = await mapLimit(rows, concurrency, (row) => attempt(row, ctxs, perms, preds, now, guardrail));
    await recordOutcomes(wh, outcomes, new Date());
    return rows.length;
  };

  return {
    runOnce,
    wake() {
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.resolve();
      }
    },
    async start() {
      if (running) return;
      running = true;
      const requeued = await requeueInterrupted(wh, new Date());
      if (requeued > 0) log.warn({ requeued }, 'requeued emails interrupted by a previous shutdown');
      const lane = async () => {
        while (running) {
          let handled = 0;
          try {
            handled = await runOnce();
          } catch (err) {
            log.error({ err }, 'email outbox round failed');
          }
          if (running && handled === 0) await sleep(Math.max(10, Math.min(pollMs, pausedUntil - Date.now() > 0 ? pausedUntil - Date.now() : pollMs)));
        }
      };
      loop = Promise.all(Array.from({ length: lanes }, lane)).then(() => undefined);
    },
    async stop() {
      running = false;
      this.wake();
      await loop;
    },
  };
}
