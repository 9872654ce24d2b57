import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, generateResolverTypes } from '../../scripts/codegen.js';
import { DateTimeScalar } from '../../src/graphql/scalars.js';
import { latenessRisk } from '../../src/graphql/lateness.js';
import { decodeCursor, encodeCursor } from '../../src/graphql/cursor.js';
import { createRateLimiter } from '../../src/auth/rate-limiter.js';

describe('schema-first codegen', () => {
  it('the committed resolver types match schema.graphql (run `npm run codegen`)', async () => {
    expect(fs.readFileSync(GENERATED_FILE, 'utf8')).toBe(await generateResolverTypes());
  });
});

describe('pure helpers', () => {
  const now = new Date('2026-11-27T12:00:00Z');
  const day = 86_400_000;
  const at = (d: number) => new Date(now.getTime() + d * day);
  const open = { status: 'in_transit', promisedAt: at(3), deliveredAt: null };

  it('classifies lateness risk against the promise', () => {
    expect(latenessRisk(open, { p50: at(1), p90: at(2) }, now)).toBe('ON_TRACK');
    expect(latenessRisk(open, { p50: at(2), p90: at(4) }, now)).toBe('AT_RISK');
    expect(latenessRisk(open, { p50: at(4), p90: at(5) }, now)).toBe('LIKELY_LATE');
    expect(latenessRisk({ ...open, promisedAt: at(-1) }, null, now)).toBe('LIKELY_LATE');
    expect(latenessRisk(open, null, now)).toBe('UNKNOWN');
    expect(latenessRisk({ ...open, promisedAt: null }, { p50: at(4), p90: at(5) }, now)).toBe('UNKNOWN');
    expect(latenessRisk({ ...open, status: 'delivered', deliveredAt: at(-1) }, null, now)).toBe('UNKNOWN');
  });

  it('DateTime accepts only ISO-8601 instants with an offset', () => {
    expect(DateTimeScalar.parseValue('2026-11-27T12:00:00Z')).toEqual(now);
    expect(DateTimeScalar.parseValue('2026-11-27T09:00:00-03:00')).toEqual(now);
    for (const bad of ['2026-11-27', '2026-11-27T12:00:00', 'tomorrow', 12, '2026-13-45T99:00:00Z']) expect(() => DateTimeScalar.parseValue(bad)).toThrow();
    expect(DateTimeScalar.serialize(now)).toBe('2026-11-27T12:00:00.000Z');
  });

  it('cursors round-trip and refuse foreign ones', () => {
    expect(decodeCursor('shipment', encodeCursor('shipment', 'S1'), 'after')).toBe('S1');
    expect(() => decodeCursor('shipment', encodeCursor('event', 3), 'after')).toThrow(/after/);
    expect(() => decodeCursor('shipment', '%%%', 'after')).toThrow(/after/);
  });

  it('token buckets allow a burst, then the rate', () => {
    const rl = createRateLimiter({ burstSeconds: 2 });
    const results = Array.from({ length: 5 }, () => rl.take('k', 2, 0).allowed);
    expect(results).toEqual([true, true, true, true, false]);
    expect(rl.take('k', 2, 400).allowed).toBe(false);
    expect(rl.take('k', 2, 600).allowed).toBe(true);
    expect(rl.take('other', 2, 600).allowed).toBe(true);
  });
});
