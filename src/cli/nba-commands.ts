/**
 * `shipcast train nba`, `shipcast eval nba` and `shipcast activate nba <version>`: the
 * next-best-action policy, gated by off-policy evaluation (docs/NBA.md).
 */
import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { ValidationError } from '../errors.js';
import { group, parseDay } from './flags.js';
import { activateNba, evaluateNbaVersion, trainNba, type NbaEvaluation } from '../ml/nba/train.js';
import { loadConfig } from '../config.js';


function num(flag: string, v: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new ValidationError(flag, `expected ${what}, got "${v}"`);
  return n;
}
const int = (flag: string, v: string | undefined) => num(flag, v, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
const share = (flag: string, v: string | undefined) => num(flag, v, (n) => n >= 0 && n < 1, 'a number in [0, 1)');

function day(flag: string, v: string | undefined): Date | undefined {
  const d = parseDay(flag, v);
  return d === undefined ? undefined : new Date(`${d}T00:00:00Z`);
}

/** The OPE table as text lines. */
export function formatEvaluation(e: NbaEvaluation): string[] {
  const r = e.report;
  const row = (name: string, x: { value: number; lower: number; upper: number }) =>
    `${name.padEnd(16)}${x.value.toFixed(3).padStart(10)}   [${x.lower.toFixed(3)}, ${x.upper.toFixed(3)}]`;
  return [
    `off-policy evaluation on ${e.decisions.n} logged decisions (${e.decisions.from.slice(0, 10)} .. ${e.decisions.to.slice(0, 10)}), 95% bootstrap intervals, reward in currency units per decision`,
    `${'estimator'.padEnd(16)}${'value'.padStart(10)}   interval`,
    row('logging policy', r.logging),
    row('IPS', r.ips),
    row('SNIPS', r.snips),
    row('DR', r.dr),
    `effective sample size ${r.ess.toFixed(1)} of ${r.n}; policy epsilon ${e.policy.epsilon}, control share ${e.policy.controlShare}`,
  ];
}

export function registerNbaCommands(program: Command, rt: CliRuntime): void {
  group(program, 'train', 'train a model')
    .command('nba')
    .description('train the next-best-action outcome model and policy, evaluate it off-policy, register it; activate only if the DR lower bound beats the logging policy')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--until <YYYY-MM-DD>', 'use decisions made before this day (UTC)')
    .option('--seed <n>', 'random seed', '42')
    .option('--epochs <n>', 'maximum epochs (early stopping usually ends sooner)')
    .option('--epsilon <x>', 'exploration share (default 0.05)')
    .option('--control-share <x>', 'held-out do-nothing control share (default 0.05)')
    .option('--override', 'activate even if the off-policy gate refuses (logged and recorded in meta.json)')
    .option('--no-activate', 'register only, never activate')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { db?: string; until?: string; seed: string; epochs?: string; epsilon?: string; controlShare?: string; override?: boolean; activate: boolean; json?: boolean }) => {
      const until = day('until', opts.until);
      const seed = int('seed', opts.seed);
      const epochs = int('epochs', opts.epochs);
      const epsilon = num('epsilon', opts.epsilon, (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
      const controlShare = share('control-share', opts.controlShare);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const r = await trainNba(
          { warehouse: ctx.warehouse, modelsDir: ctx.config.modelsDir, log: ctx.log, tfBackend: ctx.config.tfBackend,
            onEpoch: (e) => rt.err(`epoch ${e.epoch}/${e.epochs}  train loss ${e.trainLoss.toFixed(4)}  validation ${e.valLoss.toFixed(4)}`) },
          { until, seed, epochs, override: opts.override, noActivate: !opts.activate, reward: ctx.config.nba.reward, policy: { ...(epsilon === undefined ? {} : { epsilon }), ...(controlShare === undefined ? {} : { controlShare }) } },
        );
        r.scorer.model.dispose();
        if (opts.json) {
          rt.out(JSON.stringify({ version: r.version, activated: r.activated, gate: r.gate, evaluation: r.evaluation, metrics: r.metrics }));
          return;
        }
        rt.out(`registered nba policy ${r.version} (${ctx.config.modelsDir})${r.activated ? ', activated' : ', not activated'}`);
        for (const l of formatEvaluation(r.evaluation)) rt.out(l);
        rt.out(`gate: ${r.gate.reason}`);
      });
    });

  group(program, 'eval', 'evaluate a model')
    .command('nba')
    .description('off-policy evaluation (IPS, SNIPS, DR with bootstrap intervals, ESS) of an nba policy against the logging policy, on the decisions after its training data')
    .option('--db <file>', 'DuckDB file (default $SHIPCAST_DB or data/shipcast.duckdb)')
    .option('--version <v>', 'policy version (default: the newest registered)')
    .option('--bootstrap <n>', 'bootstrap resamples', '1000')
    .option('--json', 'print the evaluation as JSON')
    .action(async (opts: { db?: string; version?: string; bootstrap: string; json?: boolean }) => {
      const bootstrap = int('bootstrap', opts.bootstrap);
      await withWarehouse(rt, { db: opts.db }, async (ctx) => {
        const r = await evaluateNbaVersion({ warehouse: ctx.warehouse, modelsDir: ctx.config.modelsDir, log: ctx.log, tfBackend: ctx.config.tfBackend }, { version: opts.version, bootstrap });
        if (opts.json) {
          rt.out(JSON.stringify({ version: r.version, ...r.evaluation }));
          return;
        }
        rt.out(`nba policy ${r.version}`);
        for (const l of formatEvaluation(r.evaluation)) rt.out(l);
      });
    });

  group(program, 'activate', 'activate a registered model version')
    .command('nba <version>')
    .description('activate an nba policy version if its stored evaluation passes the gate (DR lower bound > logging policy)')
    .option('--override', 'activate even if the gate refuses (logged and recorded in meta.json)')
    .action(async (version: string, opts: { override?: boolean }) => {
      const config = loadConfig(rt.env, {});
      const r = await activateNba({ modelsDir: config.modelsDir, log: rt.log }, version, { override: opts.override });
      rt.out(`activated nba policy ${version}${r.overridden ? ' by override' : ''}: ${r.reason}`);
    });
}
