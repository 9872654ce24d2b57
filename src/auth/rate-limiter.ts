/**
 * Per-key token buckets: each key may burst up to `burstSeconds` worth of its rate, then is held
 * to its rate. In memory, per process; a restart forgives everyone, which is acceptable for a
 * single self-hosted process.
 */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until one token is available again (when refused). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string, ratePerSecond: number, now?: number): RateDecision;
}

export function createRateLimiter(opts: { burstSeconds?: number; maxKeys?: number } = {}): RateLimiter {
  const burstSeconds = opts.burstSeconds ?? 2;
  const maxKeys = opts.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, rate, now = performance.now()) {
      const capacity = Math.max(1, rate * burstSeconds);
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) buckets.clear();
        b = { tokens: capacity, at: now };
        buckets.set(key, b);
      }
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
    },
  };
}
