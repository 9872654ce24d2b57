"""Writes the notebooks in notebooks/ from the cell sources below (keeps them diff-friendly and output-free).

Run with /usr/bin/python3 scripts/make-notebooks.py after editing.
"""
import json, pathlib

def nb(cells):
    out = []
    for i, (kind, src) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": src.strip("\n")}
        if kind == "code":
            cell.update({"execution_count": None, "outputs": []})
        out.append(cell)
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"name": "deno", "display_name": "Deno", "language": "typescript"},
            "language_info": {"name": "typescript", "file_extension": ".ts"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }

ETA_SYNTHETIC = [
("markdown", """
# ETA on synthetic data: train, backtest, compare with baselines and the generator's truth

Runs on the embedded synthetic generator, in memory, so it works on a fresh clone. Sizes come from the
environment so CI can execute it quickly: `NB_SHIPMENTS` (default 6000) and `NB_EPOCHS` (default 12).
The kernel is Deno's (`deno jupyter --install`); it imports the project's TypeScript modules directly.
"""),
("code", """
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.ts';
import { generateSample } from '../src/synth/generate.ts';
import { backtestEta } from '../src/ml/eta/evaluate.ts';
import { silentLogger } from '../src/log.ts';

const shipments = Number(Deno.env.get('NB_SHIPMENTS') ?? 6000);
const epochs = Number(Deno.env.get('NB_EPOCHS') ?? 12);
const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-models-'));
const wh = await openWarehouse(':memory:');
const summary = await generateSample(wh, { seed: 7, shipments, asOf: new Date('2026-06-01T00:00:00Z') });
console.log(`generated ${summary.counts.shipments} shipments and ${summary.counts.tracking_events} tracking events`);
"""),
("markdown", """
## Time-based backtest

Train on purchases before the 80th percentile of purchase dates, test on delivered shipments purchased after it.
The baselines are the carrier's promise and the per-lane median (simple-statistics).
"""),
("code", """
const split = await wh.one<{ d: Date }>(
  `SELECT date_trunc('day', quantile_disc(o.purchased_at, 0.8)) AS d
     FROM shipments s JOIN orders o USING (order_id) WHERE s.delivered_at IS NOT NULL`);
const report = await backtestEta({ warehouse: wh, modelsDir, log: silentLogger() },
  { splitAt: new Date(split!.d), epochs, seed: 42, keepPredictions: true });
const row = (name: string, m: any) => ({ name, mae: +m.mae.toFixed(2), medianAe: +m.medianAe.toFixed(2),
  pinball: +m.pinball.toFixed(3), coverage: +(100 * m.coverage).toFixed(1), width: +m.meanWidth.toFixed(2), lateVsP90: +(100 * m.lateRate).toFixed(1) });
console.table([row('model', report.model), row('promise', report.baselines.promise), row('lane median', report.baselines.laneMedian)]);
"""),
("markdown", """
## Per carrier
"""),
("code", """
console.table(report.perCarrier.map((c) => ({ carrier: c.carrier, n: c.model.n, modelMae: +c.model.mae.toFixed(2),
  promiseMae: +c.promise.mae.toFixed(2), laneMae: +c.laneMedian.mae.toFixed(2), coverage: +(100 * c.model.coverage).toFixed(1) })));
"""),
("markdown", """
## Against the generator's ground truth

`truth_shipment_transit.expected_abs_dev_from_median_days` is the irreducible P50 error of the hand-off → delivery
leg for each shipment. The model predicts purchase → delivery, which adds the (also random) processing time, so
this floor is a lower bound, not the exact optimum.
"""),
("code", """
const ids = report.predictions!.map((p) => `'${p.shipmentId}'`).join(',');
const floor = await wh.one<{ floor: number }>(
  `SELECT avg(expected_abs_dev_from_median_days) AS floor FROM truth_shipment_transit WHERE shipment_id IN (${ids})`);
console.log(`model P50 MAE ${report.model.mae.toFixed(3)} d; hand-off leg irreducible floor ${floor!.floor.toFixed(3)} d`);
if (!(report.model.mae < report.baselines.promise.mae)) throw new Error('the model should beat the promise baseline');
await wh.close();
"""),
]

