/**
 * End to end on a small generated warehouse: `shipcast train returns` registers and activates a
 * model, and `shipcast eval returns` backtests it against both baselines and the planted truth;
 * the model ranks better than the category return rate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import type { ReturnsBacktest } from '../../src/ml/returns/evaluate.js';
import type { TrainReturnsMetrics } from '../../src/ml/returns/train.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-returns-e2e-'));
const db = path.join(dir, 'w.duckdb');
const env = { SHIPCAST_ENV: 'test', SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: dir, SHIPCAST_LOG_LEVEL: 'silent', SHIPCAST_TF_BACKEND: 'wasm' };

beforeAll(async () => {
  const wh = await openWarehouse(db);
  await generateSample(wh, { seed: 11, shipments: 6000 });
  await wh.checkpoint();
  await wh.close();
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('returns end to end', () => {
  it('train returns: registers, activates and reports the model with both baselines', async () => {
    const rt = captureRuntime(env);
    expect(await runCli(['train', 'returns', '--db', db, '--seed', '3', '--epochs', '6', '--json'], rt), rt.stderr.join('\n')).toBe(0);
    const { version, metrics } = JSON.parse(rt.stdout.at(-1)!) as { version: string; metrics: TrainReturnsMetrics };
    expect(fs.readFileSync(path.join(env.SHIPCAST_MODELS_DIR, 'returns', 'active'), 'utf8').trim()).toBe(version);
    for (const f of ['model.json', 'weights.bin', 'feature-spec.json', 'metrics.json', 'meta.json']) {
      expect(fs.existsSync(path.join(env.SHIPCAST_MODELS_DIR, 'returns', version, f)), f).toBe(true);
    }
    expect(metrics.rows.validation).toBeGreaterThan(500);
    expect(metrics.windowDays).toBe(30);
    // The network starts at the logistic fit (epoch 0 of early stopping) and Platt then fits this
    // slice, so on it the model is no worse than the logistic baseline.
    expect(metrics.validation.model.logLoss).toBeLessThanOrEqual(metrics.validation.logistic.logLoss + 1e-3);
    expect(metrics.validation.model.n).toBe(metrics.rows.validation);
    expect(rt.stderr.some((l) => l.startsWith('epoch 1/'))).toBe(true);
  }, 60_000);

  it('eval returns: the model beats the category rate out of time and is calibrated; Bayes is measured on the same rows', async () => {
    const rt = captureRuntime(env);
    expect(await runCli(['eval', 'returns', '--db', db, '--seed', '3', '--epochs', '6', '--json'], rt), rt.stderr.join('\n')).toBe(0);
    const r = JSON.parse(rt.stdout.at(-1)!) as ReturnsBacktest;
    expect(r.rows.test).toBeGreaterThan(800);
    expect(r.bayes?.n).toBe(r.model.n);
    expect(r.bayes?.positives).toBe(r.model.positives);
    expect(r.model.auc).toBeGreaterThan(r.categoryRate.auc);
    expect(r.model.prAuc).toBeGreaterThan(r.categoryRate.prAuc);
    expect(r.model.auc).toBeLessThan(r.bayes!.auc + 0.02);
    expect(r.model.ece).toBeLessThan(0.04);
    expect(r.reliability.reduce((s, b) => s + b.n, 0)).toBe(r.rows.test);
    // A split before any closed return window is refused, naming the flag.
    const early = captureRuntime(env);
    expect(await runCli(['eval', 'returns', '--db', db, '--split', '2020-01-01'], early)).toBe(1);
    expect(early.stderr.at(-1)).toMatch(/^error \[BAD_INPUT\]: split: /);
  }, 60_000);
});
