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
    noticeWhenLate: c(0.5, 'latent CSAT shift when late and a proactive delay notice was sent'),
    noticeWhenOnTime: c(-0.1, 'latent CSAT shift when a delay notice was sent but delivery was on time'),
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
    noticeWhenLate: c(-0.07, 'WISMO probability shift when late and notified'),
    returnToSender: c(0.5, 'WISMO probability of a shipment returned to sender'),
  },
  nba: {
    riskIntercept: c(-2.5, 'risk-signal log-odds intercept'),
    riskHold: c(2.0, 'risk-signal log-odds when held by a disruption'),
    riskLate: c(2.5, 'risk-signal log-odds when the shipment will be late (the signal is a noisy oracle)'),
    riskNoise: c(0.8, 'sd of the risk-signal noise'),
    retainIntercept: c(-0.8, 'retention log-odds intercept'),
    retainLate: c(-0.9, 'retention log-odds when late'),
    retainLateDays: c(-0.15, 'retention log-odds per day late (capped at 5)'),
  },
} as const;

/** The true action effects on retention log-odds, and what each action costs. */
export const NBA_ACTIONS = [
  { action: 'none', logitEffect: 0, logitEffectIfLate: 0, costShare: 0, description: 'do nothing' },
  { action: 'proactive_delay_notice', logitEffect: 0.1, logitEffectIfLate: 0.55, costShare: 0, description: 'email the customer about the delay before they ask' },
  { action: 'discount_10', logitEffect: 0.4, logitEffectIfLate: 0.1, costShare: 0.1, description: '10% off the next order' },
  { action: 'free_return', logitEffect: 0.1, logitEffectIfLate: 0.05, costShare: 0.02, description: 'waive the return shipping fee' },
] as const;

/** Flattened `[name, value, description]` rows for `truth_parameters`. */
export function behaviourParameters(): [string, number, string][] {
  const out: [string, number, string][] = [];
  for (const [group, coefs] of Object.entries(BEHAVIOUR)) for (const [k, v] of Object.entries(coefs)) out.push([`${group}.${k}`, v.value, v.description]);
  return out;
}
