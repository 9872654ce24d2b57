/**
 * `shipcast train eta`, `shipcast predict eta` and `shipcast eval eta`. `train`, `predict` and
 * `eval` are parent commands so other model kinds can add their own subcommands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { withWarehouse, type CliRuntime, type CommandContext } from './runtime.js';
import { ValidationError } from '../errors.js';
import { dayStart, group, parseDay, parseIntFlag } from './flags.js';
import { loadOlist } from '../load/olist/load-olist.js';
import { findOlistFile, OLIST_FILES } from '../load/olist/olist-files.js';
import { epochLabel, trainEta } from '../ml/eta/train.js';
import { backtestEta, formatBacktest } from '../ml/eta/evaluate.js';
import { createFileModelStore } from '../ml/registry/file-model-store.js';
import { loadEtaBundle } from '../ml/eta/bundle.js';
import { BATCH_SCORING_UNUSED_COLUMNS, scoreFrame } from '../ml/eta/predictor.js';
import { queryEtaFeatureFrame } from '../features/eta/eta-frame.js';
import { initTf } from '../ml/backend.js';
import { replayStream } from '../ml/eta/adaptive-scoring.js';

interface CommonOpts {
  db?: string;
  olist?: string;
  tz?: string;
}

/**
 * Loads an Olist extract into the warehouse (so files it lacks are resolved from what the
 * warehouse already knows) and returns the extract's order ids, read from its orders file: with
 * `--olist`, training, scoring and backtests use only that extract's orders.
 */
async function maybeLoadOlist(rt: CliRuntime, ctx: CommandContext, dir: string | undefined): Promise<string[] | undefined> {
  if (!dir) return undefined;
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) throw new ValidationError('olist', `no such directory: ${abs}`);
  const ordersFile = findOlistFile(abs, 'orders');
  if (!ordersFile) throw new ValidationError('olist', `no ${OLIST_FILES.orders} in ${abs}`);
  rt.err(`loading Olist extract ${abs} …`);
  const s = await loadOlist(ctx.warehouse, abs, { onProgress: (p) => rt.err(`  [${p.stepIndex + 1}/${p.stepCount}] ${p.step}`) });
  rt.err(`loaded ${s.orders} orders (${s.deliveredShipments} delivered)${s.missing.length ? `; missing files resolved from the warehouse: ${s.missing.join(', ')}` : ''}`);
  const ids = await ctx.warehouse.all<{ order_id: string }>(
    `SELECT DISTINCT order_id FROM read_csv($1, header = true, all_varchar = true) WHERE order_id IS NOT NULL ORDER BY 1`,
    [ordersFile],
  );
  rt.err(`using only this extract's ${ids.length} orders`);
  return ids.map((r) => r.order_id);
}

const common = (c: Command) =>
  c
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--olist <dir>', 'load this Olist extract into the warehouse and use only its orders')
    .option('--tz <zone>', "IANA zone of the YYYY-MM-DD flags (default: the customers' most common zone)");

