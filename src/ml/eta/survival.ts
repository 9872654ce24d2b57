/**
 * Conditions a predicted delivery window on "not delivered yet". A window predicted at purchase or
 * from an old scan can start in the past; for a parcel still open at `now`, the right window is the
 * distribution of the delivery time given that it is later than `now`.
 *
 * The predicted P10/P50/P90 define a piecewise-linear quantile function Q (extended linearly past
 * the ends). With F0 = F(now), the conditional quantiles are Q(F0 + q·(1 − F0)). Near and past
 * the P90 a linear tail understates the uncertainty (real delivery tails are heavy), so F0 is capped
 * at 0.9, the window then starts at `now`, and it is never narrower than half the original P10–P90
 * width: an overdue parcel gets an honest, not a falsely precise, window.
 */
const LEVELS = [0.1, 0.5, 0.9] as const;
const MAX_F0 = 0.9;
const MIN_WIDTH_SHARE = 0.5;

/** Instants as epoch milliseconds: [p10, p50, p90]. Returns them unchanged when p10 ≥ now. */
export function conditionOnUndelivered(window: readonly [number, number, number], now: number): [number, number, number] {
  const [a, b, c] = window;
  if (a >= now) return [a, b, c];
  const lowSlope = (b - a) / 0.4; // ms per unit of probability, between P10 and P50
  const highSlope = (c - b) / 0.4;
  const q = (p: number): number => {
    if (p <= 0.5) return b - (0.5 - p) * lowSlope;
    return b + (p - 0.5) * highSlope;
  };
  const cdf = (t: number): number => {
    if (t <= b) return lowSlope > 0 ? 0.5 - (b - t) / lowSlope : 0.5;
    return highSlope > 0 ? 0.5 + (t - b) / highSlope : 1;
  };
  const f0 = Math.min(Math.max(cdf(now), 0), MAX_F0);
  const out = LEVELS.map((level) => q(f0 + level * (1 - f0))) as [number, number, number];
  // Overdue beyond the capped level: keep the shape, start the window now.
  const shift = Math.max(0, now - out[0]);
  const start = out[0] + shift;
  const width = out[2] - out[0];
  const minWidth = MIN_WIDTH_SHARE * (c - a);
  const stretch = width > 0 && width < minWidth ? minWidth / width : 1;
  return [start, start + (out[1] - out[0]) * stretch, start + width * stretch];
}
