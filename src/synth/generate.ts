/**
 * `generateSample`: fills every canonical table with a deterministic synthetic history ending at
 * `asOf`, plus the ground-truth tables of migrations 002 and 010. Rows are generated inside DuckDB (see
 * stages.ts); only the small dimension tables are built in JS.
 */
import type { Warehouse, SqlRunner } from '../warehouse/warehouse.js';
import { ShipcastError, ValidationError } from '../errors.js';
import { buildDimensions } from './dimensions.js';
import { DEFAULT_KNOBS, type SynthKnobs } from './knobs.js';
import { randomMacrosSql } from './random.js';
import { buildStages, TEMP_TABLES } from './stages.js';
import { behaviourParameters, NBA_ACTIONS } from './behaviour.js';
import { tempTableSql, lit } from './sql-literals.js';
import { FULFILMENT_CENTRES, METROS } from './geo.js';
import { deliveryCalendarSql } from './delivery-calendar.js';
import { serviceAlertsSql } from './service-alerts.js';
import { withIndexesDeferred } from '../warehouse/bulk-indexes.js';
import { ELIGIBILITY_RULES } from '../ml/nba/eligibility.js';

/** Bumped whenever the same (seed, shipments, asOf) would produce different data. */
export const GENERATOR_VERSION = 'synth-3';

/** Tables the generator fills, canonical first, then ground truth. */
export const GENERATED_TABLES = [
  'customers', 'consent_records', 'orders', 'order_items', 'shipments', 'tracking_events', 'freight_invoices', 'freight_invoice_charges',
  'returns', 'email_messages', 'email_events', 'csat_responses', 'support_contacts', 'nba_decisions', 'service_alerts',
] as const;

export const TRUTH_TABLES = [
  'truth_runs', 'truth_parameters', 'truth_calendar', 'truth_lanes', 'truth_lane_services', 'truth_disruptions', 'truth_shipment_transit',
  'truth_order_returns', 'truth_nba_action_effects', 'truth_nba_action_values', 'truth_invoice_errors',
] as const;

export interface GenerateOptions {
  seed: number;
  shipments: number;
  /** End of history (default: now). Data is a pure function of (seed, shipments, asOf). */
  asOf?: Date;
  onProgress?: (done: number, total: number) => void;
  /** Realism knobs; see docs/SYNTHETIC.md. */
  knobs?: Partial<SynthKnobs>;
}

export interface GenerateSummary {
  seed: number;
  shipments: number;
  asOf: Date;
  historyStart: Date;
  seconds: number;
  /** Wall seconds per step, in run order (`prepare_<stage>` work tables, then each stage's writes, then finishing steps), for profiling. */
  stageSeconds: Record<string, number>;
  /** Process CPU seconds (all DuckDB threads) per step: steadier than wall time on a busy machine. */
  stageCpuSeconds: Record<string, number>;
  /** Rows written per table (canonical and truth). */
  counts: Record<string, number>;
}

/** Upper bound keeping generated ids and hash keys well inside their formats. */
export const MAX_SHIPMENTS = 50_000_000;

function validate(opts: GenerateOptions): { seed: number; shipments: number; asOf: Date; knobs: SynthKnobs } {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0 || opts.seed >= 2 ** 31) throw new ValidationError('seed', 'must be an integer in [0, 2147483647]');
  if (!Number.isSafeInteger(opts.shipments) || opts.shipments < 1 || opts.shipments > MAX_SHIPMENTS) {
    throw new ValidationError('shipments', `must be an integer in [1, ${MAX_SHIPMENTS}]`);
  }
  const asOf = opts.asOf ?? new Date();
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new ValidationError('asOf', 'must be a valid date');
  // Whole seconds, so epoch arithmetic in SQL is exact and runs are reproducible from an ISO string.
  const asOfRounded = new Date(Math.floor(asOf.getTime() / 1000) * 1000);
  const knobs = { ...DEFAULT_KNOBS, ...opts.knobs };
  for (const [key, v] of Object.entries(knobs)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ValidationError(`knobs.${key}`, 'must be a finite number');
  }
  if (!Number.isInteger(knobs.historyDays) || knobs.historyDays < 7 || knobs.historyDays > 3650) throw new ValidationError('knobs.historyDays', 'must be an integer in [7, 3650]');
  if (!Number.isInteger(knobs.quadraturePoints) || knobs.quadraturePoints < 8 || knobs.quadraturePoints > 512) throw new ValidationError('knobs.quadraturePoints', 'must be an integer in [8, 512]');
  const laneIds = new Set(FULFILMENT_CENTRES.flatMap((f) => METROS.map((m) => `${f.code}>${m.code}`)));
  for (const key of ['slowLane', 'mildLane'] as const) {
    if (!laneIds.has(knobs[key])) throw new ValidationError(`knobs.${key}`, `unknown lane "${knobs[key]}"; lanes look like CMH>MIA`);
  }
  return { seed: opts.seed, shipments: opts.shipments, asOf: asOfRounded, knobs };
}

