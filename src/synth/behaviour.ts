/**
 * Behavioural coefficients of the synthetic customers, carriers and logging policy. They are
 * interpolated into the generator's SQL and written to `truth_parameters`, so the data and its
 * documented truth cannot drift apart.
 */
export interface Coefficient {
  value: number;
  description: string;
}

const c = (value: number, description: string): Coefficient => ({ value, description });

export const BEHAVIOUR = {
  returns: {
    intercept: c(-3.2, 'return log-odds intercept'),
    logSubtotal: c(0.35, 'return log-odds per ln(subtotal / 50)'),
    discountShare: c(2.0, 'return log-odds per unit of discount / subtotal'),
    late: c(0.6, 'return log-odds when the delivery was late'),
    lateDays: c(0.25, 'return log-odds per day late (capped at 5)'),
  },
  csat: {
    base: c(4.5, 'latent CSAT score of an on-time delivery'),
    late: c(-1.0, 'latent CSAT shift when late'),
    lateDays: c(-0.3, 'latent CSAT shift per day late (capped at 5)'),
    holdNoNotice: c(-0.3, 'latent CSAT shift when held by a disruption and not notified'),
    noise: c(0.8, 'sd of the latent CSAT noise; score = clamp(round(latent), 1, 5)'),
    responseBase: c(0.28, 'survey response probability'),
    responseLate: c(0.12, 'extra response probability when late'),
  },
  email: {
    openShipped: c(0.2, 'open log-odds of a shipped email'),
    openDelay: c(1.0, 'open log-odds of a proactive delay notice'),
    openOutForDelivery: c(-0.2, 'open log-odds of an out-for-delivery email'),
    openDelivered: c(-0.6, 'open log-odds of a delivered email'),
    lateNotified: c(0.4, 'open log-odds shift of out-for-delivery/delivered emails when late and notified'),
    lateNotNotified: c(-0.5, 'open log-odds shift of out-for-delivery/delivered emails when late and not notified'),
    clickBase: c(-1.2, 'click log-odds given opened'),
    clickDelay: c(0.8, 'click log-odds shift for delay notices'),
    clickLateNotNotified: c(0.6, 'click log-odds shift when late and not notified (tracking anxiety)'),
    failRate: c(0.02, 'share of messages that fail (3/4 permanent)'),
    complainLateNotNotified: c(0.004, 'complaint probability when late and not notified'),
  },
  wismo: {
    base: c(0.02, 'probability of a where-is-my-order contact'),
    late: c(0.1, 'extra WISMO probability when late'),
    lateDays: c(0.05, 'extra WISMO probability per day late (capped at 4)'),
    hold: c(0.06, 'extra WISMO probability when held by a disruption'),
    returnToSender: c(0.5, 'WISMO probability of a shipment returned to sender'),
  },
  nba: {
    riskIntercept: c(-2.5, 'risk-signal log-odds intercept'),
    riskHold: c(2.0, 'risk-signal log-odds when held by a disruption'),
    riskLate: c(2.5, 'risk-signal log-odds when the shipment will be late (the signal is a noisy oracle)'),
    riskNoise: c(0.8, 'sd of the risk-signal noise'),
    repeatIntercept: c(-0.3, 'repeat-purchase (within 90 days) log-odds intercept'),
    repeatLate: c(-0.9, 'repeat-purchase log-odds when late'),
    repeatLateDays: c(-0.15, 'repeat-purchase log-odds per day late (capped at 5)'),
  },
  /** Reward = repeatValue × repeat − contactCost × contact − action cost + csatValue × (score − 3) × answered. */
  nbaReward: {
    repeatValueBase: c(8, 'value of a repeat purchase: fixed part (currency units)'),
    repeatValueShare: c(0.12, 'value of a repeat purchase: share of this order\'s subtotal'),
    contactCost: c(6, 'cost of one where-is-my-order support contact'),
    csatValue: c(2, 'value of one CSAT point above 3, counted when the customer answers the survey'),
  },
  /** Logging policy `logging-v1`: softmax over the eligible actions; `none` has logit 0. */
  nbaLogging: {
    apologyIntercept: c(-0.4, 'logging logit of apology_notice: intercept'),
    apologyRisk: c(2.2, 'logging logit of apology_notice: per unit of risk'),
    rescheduleIntercept: c(-1.0, 'logging logit of reschedule_offer: intercept'),
    rescheduleRisk: c(1.5, 'logging logit of reschedule_offer: per unit of risk'),
    discountIntercept: c(-1.6, 'logging logit of discount_code: intercept'),
    discountRisk: c(1.0, 'logging logit of discount_code: per unit of risk'),
    discountHighValue: c(0.5, 'logging logit of discount_code: order over 150'),
    refundIntercept: c(-1.8, 'logging logit of shipping_refund: intercept'),
    refundRisk: c(0.8, 'logging logit of shipping_refund: per unit of risk'),
  },
} as const;

/**
 * The true effect of each contract action (src/domain/nba.ts) and its unit cost. Every action but
 * `none` sends a delay email (the `delay` message, which shifts CSAT and WISMO contacts as below);
 * `shipping_refund` also costs the shipping the customer paid. Eligibility is in
 * src/ml/nba/eligibility.ts (the generator and the policy share it).
 */
export const NBA_ACTIONS = [
  { action: 'none', repeatLogit: 0, repeatLogitIfLate: 0, csatShift: 0, csatShiftIfLate: 0, contactShiftIfLate: 0, unitCost: 0, costRule: 'nothing', description: 'send nothing beyond the milestone emails' },
  { action: 'apology_notice', repeatLogit: 0, repeatLogitIfLate: 0.3, csatShift: -0.1, csatShiftIfLate: 0.5, contactShiftIfLate: -0.07, unitCost: 0.1, costRule: 'unit cost', description: 'email an apology about the delay before the customer asks' },
  { action: 'reschedule_offer', repeatLogit: 0.05, repeatLogitIfLate: 0.4, csatShift: 0, csatShiftIfLate: 0.7, contactShiftIfLate: -0.1, unitCost: 0.75, costRule: 'unit cost (carrier redelivery handling)', description: 'delay email offering a new delivery day' },
  { action: 'discount_code', repeatLogit: 0.45, repeatLogitIfLate: 0.25, csatShift: 0.1, csatShiftIfLate: 0.6, contactShiftIfLate: -0.07, unitCost: 5, costRule: 'unit cost (a 10.00 code at 50 % redemption)', description: 'delay email with a discount code for the next order' },
  { action: 'shipping_refund', repeatLogit: 0.15, repeatLogitIfLate: 0.8, csatShift: 0, csatShiftIfLate: 0.8, contactShiftIfLate: -0.08, unitCost: 0.1, costRule: 'unit cost + the shipping the customer paid', description: 'delay email refunding the shipping charge' },
] as const;

/** Flattened `[name, value, description]` rows for `truth_parameters`. */
export function behaviourParameters(): [string, number, string][] {
  const out: [string, number, string][] = [];
  for (const [group, coefs] of Object.entries(BEHAVIOUR)) for (const [k, v] of Object.entries(coefs)) out.push([`${group}.${k}`, v.value, v.description]);
  return out;
}
