/**
 * The category-rate baseline: every order gets its category's return rate in the training
 * examples, shrunk towards the overall rate by `prior` pseudo-orders so a rare category is not
 * 0 % or 100 %; unseen categories get the overall rate. Pure.
 */
export interface CategoryRates {
  overall: number;
  rates: Record<string, number>;
}

export function fitCategoryRates(category: readonly (string | null)[], y: ArrayLike<number>, prior = 20): CategoryRates {
  let sum = 0;
  const acc = new Map<string, { n: number; s: number }>();
  for (let i = 0; i < category.length; i++) {
    sum += y[i];
    const k = category[i] ?? '';
    const a = acc.get(k) ?? { n: 0, s: 0 };
    a.n++;
    a.s += y[i];
    acc.set(k, a);
  }
  const overall = category.length ? sum / category.length : 0;
  const rates: Record<string, number> = {};
  for (const [k, a] of [...acc].sort((x, z) => x[0].localeCompare(z[0]))) rates[k] = (a.s + prior * overall) / (a.n + prior);
  return { overall, rates };
}

export function predictCategoryRates(m: CategoryRates, category: readonly (string | null)[]): Float64Array {
  return Float64Array.from(category, (c) => m.rates[c ?? ''] ?? m.overall);
}