async function assertEmpty(wh: Warehouse): Promise<void> {
  for (const t of ['shipments', 'orders', 'truth_runs']) {
    const row = await wh.one<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
    if ((row?.n ?? 0) > 0) {
      throw new ShipcastError('CONFLICT', `${t}: the warehouse already holds data; generate into an empty database`, { field: t });
    }
  }
}

function truthDimensionSql(seed: number, shipments: number, asOf: Date, historyStartS: number, knobs: SynthKnobs): string {
  const params: [string, number | null, string | null, string][] = Object.entries(knobs).map(([k, v]) =>
    typeof v === 'number' ? [`knobs.${k}`, v, null, 'generator knob (docs/SYNTHETIC.md)'] : [`knobs.${k}`, null, String(v), 'generator knob (docs/SYNTHETIC.md)'],
  );
  for (const [name, value, description] of behaviourParameters()) params.push([name, value, null, description]);
  return `
INSERT INTO truth_runs VALUES (${seed}, ${shipments}, ${lit(asOf.toISOString())}::TIMESTAMPTZ, to_timestamp(${historyStartS}), ${lit(GENERATOR_VERSION)}, current_timestamp);
${tempTableSql('_params', [['name', 'VARCHAR'], ['value', 'DOUBLE'], ['text_value', 'VARCHAR'], ['description', 'VARCHAR']], params)}
INSERT INTO truth_parameters SELECT * FROM _params;
DROP TABLE _params;
INSERT INTO truth_calendar SELECT DATE '1970-01-01' + day, holiday, is_bday, ground_delivers, express_delivers, exp(peak_log) FROM _bcal;
INSERT INTO truth_lanes
SELECT l.lane_id, f.code, f.postal_prefix, m.code, m.postal_prefix, m.region, m.country, l.distance_km, l.zone, l.lane_mult, ln(l.lane_mult), l.planted
FROM _lane l JOIN _fc f ON f.fi = l.fi JOIN _metro m ON m.mi = l.mi;
INSERT INTO truth_lane_services
SELECT l.lane_id, o.carrier, o.service_level, lo.chart_median, exp(lo.mu), lo.mu, lo.sigma, lo.quoted_bdays
FROM _lo lo JOIN _lane l ON l.li = lo.li JOIN _offer o ON o.oi = lo.oi;
INSERT INTO truth_disruptions
SELECT disruption_id, kind, region, country, to_timestamp(starts_s), to_timestamp(ends_s), to_timestamp(from_s), to_timestamp(to_s), extra_days FROM _dis;
INSERT INTO truth_nba_action_effects VALUES ${NBA_ACTIONS.map((a) => `(${[a.action, a.repeatLogit, a.repeatLogitIfLate, a.csatShift, a.csatShiftIfLate, a.contactShiftIfLate, a.unitCost, a.costRule, ELIGIBILITY_RULES[a.action], a.description].map(lit).join(', ')})`).join(', ')};`;
}

/**
 * Generates a deterministic synthetic history of `shipments` shipments ending at `asOf` into an
 * empty warehouse, in one transaction, with the generated tables' indexes dropped during the write
 * and rebuilt after it (see bulk-indexes.ts; a crash leaves the warehouse empty). Throws `BAD_INPUT`
 * for invalid options and `CONFLICT` when the warehouse already holds orders, shipments or a
 * previous run.
 */
