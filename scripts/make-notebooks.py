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

root = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
for name, cells in {"01-eta-synthetic.ipynb": ETA_SYNTHETIC, "02-eta-olist-backtest.ipynb": ETA_OLIST}.items():
    (root / name).write_text(json.dumps(nb(cells), indent=1) + "\n")
    print("wrote", root / name)