export function registerEtaCommands(program: Command, rt: CliRuntime): void {
  common(
    group(program, 'train', 'train a model').command('eta').description('train the ETA model, register and activate it, print its metrics'),
  )
    .option('--until <YYYY-MM-DD>', 'train on shipments purchased before this day (default: all)')
    .option('--seed <n>', 'random seed', '42')
    .option('--epochs <n>', 'maximum epochs (early stopping usually ends sooner)')
    .option('--members <n>', 'networks trained apart and averaged (default: 5 below 25,000 training examples, 2 below 200,000, else 1)')
    .option('--no-online-calibration', 'keep the at-purchase window calibration fixed (no updates from outcomes after the training cutoff)')
    .option('--json', 'print the metrics as JSON')
    .action(async (opts: CommonOpts & { until?: string; seed: string; epochs?: string; members?: string; json?: boolean; onlineCalibration: boolean }) => {
      const until = parseDay('until', opts.until);
      const seed = parseIntFlag('seed', opts.seed);
      const epochs = parseIntFlag('epochs', opts.epochs);
      const members = parseIntFlag('members', opts.members);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const orderIds = await maybeLoadOlist(rt, ctx, opts.olist);
        const untilAt = await dayStart(ctx, until, opts.tz, orderIds);
        const r = await trainEta(
          {
            warehouse: ctx.warehouse, modelsDir: ctx.config.modelsDir, log: ctx.log, tfBackend: ctx.config.tfBackend,
            onEpoch: (e) => rt.err(`${epochLabel(e)}  train pinball ${e.trainLoss.toFixed(4)}  validation ${e.valLoss.toFixed(4)}`),
          },
          { until: untilAt, seed, epochs, members, orderIds, adaptiveRate: opts.onlineCalibration ? undefined : 0 },
        );
        if (opts.json) {
          rt.out(JSON.stringify({ version: r.version, metrics: r.metrics }));
          return;
        }
        const v = r.metrics.validation;
        rt.out(`registered and activated eta model ${r.version} (${ctx.config.modelsDir})`);
        rt.out(`rows: ${r.metrics.rows.train} train, ${r.metrics.rows.validation} validation; best epoch ${r.metrics.members.map((m) => `${m.bestEpoch}/${m.epochs}`).join(', ')}; ${r.metrics.seconds} s on ${r.metrics.backend}`);
        rt.out(`validation (most recent ${r.metrics.rows.validation} examples, at purchase): MAE ${v.mae.toFixed(2)} d, median AE ${v.medianAe.toFixed(2)} d, pinball ${v.pinball.toFixed(3)}, P10-P90 coverage ${(v.coverage * 100).toFixed(1)}%, mean width ${v.meanWidth.toFixed(2)} d, late vs P90 ${(v.lateRate * 100).toFixed(1)}%`);
        if (r.metrics.validationInFlight) {
          const f = r.metrics.validationInFlight;
          rt.out(`validation in flight (${f.n}): MAE ${f.mae.toFixed(2)} d, coverage ${(f.coverage * 100).toFixed(1)}%, mean width ${f.meanWidth.toFixed(2)} d`);
        }
      });
    });

  common(group(program, 'predict', 'score with an active model').command('eta').description('write P10/P50/P90 delivery windows for orders to a CSV'))
    .option('--from <YYYY-MM-DD>', 'orders purchased on or after this day (default: all)')
    .requiredOption('--out <file.csv>', 'output CSV')
    .action(async (opts: CommonOpts & { from?: string; out: string }) => {
      const from = parseDay('from', opts.from);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const orderIds = await maybeLoadOlist(rt, ctx, opts.olist);
        await initTf(ctx.config.tfBackend, ctx.log);
        const bundle = await loadEtaBundle(createFileModelStore(ctx.config.modelsDir));
        const examples = await queryEtaFeatureFrame(
          ctx.warehouse,
          { kind: 'purchase', from: await dayStart(ctx, from, opts.tz, orderIds), openOrDelivered: true, orderIds },
          BATCH_SCORING_UNUSED_COLUMNS,
        );
        const days = scoreFrame(bundle, examples);
        const [orderId, shipmentId, purchasedAt] = [examples.text('order_id'), examples.text('shipment_id'), examples.number('purchased_at')];
        // Orders purchased since the training cutoff get the window the online updates gave them
        // at their purchase (outcomes known by then only), as a serving instance would have.
        const replay = await replayStream(ctx.warehouse, bundle, { orderIds });
        let adapted = 0;
        if (replay) {
          shipmentId.forEach((id, i) => {
            const w = id === null ? undefined : replay.windows.get(id);
            if (!w) return;
            days.set(w, i * 3);
            adapted++;
          });
        }
        const iso = (base: number, d: number) => new Date(base + d * 86_400_000).toISOString();
        const lines = ['order_id,shipment_id,p10_days,p50_days,p90_days,p10_at,p50_at,p90_at'];
        for (let i = 0; i < examples.n; i++) {
          const [a, b, c] = [days[i * 3], days[i * 3 + 1], days[i * 3 + 2]];
          const t = purchasedAt[i];
          lines.push([csv(orderId[i] ?? ''), csv(shipmentId[i] ?? ''), a.toFixed(3), b.toFixed(3), c.toFixed(3), iso(t, a), iso(t, b), iso(t, c)].join(','));
        }
        const out = path.resolve(opts.out);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, `${lines.join('\n')}\n`);
        rt.out(`wrote ${examples.n} predictions with eta model ${bundle.version} to ${out}`);
        if (replay) rt.out(`${adapted} purchased since the training cutoff (${bundle.calibration.adaptive?.since}) use the online-updated tails (${replay.levels.updates} outcomes replayed)`);
        bundle.model.dispose();
      });
    });

  common(group(program, 'eval', 'evaluate a model').command('eta').description('time-based backtest of the ETA model against the promise and lane-median baselines'))
    .option('--split <YYYY-MM-DD>', 'train on purchases before this day, test on delivered purchases from it on (default: 80th percentile of purchase dates)')
    .option('--until <YYYY-MM-DD>', 'end of the test period (exclusive)')
    .option('--at <moment>', 'predict at `purchase` or at carrier `handoff` (then figures are remaining days)', 'purchase')
    .option('--seed <n>', 'random seed', '42')
    .option('--epochs <n>', 'maximum epochs')
    .option('--members <n>', 'networks trained apart and averaged (default: 5 below 25,000 training examples, 2 below 200,000, else 1)')
    .option('--no-online-calibration', 'keep the at-purchase calibration fixed over the test period (no updates from outcomes)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: CommonOpts & { split?: string; until?: string; at: string; seed: string; epochs?: string; members?: string; json?: boolean; onlineCalibration: boolean }) => {
      if (opts.at !== 'purchase' && opts.at !== 'handoff') throw new ValidationError('at', `expected purchase or handoff, got "${opts.at}"`);
      const moment = opts.at;
      const split = parseDay('split', opts.split);
      const until = parseDay('until', opts.until);
      const seed = parseIntFlag('seed', opts.seed);
      const epochs = parseIntFlag('epochs', opts.epochs);
      const members = parseIntFlag('members', opts.members);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const orderIds = await maybeLoadOlist(rt, ctx, opts.olist);
        let splitAt = await dayStart(ctx, split, opts.tz, orderIds);
        const testUntil = await dayStart(ctx, until, opts.tz, orderIds);
        if (!splitAt) {
          const r = await ctx.warehouse.one<{ d: Date | null }>(
            `SELECT date_trunc('day', quantile_disc(o.purchased_at, 0.8)) AS d FROM shipments s JOIN orders o USING (order_id) WHERE s.delivered_at IS NOT NULL
             ${orderIds ? `AND o.order_id IN (SELECT unnest(from_json($1, '["VARCHAR"]')))` : ''}`,
            orderIds ? [JSON.stringify(orderIds)] : [],
          );
          if (!r?.d) throw new ValidationError('split', 'the warehouse has no delivered shipments to backtest on');
          splitAt = new Date(r.d);
        }
        const report = await backtestEta(
          {
            warehouse: ctx.warehouse, modelsDir: ctx.config.modelsDir, log: ctx.log, tfBackend: ctx.config.tfBackend,
            onEpoch: (e) => rt.err(`${epochLabel(e)}  train pinball ${e.trainLoss.toFixed(4)}  validation ${e.valLoss.toFixed(4)}`),
          },
          { splitAt, testUntil, seed, epochs, members, moment, orderIds, adaptiveRate: opts.onlineCalibration ? undefined : 0 },
        );
        if (opts.json) rt.out(JSON.stringify(report));
        else for (const l of formatBacktest(report)) rt.out(l);
      });
    });
}

function csv(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
