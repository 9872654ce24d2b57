import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { median } from 'simple-statistics';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { buildReports, writeReports, REPORT_NAMES, type Reports } from '../../src/reports/build-reports.js';
import { DEFAULT_CONTACT_COSTS } from '../../src/reports/cost-to-serve.js';
import { AS_OF, sampleWarehouse } from './fixture.js';

let wh: Warehouse;
let r: Reports;

beforeAll(async () => {
  wh = await sampleWarehouse();
  r = await buildReports(wh, { now: AS_OF });
});
afterAll(async () => {
  await wh.close();
});

const one = async <T>(sql: string, params: (string | number | Date | null)[] = []): Promise<T> => (await wh.one<T>(sql, params))!;

describe('delivery KPIs', () => {
  it('on-time rate and counts equal direct counts', async () => {
    const d = await one<{ n: number; delivered: number; on_time: number }>(
      `SELECT count(*) AS n, count(delivered_at) AS delivered, count(*) FILTER (WHERE delivered_at <= promised_at) AS on_time
       FROM shipments WHERE coalesce(shipped_at, label_created_at, promised_at) <= $1::TIMESTAMPTZ`,
      [AS_OF],
    );
    expect(r.deliveryKpis.overall.shipments).toBe(d.n);
    expect(r.deliveryKpis.overall.delivered).toBe(d.delivered);
    expect(r.deliveryKpis.overall.onTimeRate).toBeCloseTo(d.on_time / d.delivered, 4);
    expect(r.deliveryKpis.overall.onTimeRate!).toBeLessThan(1);
  });

  it('median transit equals the median of hand-off → delivery days', async () => {
    const rows = await wh.all<{ t: number }>(
      'SELECT (epoch(delivered_at) - epoch(shipped_at)) / 86400.0 AS t FROM shipments WHERE delivered_at IS NOT NULL AND shipped_at IS NOT NULL',
    );
    expect(r.deliveryKpis.overall.medianTransitDays).toBeCloseTo(median(rows.map((x) => x.t)), 2);
    expect(r.deliveryKpis.overall.p90TransitDays!).toBeGreaterThan(r.deliveryKpis.overall.medianTransitDays!);
  });

  it('carrier × service and weekly rows partition the shipments', () => {
    const sum = (xs: { shipments: number }[]) => xs.reduce((a, x) => a + x.shipments, 0);
    expect(sum(r.deliveryKpis.byCarrierService)).toBe(r.deliveryKpis.overall.shipments);
    expect(sum(r.deliveryKpis.weekly.filter((w) => w.carrier === null))).toBe(r.deliveryKpis.overall.shipments);
    expect(sum(r.deliveryKpis.weekly.filter((w) => w.carrier !== null))).toBe(r.deliveryKpis.overall.shipments);
    expect(r.deliveryKpis.weekly.every((w) => /^\d{4}-\d{2}-\d{2}$/.test(w.week!) && new Date(`${w.week}T00:00:00Z`).getUTCDay() === 1)).toBe(true);
  });

  it('a period keeps only shipments handed off inside it', async () => {
    const p = await buildReports(wh, { now: AS_OF, from: new Date('2026-03-01T00:00:00Z'), until: new Date('2026-04-01T00:00:00Z') });
    const d = await one<{ n: number }>(
      `SELECT count(*) AS n FROM shipments WHERE coalesce(shipped_at, label_created_at, promised_at) >= TIMESTAMPTZ '2026-03-01 00:00:00+00'
       AND coalesce(shipped_at, label_created_at, promised_at) < TIMESTAMPTZ '2026-04-01 00:00:00+00'`,
    );
    expect(p.deliveryKpis.overall.shipments).toBe(d.n);
    expect(d.n).toBeGreaterThan(0);
    expect(d.n).toBeLessThan(r.deliveryKpis.overall.shipments);
    expect(p.costToServe.overall.shipments).toBe(d.n);
  });
});

describe('email', () => {
  it('delivered and open rates equal direct counts over messages', async () => {
    const d = await one<{ sent: number; delivered: number; opened: number }>(
      `SELECT count(*) FILTER (WHERE status IN ('sent', 'failed')) AS sent,
         count(*) FILTER (WHERE message_id IN (SELECT message_id FROM email_events WHERE event = 'delivered')) AS delivered,
         count(*) FILTER (WHERE message_id IN (SELECT message_id FROM email_events WHERE event = 'delivered')
           AND message_id IN (SELECT message_id FROM email_events WHERE event = 'opened')) AS opened
       FROM email_messages WHERE created_at <= $1::TIMESTAMPTZ`,
      [AS_OF],
    );
    expect(r.email.overall.sent).toBe(d.sent);
    expect(r.email.overall.deliveredRate).toBeCloseTo(d.delivered / d.sent, 4);
    expect(r.email.overall.openRate).toBeCloseTo(d.opened / d.delivered, 4);
    expect(r.email.byKindStream.map((k) => k.kind)).toContain('delay');
    expect(r.email.byKindStream.reduce((a, k) => a + k.messages, 0)).toBe(r.email.overall.messages);
  });
});

