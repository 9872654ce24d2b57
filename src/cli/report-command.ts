import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { writeReports } from '../reports/build-reports.js';
import { parseDay, periodFromDays } from '../reports/scope.js';
import { ValidationError } from '../errors.js';
import type { ContactCosts } from '../reports/cost-to-serve.js';

/** Parses `email=4,chat=5,phone=8,*=5` into per-channel contact costs. */
export function parseContactCosts(s: string): ContactCosts {
  const out: ContactCosts = {};
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_*][\w-]*)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new ValidationError('contact-cost', `expected channel=amount pairs such as email=4,phone=8 (got "${part}")`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new ValidationError('contact-cost', 'must list at least one channel=amount');
  return out;
}

/** `shipcast report`: writes every leadership report as JSON plus index.html. */
export function registerReportCommand(program: Command, rt: CliRuntime): void {
  program
    .command('report')
    .description('write the leadership reports (JSON per report and a static index.html)')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--out <dir>', 'output directory', 'data/reports')
    .option('--json', 'print a JSON summary')
    .option('--from <date>', 'first hand-off day, YYYY-MM-DD (inclusive)')
    .option('--until <date>', 'last hand-off day, YYYY-MM-DD (inclusive)')
    .option('--as-of <date>', 'judge in-flight and past-promise at this day (default now), YYYY-MM-DD')
    .option('--contact-cost <list>', 'support cost per contact by channel, e.g. email=4,chat=5,phone=8,*=5')
    .action(async (opts: { db?: string; out: string; json?: boolean; from?: string; until?: string; asOf?: string; contactCost?: string }) => {
      const { from, until } = periodFromDays(opts.from, opts.until);
      const now = parseDay('as-of', opts.asOf);
      const contactCosts = opts.contactCost === undefined ? undefined : parseContactCosts(opts.contactCost);
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const { files, reports } = await writeReports(warehouse, opts.out, { from, until, now, contactCosts });
        const d = reports.deliveryKpis.overall;
        const k = reports.costToServe.overall;
        const summary = {
          files,
          shipments: d.shipments,
          onTimeRate: d.onTimeRate,
          csatMean: reports.csat.meanScore,
          costPerShipment: k.costPerShipment,
          recoverableBilling: k.recoverable.total,
        };
        if (opts.json) {
          rt.out(JSON.stringify(summary));
          return;
        }
        for (const f of files) rt.out(`wrote ${f}`);
        const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
        rt.out(`shipments ${d.shipments}, on time ${pct(d.onTimeRate)}, mean CSAT ${reports.csat.meanScore ?? '—'}, cost-to-serve/shipment ${k.costPerShipment ?? '—'}, recoverable billing ${k.recoverable.total}`);
      });
    });
}
