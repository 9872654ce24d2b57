import { describe, expect, it } from 'vitest';
import { LATENESS_BUCKETS, latenessBucket, latenessBucketSql } from '../../src/reports/lateness.js';
import { correlate, ratio, round } from '../../src/reports/stats.js';
import { summarizeCsat } from '../../src/reports/csat-report.js';
import { distanceBandLabels, validateContactCosts } from '../../src/reports/cost-to-serve.js';
import { parseDay, periodFromDays } from '../../src/reports/scope.js';
import { toPeriod } from '../../src/reports/build-reports.js';
import { barChart, escapeHtml, money, pct } from '../../src/reports/html.js';
import { parseContactCosts } from '../../src/cli/report-command.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';

describe('lateness buckets', () => {
  it('puts boundary days in the documented bucket', () => {
    expect(latenessBucket(-3)).toBe('early');
    expect(latenessBucket(-1)).toBe('early');
    expect(latenessBucket(-0.5)).toBe('on_time');
    expect(latenessBucket(0)).toBe('on_time');
    expect(latenessBucket(0.01)).toBe('late_1_2');
    expect(latenessBucket(2)).toBe('late_1_2');
    expect(latenessBucket(2.5)).toBe('late_3_6');
    expect(latenessBucket(6)).toBe('late_3_6');
    expect(latenessBucket(6.01)).toBe('late_7_plus');
    expect(() => latenessBucket(Number.NaN)).toThrow(/finite/);
  });

  it('the SQL expression agrees with the TypeScript function', async () => {
    const wh = await openWarehouse(':memory:');
    try {
      const values = [-5, -1, -0.99, 0, 0.001, 1.5, 2, 2.0001, 5.9, 6, 6.5, 30];
      const rows = await wh.all<{ d: number; b: string }>(
        `SELECT d, ${latenessBucketSql('d')} AS b FROM (SELECT unnest([${values.join(', ')}]::DOUBLE[]) AS d) ORDER BY d`,
      );
      expect(rows.map((r) => r.b)).toEqual(values.map(latenessBucket));
      expect(new Set(rows.map((r) => r.b)).size).toBe(LATENESS_BUCKETS.length);
    } finally {
      await wh.close();
    }
  });
});

describe('stats', () => {
  it('ratio is null over nothing; round keeps null', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(1, 4)).toBe(0.25);
    expect(round(null)).toBeNull();
    expect(round(1 / 3, 3)).toBe(0.333);
    expect(Object.is(round(-0.001, 2), 0)).toBe(true);
  });

  it('correlates perfectly monotone and anti-monotone data', () => {
    expect(correlate([1, 2, 3, 4], [2, 4, 6, 8])).toEqual({ n: 4, pearson: 1, spearman: 1 });
    const c = correlate([1, 2, 3, 4], [10, 9, 1, 0]);
    expect(c.spearman).toBe(-1);
    expect(c.pearson!).toBeLessThan(-0.9);
    expect(correlate([1, 2], [1, 2]).pearson).toBeNull();
    expect(correlate([1, 1, 1], [1, 2, 3]).pearson).toBeNull();
    expect(() => correlate([1], [1, 2])).toThrow(/length/);
  });

  it('summarizes CSAT points by bucket and notice', () => {
    const s = summarizeCsat([
      { daysLate: -2, score: 5, notified: false },
      { daysLate: -0.5, score: 4, notified: false },
      { daysLate: 1, score: 3, notified: true },
      { daysLate: 1.5, score: 1, notified: false },
      { daysLate: 4, score: 2, notified: false },
    ]);
    expect(s.responses).toBe(5);
    expect(s.meanScore).toBe(3);
    expect(s.byBucket.get('late_1_2')).toEqual({ responses: 2, meanScore: 2 });
    expect(s.byBucket.get('late_7_plus')).toEqual({ responses: 0, meanScore: null });
    expect(s.lateWithNotice).toEqual({ responses: 1, meanScore: 3 });
    expect(s.lateWithoutNotice).toEqual({ responses: 2, meanScore: 1.5 });
    expect(s.daysLateVsScore.pearson!).toBeLessThan(0);
  });
});

describe('inputs', () => {
  it('parses days strictly and makes until inclusive', () => {
    expect(parseDay('from', '2026-02-28')).toEqual(new Date('2026-02-28T00:00:00Z'));
    expect(parseDay('from', undefined)).toBeUndefined();
    expect(() => parseDay('from', '2026-02-30')).toThrow(/from: must be a date/);
    expect(() => parseDay('until', '28/02/2026')).toThrow(/until/);
    expect(periodFromDays('2026-01-01', '2026-01-31')).toEqual({ from: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-02-01T00:00:00Z') });
    expect(() => toPeriod({ from: new Date('2026-02-01'), until: new Date('2026-01-01') })).toThrow(/until: must be after from/);
  });

  it('parses and validates contact costs', () => {
    expect(parseContactCosts('email=3.5, phone=9,*=4')).toEqual({ email: 3.5, phone: 9, '*': 4 });
    expect(() => parseContactCosts('phone=-1')).toThrow(/contact-cost/);
    expect(() => parseContactCosts('')).toThrow(/at least one/);
    expect(() => validateContactCosts({ phone: Number.NaN })).toThrow(/contactCosts.phone/);
  });

  it('labels distance bands in order', () => {
    expect(distanceBandLabels()).toEqual(['< 500 km', '500–1,500 km', '1,500–3,000 km', '3,000+ km']);
  });
});

describe('html helpers', () => {
  it('escapes, formats and scales bars', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(pct(0.1234)).toBe('12.3%');
    expect(pct(null)).toBe('—');
    expect(money(1234.5)).toBe('$1,234.50');
    const svg = barChart('t', [{ label: 'a', value: 0.5, text: '50%' }, { label: '<b>', value: null, text: '—' }], { max: 1 });
    expect(svg).toContain('width="150.0"');
    expect(svg).toContain('&lt;b&gt;');
    expect(svg).toContain('width="0.0"');
  });
});