describe('CSAT (planted: lateness lowers CSAT, a notice softens it, WISMO rises with lateness)', () => {
  it('late buckets score lower and contact support more', () => {
    const b = Object.fromEntries(r.csat.byLateness.map((x) => [x.bucket, x]));
    expect(b.on_time!.meanScore!).toBeGreaterThan(b.late_1_2!.meanScore!);
    expect(b.late_1_2!.meanScore!).toBeGreaterThan(b.late_3_6!.meanScore!);
    expect(b.late_1_2!.contactsPer100!).toBeGreaterThan(b.on_time!.contactsPer100!);
    expect(b.late_1_2!.wismoContactsPer100!).toBeGreaterThan(b.on_time!.wismoContactsPer100!);
    expect(r.csat.daysLateVsScore.pearson!).toBeLessThan(0);
    expect(r.csat.daysLateVsScore.spearman!).toBeLessThan(0);
    expect(r.csat.byLateness.reduce((a, x) => a + x.responses, 0)).toBe(r.csat.responses);
  });

  it('late deliveries with a proactive notice score higher than those without', () => {
    expect(r.csat.lateWithNotice.responses).toBeGreaterThan(10);
    expect(r.csat.lateWithoutNotice.responses).toBeGreaterThan(10);
    expect(r.csat.lateWithNotice.meanScore!).toBeGreaterThan(r.csat.lateWithoutNotice.meanScore!);
  });

  it('the mean score equals a direct average over responses on delivered shipments', async () => {
    const d = await one<{ m: number; n: number }>(
      `SELECT avg(c.score) AS m, count(*) AS n FROM csat_responses c JOIN shipments s ON s.shipment_id = c.shipment_id
       WHERE s.delivered_at IS NOT NULL AND c.responded_at <= $1::TIMESTAMPTZ`,
      [AS_OF],
    );
    expect(r.csat.responses).toBe(d.n);
    expect(r.csat.meanScore).toBeCloseTo(d.m, 3);
  });
});

describe('cost-to-serve', () => {
  it('freight billed equals the sum of every charge line, and its parts add up', async () => {
    const d = await one<{ total: number }>('SELECT sum(amount) AS total FROM freight_invoice_charges');
    const f = r.costToServe.overall.freight;
    expect(f.billed).toBeCloseTo(d.total, 1);
    expect(f.base + f.fuel + f.accessorials + f.duties + f.credits).toBeCloseTo(f.billed, 1);
    expect(r.costToServe.cohorts.reduce((a, c) => a + c.freight.billed, 0)).toBeCloseTo(f.billed, 1);
    expect(r.costToServe.cohorts.reduce((a, c) => a + c.shipments, 0)).toBe(r.costToServe.overall.shipments);
  });

  it('flags exactly the planted billing errors, with their amounts', async () => {
    const truth = await wh.all<{ t: string; n: number; amount: number }>(
      'SELECT error_type AS t, count(*) AS n, sum(overcharge) AS amount FROM truth_invoice_errors GROUP BY 1',
    );
    const map: Record<string, string> = { duplicate_invoice: 'duplicate_invoice', wrong_accessorial: 'accessorial_mismatch', guaranteed_late_billed_full: 'guaranteed_late_refund_due' };
    for (const t of truth) {
      const s = r.costToServe.billingErrors.summary.find((x) => x.type === map[t.t]);
      expect(s, t.t).toBeDefined();
      expect(s!.count).toBe(t.n);
      expect(s!.amount).toBeCloseTo(t.amount, 1);
    }
    const flagged = new Set(r.costToServe.billingErrors.flags.filter((f) => f.type === 'duplicate_invoice').map((f) => f.invoiceId));
    const truthDup = await wh.all<{ invoice_id: string }>(`SELECT invoice_id FROM truth_invoice_errors WHERE error_type = 'duplicate_invoice'`);
    expect(flagged).toEqual(new Set(truthDup.map((x) => x.invoice_id)));
    // Everything billed above contract is explained by a flagged error.
    expect(r.costToServe.overall.recoverable.total).toBeCloseTo(r.costToServe.overall.freight.overbilled, 1);
  });

  it('returns and support costs equal direct sums', async () => {
    const ret = await one<{ refunds: number }>('SELECT sum(refund_amount) AS refunds FROM returns WHERE refunded_at <= $1::TIMESTAMPTZ', [AS_OF]);
    expect(r.costToServe.overall.returns.refunds).toBeCloseTo(ret.refunds, 1);
    const sup = await wh.all<{ channel: string; n: number }>('SELECT channel, count(*) AS n FROM support_contacts WHERE shipment_id IS NOT NULL GROUP BY 1');
    const cost = sup.reduce((a, s) => a + s.n * (DEFAULT_CONTACT_COSTS[s.channel] ?? DEFAULT_CONTACT_COSTS['*']!), 0);
    expect(r.costToServe.overall.support.cost).toBeCloseTo(cost, 1);
    const o = r.costToServe.overall;
    expect(o.totalCost).toBeCloseTo(o.freight.billed + o.returns.refunds + o.returns.returnShipping + o.support.cost, 1);
    expect(o.costPerShipment).toBeCloseTo(o.totalCost / o.shipments, 2);
  });

  it('uses the configured cost per contact', async () => {
    const c = await buildReports(wh, { now: AS_OF, contactCosts: { '*': 10 } });
    expect(c.costToServe.overall.support.cost).toBeCloseTo(10 * c.costToServe.overall.support.contacts, 2);
  });
});

describe('writeReports', () => {
  it('writes one JSON per report and index.html', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipcast-reports-'));
    try {
      const { files } = await writeReports(wh, dir, { now: AS_OF });
      expect(files.map((f) => path.basename(f))).toEqual([...REPORT_NAMES.map((n) => `${n}.json`), 'index.html']);
      const cost = JSON.parse(await readFile(path.join(dir, 'cost-to-serve.json'), 'utf8'));
      expect(cost.report.cohorts.length).toBe(r.costToServe.cohorts.length);
      expect(cost.meta.asOf).toBe(AS_OF.toISOString());
      const html = await readFile(path.join(dir, 'index.html'), 'utf8');
      expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
