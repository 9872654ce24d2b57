/**
 * The serving risk signal: the probability that a shipment misses its promise, read off its ETA
 * window. The window's P10/P50/P90 are joined by straight lines (extended beyond them with the
 * neighbouring slope), and the risk is 1 − F(promised_at), kept within [0.01, 0.99].
 */
import type { EtaPrediction } from '../../domain/eta.js';

export function lateProbability(w: Pick<EtaPrediction, 'p10' | 'p50' | 'p90'>, promisedAt: Date): number {
  const [a, b, c] = [w.p10.getTime(), w.p50.getTime(), w.p90.getTime()];
  const t = promisedAt.getTime();
  const seg = (x0: number, x1: number, f0: number, f1: number) => (x1 > x0 ? f0 + ((t - x0) * (f1 - f0)) / (x1 - x0) : t >= x1 ? f1 : f0);
  const f = t <= b ? seg(a, b, 0.1, 0.5) : seg(b, c, 0.5, 0.9);
  return Math.min(0.99, Math.max(0.01, 1 - f));
}
