/**
 * Metrics of a probability forecast against 0/1 outcomes: ranking (AUC, PR-AUC), accuracy of the
 * probabilities (Brier, log loss) and calibration (ECE). Pure functions.
 */

/** Sorted order of `scores`, descending. */
function descending(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => scores[b] - scores[a]);
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (the Mann–Whitney statistic). NaN without both classes.
 */
export function auc(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = descending(scores);
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < y.length; i++) (y[i] === 1 ? pos++ : neg++);
  if (pos === 0 || neg === 0) return NaN;
  // Walk groups of tied scores from the top: each negative in a group beats the positives below it.
  let posAbove = 0;
  let sum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let p = 0;
    let n = 0;
    while (j < order.length && scores[order[j]] === scores[order[i]]) {
      if (y[order[j]] === 1) p++;
      else n++;
      j++;
    }
    sum += n * (posAbove + p / 2);
    posAbove += p;
    i = j;
  }
  return sum / (pos * neg);
}

/**
 * Area under the precision–recall curve as average precision: the mean, over positives, of the
 * precision at the threshold that first includes them (tied scores enter together). NaN without positives.
 */
export function prAuc(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = descending(scores);
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) pos++;
  if (pos === 0) return NaN;
  let tp = 0;
  let seen = 0;
  let sum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    let p = 0;
    while (j < order.length && scores[order[j]] === scores[order[i]]) {
      if (y[order[j]] === 1) p++;
      j++;
    }
    tp += p;
    seen += j - i;
    sum += p * (tp / seen);
    i = j;
  }
  return sum / pos;
}

/** Mean squared error of the probabilities. */
export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - y[i]) ** 2;
  return p.length ? s / p.length : NaN;
}

/** Mean negative log-likelihood, with probabilities clipped to [1e-7, 1 − 1e-7]. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return p.length ? s / p.length : NaN;
}

/** Default number of bins of `ece`. */
export const ECE_BINS = 10;

/**
 * Expected calibration error over `bins` equal-count bins of the sorted probabilities: the
 * row-weighted mean of |mean prediction − observed rate| per bin. Equal-count bins (rather than
 * equal-width) because return probabilities crowd below 0.3: equal-width bins would put nearly
 * every row into two or three bins, where errors of opposite sign cancel.
 */
export function ece(p: ArrayLike<number>, y: ArrayLike<number>, bins = ECE_BINS): number {
  if (p.length === 0) return NaN;
  return reliability(p, y, bins).reduce((s, b) => s + b.n * Math.abs(b.meanPredicted - b.observed), 0) / p.length;
}

/**
 * ECE over `bins` equal-width bins of [0, 1] (the common definition, e.g. Guo et al. 2017), for
 * comparison with `ece`: with probabilities crowded at the low end it averages over fewer bins.
 */
export function eceEqualWidth(p: ArrayLike<number>, y: ArrayLike<number>, bins = ECE_BINS): number {
  const n = p.length;
  if (n === 0) return NaN;
  const sp = new Float64Array(bins);
  const sy = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i] * bins)));
    sp[b] += p[i];
    sy[b] += y[i];
  }
  let total = 0;
  for (let b = 0; b < bins; b++) total += Math.abs(sp[b] - sy[b]);
  return total / n;
}

/** The reliability table behind `ece`: per equal-count bin, its rows, mean prediction and observed rate. */
export function reliability(p: ArrayLike<number>, y: ArrayLike<number>, bins = ECE_BINS): { n: number; meanPredicted: number; observed: number }[] {
  const n = p.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  const out: { n: number; meanPredicted: number; observed: number }[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * n) / bins);
    const hi = Math.floor(((b + 1) * n) / bins);
    if (hi <= lo) continue;
    let sp = 0;
    let sy = 0;
    for (let k = lo; k < hi; k++) {
      sp += p[order[k]];
      sy += y[order[k]];
    }
    out.push({ n: hi - lo, meanPredicted: sp / (hi - lo), observed: sy / (hi - lo) });
  }
  return out;
}

export interface ProbabilityMetrics {
  n: number;
  positives: number;
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  /** Over equal-count bins (`ece`). */
  ece: number;
  /** Over equal-width bins (`eceEqualWidth`). */
  eceEqualWidth: number;
}

/** Every metric at once. */
export function probabilityMetrics(p: ArrayLike<number>, y: ArrayLike<number>): ProbabilityMetrics {
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) positives++;
  return { n: p.length, positives, auc: auc(p, y), prAuc: prAuc(p, y), brier: brier(p, y), logLoss: logLoss(p, y), ece: ece(p, y), eceEqualWidth: eceEqualWidth(p, y) };
}
