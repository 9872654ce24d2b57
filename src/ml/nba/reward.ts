/**
 * The business value of a decision in currency units: what a repeat purchase is worth, what a
 * support contact and each action cost, and what a CSAT point is worth. The defaults are the
 * values the synthetic generator plants (a test keeps them equal); a deployment sets its own.
 */
import type { NbaAction } from '../../domain/nba.js';
import type { NbaContext, NbaOutcome } from './data.js';

export interface NbaRewardConfig {
  /** A repeat purchase is worth repeatValueBase + repeatValueShare × this order's value. */
  repeatValueBase: number;
  repeatValueShare: number;
  /** Cost of one support contact. */
  contactCost: number;
  /** Value of one CSAT point above 3, counted when the customer answers the survey. */
  csatValue: number;
  /** Fixed cost of each action; shipping_refund also refunds the shipping paid. */
  unitCost: Record<NbaAction, number>;
}

export const DEFAULT_NBA_REWARD: NbaRewardConfig = {
  repeatValueBase: 8,
  repeatValueShare: 0.12,
  contactCost: 6,
  csatValue: 2,
  unitCost: { none: 0, apology_notice: 0.1, reschedule_offer: 0.75, discount_code: 5, shipping_refund: 0.1 },
};

/** What taking `action` costs in this context. */
export function actionCost(action: NbaAction, ctx: Pick<NbaContext, 'shipping_paid'>, cfg: NbaRewardConfig = DEFAULT_NBA_REWARD): number {
  return cfg.unitCost[action] + (action === 'shipping_refund' ? ctx.shipping_paid : 0);
}

/** The realized reward of an outcome. */
export function realizedReward(outcome: NbaOutcome, ctx: Pick<NbaContext, 'order_value'>, cfg: NbaRewardConfig = DEFAULT_NBA_REWARD): number {
  const repeatValue = cfg.repeatValueBase + cfg.repeatValueShare * ctx.order_value;
  return repeatValue * Number(outcome.repeat_purchase) - cfg.contactCost * Number(outcome.support_contact) - outcome.cost
    + (outcome.csat === null ? 0 : cfg.csatValue * (outcome.csat - 3));
}

/** Predicted outcome components of one action. */
export interface PredictedOutcome {
  pRepeat: number;
  pAnswer: number;
  /** Expected score given an answer. */
  csat: number;
  pContact: number;
}

/** Expected reward of an action from its predicted outcome components. */
export function expectedReward(action: NbaAction, p: PredictedOutcome, ctx: Pick<NbaContext, 'order_value' | 'shipping_paid'>, cfg: NbaRewardConfig = DEFAULT_NBA_REWARD): number {
  const repeatValue = cfg.repeatValueBase + cfg.repeatValueShare * ctx.order_value;
  return repeatValue * p.pRepeat - cfg.contactCost * p.pContact - actionCost(action, ctx, cfg) + cfg.csatValue * p.pAnswer * (p.csat - 3);
}

