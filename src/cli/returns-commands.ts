/**
 * `shipcast train returns` and `shipcast eval returns`: the return-propensity model's training
 * (registered and activated in the model store) and its time-based backtest against the
 * category-rate and logistic-regression baselines (and the planted truth on generator data).
 */
import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { ValidationError } from '../errors.js';
import { dayStart, group, parseDay, parseIntFlag } from './flags.js';
import { trainReturns, type ReturnsEpochProgress } from '../ml/returns/train.js';
import { backtestReturns, defaultSplit, formatBacktest } from '../ml/returns/evaluate.js';

interface CommonOpts {
  db?: string;
  tz?: string;
  seed: string;
  epochs?: string;
  json?: boolean;
}

const progress = (rt: CliRuntime) => (e: ReturnsEpochProgress) =>
  rt.err(`epoch ${e.epoch}/${e.epochs}  train log loss ${e.trainLoss.toFixed(4)}  validation ${e.valLoss.toFixed(4)}`);

const common = (c: Command) =>
  c
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--tz <zone>', "IANA zone of the YYYY-MM-DD flags (default: the customers' most common zone)")
    .option('--seed <n>', 'random seed', '42')
    .option('--epochs <n>', 'maximum epochs (early stopping usually ends sooner)')
    .option('--json', 'print the result as JSON');

export function registerReturnsCommands(program: Command, rt: CliRuntime): void {
  common(group(program, 'train', 'train a model').command('returns').description('train the return-propensity model, register and activate it, print its validation metrics'))
    .option('--until <YYYY-MM-DD>', 'use only what was known before this day: orders whose return window closed by then (default: the data end)')
    .action(async (opts: CommonOpts & { until?: string }) => {
      const until = parseDay('until', opts.until);
      const seed = parseIntFlag('seed', opts.seed);
      const epochs = parseIntFlag('epochs', opts.epochs);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const r = await trainReturns(
          { warehouse: ctx.warehouse, modelsDir: ctx.config.modelsDir, log: ctx.log, tfBackend: ctx.config.tfBackend, onEpoch: progress(rt) },
          { until: await dayStart(ctx, until, opts.tz), seed, epochs },
        );
        r.fitted.model.dispose();
        if (opts.json) {
          rt.out(JSON.stringify({ version: r.version, metrics: r.metrics }));
          return;
        }
        const m = r.metrics;
        const v = m.validation;
        rt.out(`registered and activated returns model ${r.version} (${ctx.config.modelsDir})`);
        rt.out(`rows: ${m.rows.train} train, ${m.rows.validation} validation (labels known by ${m.labelsKnownBy}, ${m.windowDays}-day window); best epoch ${m.bestEpoch}/${m.epochs}; ${m.seconds} s on ${m.backend}`);
        const line = (name: string, x: typeof v.model) => `${name.padEnd(21)} AUC ${x.auc.toFixed(4)}  PR-AUC ${x.prAuc.toFixed(4)}  Brier ${x.brier.toFixed(4)}  ECE ${x.ece.toFixed(4)}`;
        rt.out(`validation (most recent ${m.rows.validation} orders; the calibration was fitted on them, see \`eval returns\` for a backtest):`);
        rt.out(line('  model', v.model));
        rt.out(line('  category rate', v.categoryRate));
        rt.out(line('  logistic regression', v.logistic));
      });
    });

  common(group(program, 'eval', 'evaluate a model').command('returns').description('time-based backtest of the returns model against the category-rate and logistic-regression baselines'))
    .option('--split <YYYY-MM-DD>', 'train on labels known before this day, test on deliveries from it on (default: 80th percentile of delivered orders with a closed window)')
    .option('--until <YYYY-MM-DD>', 'end of the test deliveries (exclusive)')
    .action(async (opts: CommonOpts & { split?: string; until?: string }) => {
      const split = parseDay('split', opts.split);
      const until = parseDay('until', opts.until);
      const seed = parseIntFlag('seed', opts.seed);
      const epochs = parseIntFlag('epochs', opts.epochs);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const splitAt = (await dayStart(ctx, split, opts.tz)) ?? (await defaultSplit(ctx.warehouse));
        if (!splitAt) throw new ValidationError('split', 'the warehouse has no delivered orders with a closed return window to backtest on');
        const report = await backtestReturns(
          { warehouse: ctx.warehouse, log: ctx.log, tfBackend: ctx.config.tfBackend, onEpoch: progress(rt) },
          { splitAt, testUntil: await dayStart(ctx, until, opts.tz), seed, epochs },
        );
        if (opts.json) rt.out(JSON.stringify(report));
        else for (const l of formatBacktest(report)) rt.out(l);
      });
    });
}
