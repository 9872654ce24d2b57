/** All leadership reports for one period, and writing them as JSON files plus a static index.html. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlRunner, Warehouse } from '../warehouse/warehouse.js';
import { ValidationError } from '../errors.js';
import { deliveryKpis, type DeliveryKpiReport } from './delivery-kpis.js';
import { emailReport, type EmailReport } from './email-report.js';
import { csatReport, type CsatReport } from './csat-report.js';
import { costToServe, type ContactCosts, type CostToServeReport } from './cost-to-serve.js';
import { renderReportsHtml } from './html.js';
import type { ReportPeriod } from './scope.js';

export interface ReportMeta {
  generatedAt: string;
  from: string | null;
  until: string | null;
  /** The instant "in flight" and "past promise" were judged at. */
  asOf: string;
}

export interface Reports {
  meta: ReportMeta;
  deliveryKpis: DeliveryKpiReport;
  email: EmailReport;
  csat: CsatReport;
  costToServe: CostToServeReport;
}

/** Report names as served at `/reports/<name>.json` and written as `<name>.json`. */
export const REPORT_NAMES = ['delivery-kpis', 'email', 'csat', 'cost-to-serve'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

export interface ReportOptions {
  /** Inclusive start of the hand-off period. */
  from?: Date;
  /** Exclusive end of the hand-off period (pass the day after the last day wanted). */
  until?: Date;
  /** Default: the current time. */
  now?: Date;
  /** Support cost per contact by channel; default DEFAULT_CONTACT_COSTS. */
  contactCosts?: ContactCosts;
}

/** Validates the options into a period (until defaults to nothing, i.e. up to `now`). */
export function toPeriod(opts: ReportOptions = {}): ReportPeriod {
  const now = opts.now ?? new Date();
  for (const [field, d] of [['from', opts.from], ['until', opts.until], ['now', now]] as const) {
    if (d !== undefined && (!(d instanceof Date) || Number.isNaN(d.getTime()))) throw new ValidationError(field, 'must be a valid date');
  }
  if (opts.from && opts.until && opts.from >= opts.until) throw new ValidationError('until', 'must be after from');
  return { from: opts.from, until: opts.until, now };
}

function meta(period: ReportPeriod): ReportMeta {
  return { generatedAt: new Date().toISOString(), from: period.from?.toISOString() ?? null, until: period.until?.toISOString() ?? null, asOf: period.now.toISOString() };
}

/** One report, for the HTTP route. */
export async function buildReport(db: SqlRunner, name: ReportName, opts: ReportOptions = {}): Promise<{ meta: ReportMeta; report: unknown }> {
  const period = toPeriod(opts);
  const report =
    name === 'delivery-kpis' ? await deliveryKpis(db, period)
    : name === 'email' ? await emailReport(db, period)
    : name === 'csat' ? await csatReport(db, period)
    : await costToServe(db, period, { contactCosts: opts.contactCosts });
  return { meta: meta(period), report };
}

/** Every report for the period. */
export async function buildReports(db: SqlRunner, opts: ReportOptions = {}): Promise<Reports> {
  const period = toPeriod(opts);
  return {
    meta: meta(period),
    deliveryKpis: await deliveryKpis(db, period),
    email: await emailReport(db, period),
    csat: await csatReport(db, period),
    costToServe: await costToServe(db, period, { contactCosts: opts.contactCosts }),
  };
}

/**
 * Builds every report and writes `<name>.json` per report plus a self-contained `index.html` into
 * `outDir` (created if missing). Returns the written paths and the reports.
 */
export async function writeReports(wh: Warehouse, outDir: string, opts: ReportOptions = {}): Promise<{ files: string[]; reports: Reports }> {
  const reports = await buildReports(wh, opts);
  await mkdir(outDir, { recursive: true });
  const bodies: Record<ReportName, unknown> = {
    'delivery-kpis': reports.deliveryKpis,
    email: reports.email,
    csat: reports.csat,
    'cost-to-serve': reports.costToServe,
  };
  const files: string[] = [];
  for (const name of REPORT_NAMES) {
    const file = path.join(outDir, `${name}.json`);
    await writeFile(file, `${JSON.stringify({ meta: reports.meta, report: bodies[name] }, null, 2)}\n`);
    files.push(file);
  }
  const html = path.join(outDir, 'index.html');
  await writeFile(html, renderReportsHtml(reports));
  files.push(html);
  return { files, reports };
}