export async function generateSample(wh: Warehouse, opts: GenerateOptions): Promise<GenerateSummary> {
  const { seed, shipments, asOf, knobs } = validate(opts);
  const t0 = performance.now();
  await assertEmpty(wh);
  const asOfS = asOf.getTime() / 1000;
  const dims = buildDimensions(seed, asOf, knobs);
  const stages = buildStages({ shipments, asOfS, knobs });
  const total = stages.reduce((a, s) => a + s.weight, 0) + 2;
  let done = 0;
  const progress = (w: number) => {
    done += w;
    opts.onProgress?.(Math.round((shipments * done) / total), shipments);
  };
  progress(0);
  const stageSeconds: Record<string, number> = {};
  const stageCpuSeconds: Record<string, number> = {};
  let lap = performance.now();
  let cpuLap = process.cpuUsage();
  const timed = (name: string) => {
    const now = performance.now();
    const cpu = process.cpuUsage(cpuLap);
    stageSeconds[name] = Math.round(now - lap) / 1000;
    stageCpuSeconds[name] = Math.round((cpu.user + cpu.system) / 1e3) / 1000;
    lap = now;
    cpuLap = process.cpuUsage();
  };
  const runPart = async (tx: SqlRunner, st: (typeof stages)[number], part: 'prepare' | 'write') => {
    try {
      await tx.run(st[part]!);
    } catch (e) {
      throw new ShipcastError('INTERNAL', `synthetic generator stage ${st.name} failed: ${(e as Error).message}`, { cause: e });
    }
    timed(part === 'prepare' ? `prepare_${st.name}` : st.name);
    progress(st.prepare && st.write ? st.weight / 2 : st.weight);
  };
  const dropTemp = () => wh.run(TEMP_TABLES.map((t) => `DROP TABLE IF EXISTS ${t};`).join('\n'));
  try {
    // Work tables first, each statement committed on its own (they are TEMP, so nothing reaches
    // the warehouse; see Stage): a table is scanned on one thread in the transaction that made it.
    await wh.run(randomMacrosSql(seed));
    await wh.run(dims.sql);
    timed('dimensions');
    progress(1);
    for (const st of stages) if (st.prepare) await runPart(wh, st, 'prepare');
    // The warehouse is empty, so building the indexes once afterwards replaces maintaining them row by row.
    await withIndexesDeferred(wh, [...GENERATED_TABLES, ...TRUTH_TABLES], async (tx: SqlRunner) => {
      for (const st of stages) if (st.write) await runPart(tx, st, 'write');
      await tx.run(truthDimensionSql(seed, shipments, asOf, dims.historyStartS, knobs));
      // The generator's holidays as reference data (delivery_calendar), as a user would fill it.
      await tx.run(deliveryCalendarSql(dims.calendar));
      // The planted disruptions as the carriers' service alerts a user would load.
      const alerts = serviceAlertsSql(dims.disruptions, asOfS);
      if (alerts) await tx.run(alerts);
      timed('truth_dimensions');
    }, {
      onStep: (step) => step !== 'write' && timed(step),
      // Every generated key is a distinct row number (shipment, event slot, line) or an entry of a
      // fixed list (knobs, days, lanes), so none can repeat; the tests check that the unique
      // indexes rebuild, and re-creating them after the commit would still catch a repeat.
      keysUniqueByConstruction: true,
    });
  } catch (e) {
    await dropTemp().catch(() => undefined);
    throw e;
  }
  await dropTemp();
  timed('drop_temp');
  progress(1);
  const counts: Record<string, number> = {};
  const all = [...GENERATED_TABLES, ...TRUTH_TABLES];
  const rows = await wh.all<{ t: string; n: number }>(all.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL '));
  for (const t of all) counts[t] = rows.find((r) => r.t === t)?.n ?? 0;
  return { seed, shipments, asOf, historyStart: new Date(dims.historyStartS * 1000), seconds: (performance.now() - t0) / 1000, stageSeconds, stageCpuSeconds, counts };
}
