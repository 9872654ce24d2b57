import { describe, expect, it } from 'vitest';
import { haversineKm, zoneForDistance, METROS } from '../../src/synth/geo.js';
import { buildCalendar, dayNumber, deliveryRollForward, holidays, isoDate } from '../../src/synth/calendar.js';
import { mulberry32, normalQuantile, randomMacrosSql } from '../../src/synth/random.js';
import { buildDimensions, buildLanes } from '../../src/synth/dimensions.js';
import { DEFAULT_KNOBS } from '../../src/synth/knobs.js';
import { tempTableSql, lit } from '../../src/synth/sql-literals.js';

describe('synthetic generator: pure parts', () => {
  it('measures great-circle distance and maps it to carrier zones', () => {
    // New York to Los Angeles is about 3,936 km.
    expect(haversineKm(40.71, -74.01, 34.05, -118.24)).toBeGreaterThan(3900);
    expect(haversineKm(40.71, -74.01, 34.05, -118.24)).toBeLessThan(3970);
    expect(haversineKm(10, 10, 10, 10)).toBe(0);
    expect(zoneForDistance(0)).toBe(2);
    expect(zoneForDistance(240)).toBe(2);
    expect(zoneForDistance(241)).toBe(3);
    expect(zoneForDistance(1000)).toBe(5);
    expect(zoneForDistance(5000)).toBe(8);
    expect(() => zoneForDistance(-1)).toThrow(/non-negative/);
  });

  it('knows the fixed holidays and which days each service delivers on', () => {
    expect(holidays(2026).map((h) => isoDate(h.day))).toEqual(['2026-01-01', '2026-05-25', '2026-07-04', '2026-09-07', '2026-11-26', '2026-12-25']);
    const from = dayNumber(new Date('2026-11-20T00:00:00Z'));
    const cal = buildCalendar(from, from + 40);
    const thanksgiving = cal.find((d) => isoDate(d.day) === '2026-11-26')!;
    expect(thanksgiving.businessDay).toBe(false);
    expect(thanksgiving.delivers.ground).toBe(false);
    expect(thanksgiving.delivers.express).toBe(true);
    for (const d of cal) if (d.dow === 0) expect(d.delivers.ground || d.delivers.express).toBe(false);
    expect(cal.find((d) => isoDate(d.day) === '2026-12-01')!.peakLog).toBeGreaterThan(0);
    expect(cal.find((d) => isoDate(d.day) === '2026-11-24')!.peakLog).toBe(0);
  });

  it('rolls arrivals forward onto delivery days in contiguous blocks', () => {
    const from = dayNumber(new Date('2026-11-20T00:00:00Z'));
    const cal = buildCalendar(from, from + 60);
    const byDay = new Map(cal.map((d) => [d.day, d]));
    for (const cls of ['ground', 'express'] as const) {
      const rf = deliveryRollForward(cal, cls);
      for (const r of rf) {
        expect(byDay.get(r.target)!.delivers[cls]).toBe(true);
        expect(r.blockStart).toBeLessThanOrEqual(r.day);
        expect(r.day).toBeLessThanOrEqual(r.target);
        for (let d = r.day; d < r.target; d++) expect(byDay.get(d)!.delivers[cls]).toBe(false);
      }
      // Blocks tile the calendar: each block starts the day after the previous target.
      const targets = [...new Set(rf.map((r) => r.target))];
      for (let k = 1; k < targets.length; k++) expect(rf.find((r) => r.target === targets[k])!.blockStart).toBe(targets[k - 1] + 1);
    }
  });

  it('draws reproducible randomness and rejects bad seeds', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263478740, 8);
    expect(() => normalQuantile(1)).toThrow(RangeError);
    expect(() => randomMacrosSql(-1)).toThrow(/seed/);
    expect(randomMacrosSql(1)).not.toEqual(randomMacrosSql(2));
  });

  it('plants the slow lane and keeps lanes deterministic per seed', () => {
    const lanes = buildLanes(DEFAULT_KNOBS, mulberry32(9));
    expect(lanes).toHaveLength(METROS.length * 4);
    const slow = lanes.find((l) => l.laneId === DEFAULT_KNOBS.slowLane)!;
    expect(slow.planted).toBe('slow');
    expect(slow.mult).toBe(DEFAULT_KNOBS.slowLaneMult);
    const others = lanes.filter((l) => l.planted === null).map((l) => l.mult);
    expect(Math.max(...others)).toBeLessThan(DEFAULT_KNOBS.slowLaneMult);
    expect(buildLanes(DEFAULT_KNOBS, mulberry32(9))).toEqual(lanes);
    const d1 = buildDimensions(1, new Date('2026-06-01T00:00:00Z'), DEFAULT_KNOBS);
    const d2 = buildDimensions(1, new Date('2026-06-01T00:00:00Z'), DEFAULT_KNOBS);
    expect(d1.sql).toBe(d2.sql);
    expect(d1.disruptions.some((d) => d.kind === 'weather') && d1.disruptions.some((d) => d.kind === 'customs')).toBe(true);
  });

  it('renders literals safely and checks row widths', () => {
    expect(lit("O'Hare")).toBe("'O''Hare'");
    expect(lit(null)).toBe('NULL');
    expect(() => lit(Number.NaN)).toThrow(/non-finite/);
    expect(() => tempTableSql('_x', [['a', 'INTEGER']], [[1, 2]])).toThrow(/expected 1/);
  });
});
