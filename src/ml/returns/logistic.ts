/**
 * The logistic-regression baseline: a linear model on the same encoded inputs as the network,
 * fitted in plain TypeScript by iteratively reweighted least squares (Newton's method) with a
 * small ridge penalty (which also resolves the one-hot blocks' collinearity with the intercept).
 * Pure, deterministic, no tfjs.
 */
import type { EncodedReturns } from '../../features/returns/encode.js';
import { sigmoid } from './calibration.js';

export interface LogisticModel {
  /** One weight per encoded column. */
  weights: Float64Array;
  intercept: number;
  iterations: number;
}

/** Solves A x = b for a symmetric positive definite A (row-major d×d) by Cholesky; A is overwritten. */
function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
    const l = Math.sqrt(Math.max(s, 1e-12));
    A[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = t / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < i; k++) x[i] -= A[i * d + k] * x[k];
    x[i] /= A[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    for (let k = i + 1; k < d; k++) x[i] -= A[k * d + i] * x[k];
    x[i] /= A[i * d + i];
  }
  return x;
}

/**
 * Fits the model by IRLS: each step solves (XᵀWX + λI) Δ = Xᵀ(y − p) − λβ over the columns plus
 * an intercept (not penalized), until the largest step is below `tol`.
 */
export function fitLogistic(enc: EncodedReturns, y: ArrayLike<number>, opts: { l2?: number; maxIter?: number; tol?: number } = {}): LogisticModel {
  const { n, width } = enc;
  const d = width + 1;
  const l2 = opts.l2 ?? 1;
  const beta = new Float64Array(d);
  const row = new Float64Array(d);
  let iterations = 0;
  for (let it = 0; it < (opts.maxIter ?? 25); it++) {
    iterations = it + 1;
    const H = new Float64Array(d * d);
    const g = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const o = r * width;
      let z = beta[width];
      for (let j = 0; j < width; j++) {
        row[j] = enc.x[o + j];
        z += beta[j] * row[j];
      }
      row[width] = 1;
      const p = sigmoid(z);
      const w = Math.max(p * (1 - p), 1e-9);
      const res = y[r] - p;
      for (let j = 0; j < d; j++) {
        const xj = row[j];
        if (xj === 0) continue;
        g[j] += res * xj;
        const wx = w * xj;
        // Lower triangle only; the one-hot columns are mostly zero, which the skip above exploits.
        for (let k = 0; k <= j; k++) H[j * d + k] += wx * row[k];
      }
    }
    for (let j = 0; j < d; j++) for (let k = j + 1; k < d; k++) H[j * d + k] = H[k * d + j];
    for (let j = 0; j < width; j++) {
      H[j * d + j] += l2;
      g[j] -= l2 * beta[j];
    }
    H[width * d + width] += 1e-9;
    const step = choleskySolve(H, g, d);
    let max = 0;
    for (let j = 0; j < d; j++) {
      beta[j] += step[j];
      max = Math.max(max, Math.abs(step[j]));
    }
    if (max < (opts.tol ?? 1e-6)) break;
  }
  return { weights: beta.slice(0, width), intercept: beta[width], iterations };
}

/** Predicted probabilities for every encoded row. */
export function predictLogistic(m: LogisticModel, enc: EncodedReturns): Float64Array {
  const out = new Float64Array(enc.n);
  for (let r = 0; r < enc.n; r++) {
    let z = m.intercept;
    const o = r * enc.width;
    for (let j = 0; j < enc.width; j++) z += m.weights[j] * enc.x[o + j];
    out[r] = sigmoid(z);
  }
  return out;
}
