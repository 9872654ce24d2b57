/**
 * Deterministic randomness. JS-side dimension tables use a seeded mulberry32 stream; row-level
 * draws happen inside DuckDB through hash-based macros so generation is parallel yet reproducible.
 */

export { mulberry32 } from '../random.js';


/** Standard normal draw from a uniform source (Box–Muller). */
export function normal(rand: () => number): number {
  const u1 = Math.max(rand(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rand());
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * SQL for the per-row random macros, bound to one seed:
 * - `su(i, s)`: uniform in (0, 1) for row key `i` and integer stream `s` (< 4096);
 * - `sn(i, s)`: standard normal (Box–Muller over streams s and s + 2048), clamped to ±6 so that
 *   calendar lookups stay within range (the truncation has probability < 2e-9).
 * Row keys and streams are packed into one BIGINT before hashing: DuckDB's multi-argument hash
 * combines its inputs too weakly (draws from different string streams were visibly correlated).
 */
export function randomMacrosSql(seed: number): string {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 31) throw new RangeError(`seed must be an integer in [0, 2^31), got ${seed}`);
  // One fixed odd multiplier spreads nearby seeds far apart before the XOR.
  const mix = (BigInt(seed) * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n) & 0x3fffffffffffffffn;
  return `
CREATE OR REPLACE TEMP MACRO su(i, s) AS ((hash(xor(i::BIGINT * 4096 + s, ${mix}::BIGINT)) >> 11)::DOUBLE + 0.5) / 9007199254740992.0;
CREATE OR REPLACE TEMP MACRO sn(i, s) AS greatest(-6.0, least(6.0, sqrt(-2 * ln(su(i, s))) * cos(2 * pi() * su(i, s + 2048))));
`;
}
