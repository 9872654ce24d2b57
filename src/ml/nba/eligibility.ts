/**
 * Which next-best actions may be taken for a decision context. The synthetic generator applies
 * the same rules in SQL (src/synth/stages.ts builds its SQL from `eligibilitySql`), so logged
 * decisions, the ground truth and the policy agree on what was possible.
 */
import type { NbaAction } from '../../domain/nba.js';

/** Service levels whose carriers let the recipient pick another delivery day. */
export const RESCHEDULE_SERVICE_LEVELS = ['ground', 'express'] as const;

/** The facts eligibility reads, as stored in the decision's context. */
export interface EligibilityFacts {
  /** The customer accepts transactional email (every action but `none` is an email). */
  email_consent: boolean;
  /** The customer accepts promotional email at decision time (a discount code is promotional). */
  promo_consent: boolean;
  /** Shipping the customer paid on the order. */
  shipping_paid: number;
  service_level: string;
  /** The parcel was already out for delivery (or delivered) at decision time. */
  out_for_delivery: boolean;
}

/** The rule of each action, in words (docs/NBA.md and `truth_nba_action_effects.eligibility`). */
export const ELIGIBILITY_RULES: Record<NbaAction, string> = {
  none: 'always',
  apology_notice: 'transactional email consent',
  reschedule_offer: `transactional email consent, service level ${RESCHEDULE_SERVICE_LEVELS.join(' or ')}, not yet out for delivery`,
  discount_code: 'transactional and promotional email consent at decision time',
  shipping_refund: 'transactional email consent and the customer paid shipping',
};

/** True when `action` may be taken in a context with these facts. */
export function isEligible(action: NbaAction, f: EligibilityFacts): boolean {
  switch (action) {
    case 'none':
      return true;
    case 'apology_notice':
      return f.email_consent;
    case 'reschedule_offer':
      return f.email_consent && (RESCHEDULE_SERVICE_LEVELS as readonly string[]).includes(f.service_level) && !f.out_for_delivery;
    case 'discount_code':
      return f.email_consent && f.promo_consent;
    case 'shipping_refund':
      return f.email_consent && f.shipping_paid > 0;
  }
}

/**
 * The same rules as SQL boolean expressions over columns named like the facts (the generator's
 * work table), in NBA_ACTION_NAMES order.
 */
export function eligibilitySql(): string[] {
  const levels = RESCHEDULE_SERVICE_LEVELS.map((l) => `'${l}'`).join(', ');
  return [
    'true',
    'email_consent',
    `(email_consent AND service_level IN (${levels}) AND NOT out_for_delivery)`,
    '(email_consent AND promo_consent)',
    '(email_consent AND shipping_paid > 0)',
  ];
}
