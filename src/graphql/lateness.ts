import type { EtaPrediction } from '../domain/eta.js';

export type LatenessRiskValue = 'ON_TRACK' | 'AT_RISK' | 'LIKELY_LATE' | 'UNKNOWN';

/**
 * Classifies a shipment against its promise from its predicted window. P90 after the promise is
 * the "predictive delay" trigger; P50 after it (or a promise already passed) means likely late.
 */
export function latenessRisk(
  s: { status: string; promisedAt: Date | null; deliveredAt: Date | null },
  eta: Pick<EtaPrediction, 'p50' | 'p90'> | null | undefined,
  now: Date,
): LatenessRiskValue {
  if (s.deliveredAt || s.status === 'delivered' || s.status === 'expired' || !s.promisedAt) return 'UNKNOWN';
  const promise = s.promisedAt.getTime();
  if (promise < now.getTime()) return 'LIKELY_LATE';
  if (!eta) return 'UNKNOWN';
  if (eta.p50.getTime() > promise) return 'LIKELY_LATE';
  if (eta.p90.getTime() > promise) return 'AT_RISK';
  return 'ON_TRACK';
}
