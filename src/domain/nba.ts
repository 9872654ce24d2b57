/**
 * The next-best-action contract shared by the policy (ml/nba), the API (graphql), email and the
 * synthetic generator. An action is what shipcast does for a delayed or at-risk shipment; `none`
 * sends nothing beyond what the shipment's milestones already trigger.
 */
export const NBA_ACTION_NAMES = ['none', 'apology_notice', 'reschedule_offer', 'discount_code', 'shipping_refund'] as const;
export type NbaAction = (typeof NBA_ACTION_NAMES)[number];

/** One input that pushed the expected value of the chosen action up or down. */
export interface NbaFactor {
  name: string;
  /** Signed contribution, in the unit of the decision's expected value. */
  contribution: number;
}

/** A decision of the active policy, as logged in `nba_decisions` and returned by the API. */
export interface NbaDecision {
  decisionId: string;
  shipmentId: string;
  action: NbaAction;
  /** Probability that the policy picks `action` in this context (exploration included), in (0, 1]. */
  propensity: number;
  policyVersion: string;
  /** True when the context fell in the held-out do-nothing control group. */
  control: boolean;
  /** Expected value of the chosen action per the outcome models (currency units). */
  expectedValue: number;
  /** Expected value of every eligible action. */
  values: Partial<Record<NbaAction, number>>;
  factors: NbaFactor[];
  decidedAt: Date;
}

/** Decides (and logs) the next best action for one shipment with the active policy. */
export interface NextBestActionService {
  decide(input: { trackingNumber?: string; shipmentId?: string; at?: Date }): Promise<NbaDecision | undefined>;
  /** Version of the active policy, or undefined when none is active. */
  activeVersion(): string | undefined;
  reload(): Promise<void>;
}
