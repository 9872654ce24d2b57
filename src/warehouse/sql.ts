/**
 * `$start, $start+1, …` — `n` positional parameters for an `IN (…)` list or a VALUES row, so
 * variable-length inputs stay parameterized instead of being spliced into SQL.
 */
export function sqlPlaceholders(n: number, start = 1): string {
  return Array.from({ length: n }, (_, i) => `$${start + i}`).join(', ');
}
