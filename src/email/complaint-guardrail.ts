import type { SqlRunner } from '../warehouse/warehouse.js';
import type { Logger } from '../log.js';
import type { EmailMetrics } from './email-metrics.js';

/** Promotional messages delivered and complained about over the trailing window. */
export interface ComplaintCounts {
  delivered: number;
  complained: number;
}

export interface GuardrailState {
  /** complained / delivered, or 0 when nothing was delivered in the window. */
  rate: number;
  limit: number;
  /** True when promotional actions must stop: the rate is above the limit. */
  tripped: boolean;
  counts: ComplaintCounts;
}

/** complained / delivered; 0 without deliveries (no evidence of complaints yet). */
export function complaintRate(c: ComplaintCounts): number {
  return c.delivered > 0 ? c.complained / c.delivered : 0;
}

/**
 * The guardrail: promotional actions stop while the promotional stream's complaint rate is above
 * `limit`. Mailbox providers start filtering a sender around 0.1–0.3 % complaints, and the promotional
 * domain is kept separate precisely so that offers never drag delivery notices down with them.
 */
export function guardrailDecision(c: ComplaintCounts, limit: number): GuardrailState {
  const rate = complaintRate(c);
  return { rate, limit, tripped: rate > limit, counts: c };
}

/**
 * Counts promotional messages with a `delivered` and with a `complained` event that occurred in
 * (now − windowDays, now]. Distinct messages, so a provider's repeated webhook counts once.
 */
export async function loadPromoComplaintCounts(db: SqlRunner, now: Date, windowDays: number): Promise<ComplaintCounts> {
  const row = await db.one<{ delivered: number | bigint | null; complained: number | bigint | null }>(
    `SELECT count(DISTINCT e.message_id) FILTER (WHERE e.event = 'delivered') AS delivered,
            count(DISTINCT e.message_id) FILTER (WHERE e.event = 'complained') AS complained
     FROM email_events e JOIN email_messages m ON m.message_id = e.message_id
     WHERE m.stream = 'promotional' AND e.event IN ('delivered', 'complained')
       AND e.occurred_at > $1::TIMESTAMPTZ - to_days($2::INTEGER) AND e.occurred_at <= $1::TIMESTAMPTZ`,
    [now, Math.ceil(windowDays)],
  );
  return { delivered: Number(row?.delivered ?? 0), complained: Number(row?.complained ?? 0) };
}

/** Checks the guardrail against the warehouse, at most once per `cacheMs`, exporting the rate. */
export interface ComplaintGuardrail {
  check(now?: Date): Promise<GuardrailState>;
  /** Counts one promotional action stopped by a tripped guardrail (metric and log). */
  recordStop(info: { messageId?: string; decisionId?: string; action: string; state: GuardrailState }): void;
}

export interface GuardrailDeps {
  warehouse: SqlRunner;
  limit: number;
  windowDays: number;
  log: Logger;
  metrics?: EmailMetrics;
  /** How long one measurement is reused (default 60 s): every send would otherwise rescan the events. */
  cacheMs?: number;
}

export function createComplaintGuardrail(deps: GuardrailDeps): ComplaintGuardrail {
  const cacheMs = deps.cacheMs ?? 60_000;
  let cached: { at: number; state: GuardrailState } | undefined;
  let wasTripped = false;
  return {
    async check(now = new Date()) {
      if (cached && Math.abs(now.getTime() - cached.at) < cacheMs) return cached.state;
      const state = guardrailDecision(await loadPromoComplaintCounts(deps.warehouse, now, deps.windowDays), deps.limit);
      cached = { at: now.getTime(), state };
      deps.metrics?.promoComplaintRate.set(state.rate);
      deps.metrics?.promoGuardrailTripped.set(state.tripped ? 1 : 0);
      if (state.tripped !== wasTripped) {
        const fields = { rate: state.rate, limit: state.limit, ...state.counts, windowDays: deps.windowDays };
        if (state.tripped) deps.log.warn(fields, 'promotional complaint-rate guardrail tripped: promotional actions stopped');
        else deps.log.info(fields, 'promotional complaint rate back under the limit: promotional actions resume');
        wasTripped = state.tripped;
      }
      return state;
    },
    recordStop({ messageId, decisionId, action, state }) {
      deps.metrics?.promoGuardrailStops.inc({ action });
      deps.log.warn({ messageId, decisionId, action, rate: state.rate, limit: state.limit }, 'promotional action stopped by the complaint-rate guardrail');
    },
  };
}