ETA_OLIST = [
("markdown", """
# ETA on the real Olist sample: the issue's backtest

Olist is CC BY-NC-SA, so it is read from `SHIPCAST_OLIST_DIR` (default `../shared/data/real/olist-setA`, relative to
the repository) and never copied. Train on purchases before 2018-06-01 (São Paulo days), test on delivered orders
purchased from then on. `NB_EPOCHS` bounds training (default: the trainer's own early-stopped schedule).
"""),
("code", """
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.ts';
import { loadOlist } from '../src/load/olist/load-olist.ts';
import { backtestEta, formatBacktest } from '../src/ml/eta/evaluate.ts';
import { silentLogger } from '../src/log.ts';

const dir = path.resolve('..', Deno.env.get('SHIPCAST_OLIST_DIR') ?? '../shared/data/real/olist-setA');
const present = fs.existsSync(dir);
console.log(present ? `Olist extract: ${dir}` : `Olist extract not found at ${dir}: skipping the rest of this notebook`);
"""),
("code", """
if (present) {
  const wh = await openWarehouse(':memory:');
  const s = await loadOlist(wh, dir);
  console.log(`${s.orders} orders, ${s.deliveredShipments} delivered`);
  const epochsEnv = Deno.env.get('NB_EPOCHS');
  const report = await backtestEta(
    { warehouse: wh, modelsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'nb-models-')), log: silentLogger() },
    { splitAt: new Date('2018-06-01T03:00:00Z'), seed: 42, epochs: epochsEnv ? Number(epochsEnv) : undefined });
  for (const line of formatBacktest(report)) console.log(line);
  await wh.close();
}
"""),
]

