/**
 * Platt scaling: a calibrated probability σ(a·z + b) from the network's logit z, with a and b
 * fitted by maximum likelihood on the time-ordered validation slice the network did not train
 * on. Two parameters cannot overfit a slice of thousands of rows, and a monotone map keeps the
 * ranking (so AUC and PR-AUC are unchanged). Pure functions.
 */

export interface PlattCalibration {
  method: 'platt';
  a: number;
  b: number;
  /** Rows it was fitted on. */
  n: number;
}

/** The logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The log-odds of p, with p clipped to [1e-7, 1 − 1e-7]. */
export function logit(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

/**
 * Fits a and b by Newton's method on the log-likelihood of y given σ(a·z + b) (a tiny ridge keeps
 * the Hessian invertible when the slice is separable or has one class). Starts at the identity.
 */
export function fitPlatt(z: ArrayLike<number>, y: ArrayLike<number>, maxIter = 50): PlattCalibration {
  let a = 1;
  let b = 0;
  const ridge = 1e-6 * Math.max(1, z.length);
  for (let it = 0; it < maxIter; it++) {
    let ga = 0;
    let gb = 0;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < z.length; i++) {
      const p = sigmoid(a * z[i] + b);
      const r = p - y[i];
      const w = p * (1 - p);
      ga += r * z[i];
      gb += r;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    ga += ridge * (a - 1);
    gb += ridge * b;
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { method: 'platt', a, b, n: z.length };
}

/** Calibrated probability of one logit. */
export function calibrate(c: PlattCalibration, z: number): number {
  return sigmoid(c.a * z + c.b);
}

/** Calibrated probabilities of many logits. */
export function calibrateAll(c: PlattCalibration, z: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: z.length }, (_, i) => calibrate(c, z[i]));
}
