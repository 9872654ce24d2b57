/**
 * How a next-best action shapes the delay email, pure. Only `discount_code` carries an offer (a
 * reason to buy again), so only it makes the message promotional; the apology, the reschedule link
 * and the shipping refund concern the order being delivered and stay transactional (docs/EMAIL.md,
 * "Next-best action in the delay email", on the primary-purpose rule).
 */
import crypto from 'node:crypto';
import type { NbaAction } from '../domain/nba.js';
import { classifyStream, type EmailOffer, type EmailStream } from './kinds.js';
import type { GuardrailState } from './complaint-guardrail.js';

/** Why a promotional action was replaced by the transactional delay notice. */
export type FallbackReason = 'no_promo_domain' | 'guardrail' | 'suppressed' | 'no_consent';

export interface DelayPlan {
  /** The action the message carries (`none` after a fallback). */
  action: NbaAction;
  stream: EmailStream;
  offer: EmailOffer | null;
  /** Set when the chosen action could not be carried, with the cause and its detail. */
  fallback?: { reason: FallbackReason; detail: string };
}

export interface PlanInput {
  /** The policy's action (or, at send time, the one the queued message carries). */
  action: NbaAction;
  /** The offer of a `discount_code` action. */
  offer?: EmailOffer | null;
  /** Whether a promotional sending domain is configured. */
  promoDomain: boolean;
  /** Why the recipient may not get promotional mail now (`blockedReason`), if so. */
  promoBlocked?: string;
  /** The complaint-rate guardrail, measured when the action is promotional. */
  guardrail?: GuardrailState;
}

/**
 * The delay email for an action: its stream and offer, or the transactional notice without the
 * offer when promotional mail is not possible (no promotional domain, the complaint-rate guardrail
 * tripped, the address suppressed for offers, no recorded promotional consent).
 */
export function planDelayAction(input: PlanInput): DelayPlan {
  const offer = input.action === 'discount_code' ? (input.offer ?? null) : null;
  const stream = classifyStream({ offer });
  if (stream === 'transactional') return { action: input.action, stream, offer: null };
  const fallback = (reason: FallbackReason, detail: string): DelayPlan => ({ action: 'none', stream: 'transactional', offer: null, fallback: { reason, detail } });
  if (!input.promoDomain) return fallback('no_promo_domain', 'no promotional sending domain configured (MAILGUN_PROMO_DOMAIN)');
  const g = input.guardrail;
  if (g?.tripped) return fallback('guardrail', `promotional complaint rate ${(g.rate * 100).toFixed(3)} % (${g.counts.complained}/${g.counts.delivered}) is above the ${(g.limit * 100).toFixed(3)} % limit`);
  if (input.promoBlocked) return fallback(input.promoBlocked.startsWith('suppressed') ? 'suppressed' : 'no_consent', input.promoBlocked);
  return { action: input.action, stream, offer };
}

/** Unambiguous characters for codes read off a screen (no 0/O, 1/I/L). */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/**
 * The coupon code of a decision: `SORRY-` and 8 characters of an HMAC of the decision id, so the
 * same decision always gets the same code and a code cannot be guessed without the key. The shop
 * redeems it by recomputing the HMAC of the decision id (`email_messages.nba_decision_id`).
 */
export function couponCode(key: Buffer, decisionId: string): string {
  const mac = crypto.createHmac('sha256', key).update(`coupon:${decisionId}`).digest();
  let code = '';
  for (let i = 0; i < 8; i++) code += CODE_ALPHABET[mac[i] % CODE_ALPHABET.length];
  return `SORRY-${code}`;
}

/** The discount a `discount_code` action gives: a fixed amount in the order's currency, or a percentage. */
export interface DiscountTerms {
  amountOff?: number;
  percentOff?: number;
}

/** The offer of a `discount_code` decision. */
export function discountOffer(key: Buffer, decisionId: string, terms: DiscountTerms): EmailOffer {
  return { action: 'discount_code', ...terms, code: couponCode(key, decisionId) };
}