RETURNS_NBA = [
("markdown", r"""
# Returns and next-best action on synthetic data: calibration and off-policy evaluation

Two models, trained in memory on the embedded synthetic generator, each checked against the generator's ground
truth (docs/RETURNS.md, docs/NBA.md):

1. **Return propensity**: the probability that an order is returned within 30 days of its delivery. A time-split
   backtest against two baselines and the planted probabilities, and its calibration plot.
2. **Next-best action (NBA)**: an outcome model and a policy learned from the decisions the generator's logging
   policy made, evaluated off-policy (IPS, SNIPS, DR) on held-out decisions, next to the policy's true value.

Sizes come from the environment so CI can execute it quickly: `NB_SHIPMENTS` (default 20000: the NBA decisions are
a few percent of the shipments and the off-policy estimates need a few hundred held-out ones) and `NB_EPOCHS`
(default: each trainer's own early-stopped schedule).
"""),
("code", r"""
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.ts';
import { generateSample } from '../src/synth/generate.ts';
import { backtestReturns, defaultSplit } from '../src/ml/returns/evaluate.ts';
import type { ProbabilityMetrics } from '../src/ml/returns/metrics.ts';
import { trainNba } from '../src/ml/nba/train.ts';
import { readLoggedDecisions } from '../src/ml/nba/data.ts';
import { actionValues } from '../src/ml/nba/score.ts';
import { actionProbabilities } from '../src/ml/nba/policy.ts';
import { oracleValue, readTrueRewards, trueValue } from '../src/ml/nba/synthetic-truth.ts';
import { silentLogger } from '../src/log.ts';

const shipments = Number(Deno.env.get('NB_SHIPMENTS') ?? 20000);
const epochsEnv = Deno.env.get('NB_EPOCHS');
const epochs = epochsEnv ? Number(epochsEnv) : undefined;
const wh = await openWarehouse(':memory:');
const summary = await generateSample(wh, { seed: 7, shipments, asOf: new Date('2026-11-27T12:00:00Z') });
console.log(`generated ${summary.counts.orders} orders, ${summary.counts.returns} returns, ${summary.counts.nba_decisions} NBA decisions`);
"""),
("markdown", r"""
## 1. Returns: time-split backtest

The model trains on the orders whose 30-day return window had closed by the split (the day of the 80th percentile of
deliveries, `defaultSplit`) and is tested on the orders delivered from the split on. Every row below is measured on
the same test orders and labels:

- **model**: the wide-and-deep network after Platt scaling (fitted on the newest 15 % of the training orders);
  *uncalibrated* is its raw output, to show what calibration changed (Platt is monotone, so AUC and PR-AUC are equal);
- **category rate**: each category's training return rate;
- **logistic regression**: on the same encoded features;
- **Bayes**: the generator's planted return probabilities (`truth_order_returns`), the best any forecast can do.

How to read it: AUC and PR-AUC measure ranking (higher is better; PR-AUC's floor is the return rate), Brier is the
mean squared error of the probabilities, ECE the mean gap between predicted and observed rates over 10 equal-count
bins (lower is better). Bayes' own ECE is the noise floor of that metric at this test size. At CI sizes
(`NB_SHIPMENTS=3000`: about 500 test orders, 40 of them returned) every figure here is noisy and the baselines can come
out ahead; docs/RETURNS.md has the 100k-shipment figures.
"""),
("code", r"""
const splitAt = await defaultSplit(wh);
if (!splitAt) throw new Error('no split: the warehouse holds no delivered orders');
const ret = await backtestReturns({ warehouse: wh, log: silentLogger() }, { splitAt, seed: 42, epochs });
console.log(`split ${ret.splitAt.slice(0, 10)}; orders: ${ret.rows.train} train, ${ret.rows.validation} validation, ` +
  `${ret.rows.test} test (${ret.model.positives} returned, ${(100 * ret.model.positives / ret.model.n).toFixed(1)} %); best epoch ${ret.bestEpoch}/${ret.epochs}`);
const metricRow = (forecast: string, m: ProbabilityMetrics) => ({ forecast, AUC: +m.auc.toFixed(4), 'PR-AUC': +m.prAuc.toFixed(4),
  Brier: +m.brier.toFixed(4), ECE: +m.ece.toFixed(4) });
console.table([
  metricRow('model (calibrated)', ret.model),
  metricRow('model (uncalibrated)', ret.modelUncalibrated),
  metricRow('category rate', ret.categoryRate),
  metricRow('logistic regression', ret.logistic),
  ...(ret.bayes ? [metricRow('Bayes (planted truth)', ret.bayes)] : []),
]);
if (ret.bayes) console.log(`AUC gap to Bayes: ${(ret.bayes.auc - ret.model.auc).toFixed(4)}`);
"""),
("markdown", r"""
## Calibration plot

The reliability diagram of the calibrated model on the test orders: the orders are sorted by predicted probability
and cut into 10 bins of equal size; each point is a bin's mean predicted probability (x) against its observed
return rate (y). A calibrated forecast lies on the dashed diagonal. The bars are 95 % Wilson intervals of the
observed rate, i.e. how far from the diagonal a bin can land by chance alone with this many orders; the axes stop a
little above the largest value, since return probabilities crowd below 0.3.
"""),
("code", r"""
type Bin = { n: number; meanPredicted: number; observed: number };

/** 95 % Wilson score interval of a binomial rate. */
function wilson(rate: number, n: number, z = 1.96): [number, number] {
  const d = 1 + (z * z) / n;
  const centre = (rate + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((rate * (1 - rate)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The reliability diagram as a standalone SVG (no plotting dependency). */
function reliabilitySvg(bins: Bin[], title: string): string {
  const W = 460, H = 440, L = 64, R = 20, T = 36, B = 56;
  const intervals = bins.map((b) => wilson(b.observed, b.n));
  const highest = Math.max(...bins.map((b) => b.meanPredicted), ...intervals.map((i) => i[1]));
  const step = [0.02, 0.05, 0.1, 0.2].find((s) => highest / s <= 8) ?? 0.2;
  const top = Math.min(1, Math.ceil(highest / step) * step);
  const x = (p: number) => L + (p / top) * (W - L - R);
  const y = (p: number) => H - B - (p / top) * (H - T - B);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const f = (v: number) => v.toFixed(1);
  const grid = ticks.map((t) =>
    `<line x1="${f(x(t))}" y1="${f(y(0))}" x2="${f(x(t))}" y2="${f(y(top))}" stroke="#eee"/>` +
    `<line x1="${f(x(0))}" y1="${f(y(t))}" x2="${f(x(top))}" y2="${f(y(t))}" stroke="#eee"/>` +
    `<text x="${f(x(t))}" y="${f(y(0) + 18)}" text-anchor="middle">${t.toFixed(2)}</text>` +
    `<text x="${f(x(0) - 8)}" y="${f(y(t) + 4)}" text-anchor="end">${t.toFixed(2)}</text>`).join('');
  const bars = bins.map((b, i) =>
    `<line x1="${f(x(b.meanPredicted))}" y1="${f(y(intervals[i][0]))}" x2="${f(x(b.meanPredicted))}" y2="${f(y(intervals[i][1]))}" stroke="#9ab" stroke-width="2"/>`).join('');
  const curve = bins.map((b) => `${f(x(b.meanPredicted))},${f(y(b.observed))}`).join(' ');
  const dots = bins.map((b) => `<circle cx="${f(x(b.meanPredicted))}" cy="${f(y(b.observed))}" r="4.5" fill="#1f5fa8"><title>` +
    `${b.n} orders: predicted ${b.meanPredicted.toFixed(3)}, observed ${b.observed.toFixed(3)}</title></circle>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">` +
    `<rect width="${W}" height="${H}" fill="white"/>${grid}` +
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>` +
    `<line x1="${f(x(0))}" y1="${f(y(0))}" x2="${f(x(top))}" y2="${f(y(top))}" stroke="#c33" stroke-dasharray="6 4"/>` +
    `${bars}<polyline points="${curve}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>${dots}` +
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>` +
    `<text x="${f((L + W - R) / 2)}" y="${H - 14}" text-anchor="middle">mean predicted return probability (bin)</text>` +
    `<text transform="translate(18 ${f((T + H - B) / 2)}) rotate(-90)" text-anchor="middle">observed return rate (bin)</text>` +
    `<text x="${L + 8}" y="${T + 16}" fill="#c33">dashed: perfectly calibrated</text>` +
    `<text x="${L + 8}" y="${T + 32}" fill="#689">bars: 95 % interval of the observed rate</text></svg>`;
}

const svg = reliabilitySvg(ret.reliability, `Reliability on ${ret.rows.test} test orders (ECE ${ret.model.ece.toFixed(4)})`);
await Deno.jupyter.display({ 'image/svg+xml': svg }, { raw: true });
console.table(ret.reliability.map((b) => ({ orders: b.n, meanPredicted: +b.meanPredicted.toFixed(4), observed: +b.observed.toFixed(4),
  gap: +(b.observed - b.meanPredicted).toFixed(4) })));
"""),
("markdown", r"""
## 2. Next-best action: outcome model, policy and off-policy evaluation

The generator's logging policy (`logging-v1`) chose one of five actions for each shipment flagged as at risk of being
late (`none`, `apology_notice`, `reschedule_offer`, `discount_code`, `shipping_refund`) and logged its propensity,
the probability it gave the chosen action. A decision's reward is its business value in currency units: a repeat
purchase's value, minus support contacts and the action's cost, plus CSAT points.

`trainNba` sorts the logged decisions with known outcomes by time, fits the outcome model (the expected reward of each
action in a context) on the older 70 % and builds the policy: the best eligible action, with 5 % exploration and a
5 % do-nothing control group. It then estimates the policy's value on the newest 30 % from the logging policy's
decisions alone: **IPS** reweights the observed rewards by π(a|x)/μ(a|x), **SNIPS** normalizes those weights,
**DR** adds the outcome model as a control variate. Each comes with a 95 % bootstrap interval, and the **ESS** says how
many logged decisions the estimate is effectively worth.
"""),
("code", r"""
const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-models-'));
const nba = await trainNba({ warehouse: wh, modelsDir, log: silentLogger() }, { seed: 42, epochs, noActivate: true });
const { report } = nba.evaluation;

// The held-out decisions are the newest ones trainNba evaluated on; the generator knows every action's true
// expected reward for each of them.
const decisions = await readLoggedDecisions(wh);
const held = decisions.slice(decisions.length - nba.evaluation.decisions.n);
if (held[0].decidedAt.toISOString() !== nba.evaluation.decisions.from) throw new Error('held-out decisions differ from the evaluation\'s');
const truth = await readTrueRewards(wh, held.map((d) => d.decisionId));
const values = actionValues(nba.scorer, held.map((d) => d.context));
const learned = trueValue(truth, values.map((v) => actionProbabilities(v, nba.evaluation.policy)));
const greedy = trueValue(truth, values.map((v) => actionProbabilities(v, { epsilon: 0, controlShare: 0 })));
const oracle = oracleValue(truth);
const logged = held.reduce((s, d, i) => s + truth[i][d.action]!, 0) / held.length;
const none = truth.reduce((s, t) => s + t[0]!, 0) / truth.length;
const rows = nba.metrics.rows as { train: number; validation: number; evaluation: number };
console.log(`${decisions.length} logged decisions with known outcomes: outcome model on ${rows.train} (+${rows.validation} for early stopping), ` +
  `evaluated on the newest ${rows.evaluation}`);
"""),
("markdown", r"""
## The OPE table

One row per estimate, with its 95 % bootstrap interval, next to the true value it estimates on the same held-out
decisions: for *logging* the true expected reward of the actions actually taken, for IPS, SNIPS and DR the true value
of the learned policy (from `truth_nba_action_values`). *covers* says whether the interval contains it. Below it, the
true values of reference policies: doing nothing, the learned policy (as deployed, and greedy without exploration or
control group) and the oracle (the best eligible action of every decision, the ceiling).

The activation gate lets the new policy go live only when **DR's lower bound beats the logging policy's value**. At CI
sizes (a few dozen held-out decisions, a small ESS) the intervals are wide and the gate is expected to refuse.
"""),
("code", r"""
const estimateRow = (estimate: string, e: { value: number; lower: number; upper: number }, t: number) => ({ estimate,
  value: +e.value.toFixed(3), lower: +e.lower.toFixed(3), upper: +e.upper.toFixed(3), truth: +t.toFixed(3), covers: e.lower <= t && t <= e.upper });
console.table([
  estimateRow('logging (mean reward)', report.logging, logged),
  estimateRow('IPS', report.ips, learned),
  estimateRow('SNIPS', report.snips, learned),
  estimateRow('DR', report.dr, learned),
]);
console.log(`n = ${report.n} held-out decisions, ESS = ${report.ess.toFixed(1)}`);
console.table([
  { policy: 'do nothing', trueValue: +none.toFixed(3) },
  { policy: 'logging (actions taken)', trueValue: +logged.toFixed(3) },
  { policy: 'learned (as deployed)', trueValue: +learned.toFixed(3), shareOfOracle: +(learned / oracle).toFixed(3) },
  { policy: 'learned (greedy)', trueValue: +greedy.toFixed(3), shareOfOracle: +(greedy / oracle).toFixed(3) },
  { policy: 'oracle', trueValue: +oracle.toFixed(3), shareOfOracle: 1 },
]);
console.log(`activation allowed: ${nba.gate.activate ? 'yes' : 'no'} (${nba.gate.reason})`);
"""),
("code", r"""
// Invariants that hold at any size (a failure means an API or the generator's truth changed).
const binned = ret.reliability.reduce((s, b) => s + b.n, 0);
if (binned !== ret.rows.test) throw new Error(`reliability bins hold ${binned} orders, the test ${ret.rows.test}`);
if (!ret.bayes) throw new Error('the generator\'s return truth is missing');
if (!(ret.model.auc > 0.5)) throw new Error(`the returns model ranks no better than chance (AUC ${ret.model.auc})`);
if (!(learned <= oracle + 1e-9 && greedy <= oracle + 1e-9)) throw new Error('a policy beats the oracle');
nba.scorer.model.dispose();
await wh.close();
fs.rmSync(modelsDir, { recursive: true, force: true });
"""),
]

root = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
for name, cells in {"01-eta-synthetic.ipynb": ETA_SYNTHETIC, "02-eta-olist-backtest.ipynb": ETA_OLIST,
                    "03-returns-and-nba.ipynb": RETURNS_NBA}.items():
    (root / name).write_text(json.dumps(nb(cells), indent=1) + "\n")
    print("wrote", root / name)
