import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { runCli } from '../../src/cli/program.js';
import { loadEtaFixture } from './eta-fixture.js';

describe('shipcast train/predict/eval eta', () => {
  let dir: string;
  let db: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-cli-'));
    db = path.join(dir, 'w.duckdb');
    const wh = await openWarehouse(db);
    await loadEtaFixture(wh, { shipments: 700, days: 90, openDays: 8, seed: 31 });
    await wh.close();
    env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_TF_BACKEND: 'wasm' };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains, activates, predicts to CSV and backtests', async () => {
    const train = captureRuntime(env);
    expect(await runCli(['train', 'eta', '--db', db, '--until', '2024-03-20', '--epochs', '3', '--members', '2'], train), train.stderr.join('\n')).toBe(0);
    expect(train.stdout.join('\n')).toMatch(/registered and activated eta model (\S+)/);
    for (const m of [1, 2]) expect(train.stderr.some((l) => l.startsWith(`member ${m}/2 epoch 1/3`))).toBe(true);
    expect(train.stdout.join('\n')).toMatch(/best epoch \d\/\d, \d\/\d;/);
    const version = /activated eta model (\S+)/.exec(train.stdout.join('\n'))![1];
    expect(fs.readFileSync(path.join(dir, 'models', 'eta', 'active'), 'utf8').trim()).toBe(version);

    const out = path.join(dir, 'pred.csv');
    const pred = captureRuntime(env);
    expect(await runCli(['predict', 'eta', '--db', db, '--from', '2024-03-01', '--out', out], pred), pred.stderr.join('\n')).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('order_id,shipment_id,p10_days,p50_days,p90_days,p10_at,p50_at,p90_at');
    expect(lines.length).toBeGreaterThan(100);
    for (const l of lines.slice(1)) {
      const [, , a, b, c] = l.split(',');
      expect(Number(a)).toBeLessThanOrEqual(Number(b));
      expect(Number(b)).toBeLessThanOrEqual(Number(c));
    }

    const ev = captureRuntime(env);
    expect(await runCli(['eval', 'eta', '--db', db, '--split', '2024-03-10', '--epochs', '3', '--json'], ev), ev.stderr.join('\n')).toBe(0);
    const report = JSON.parse(ev.stdout.join(''));
    expect(report.rows.test).toBeGreaterThan(50);
    expect(Object.keys(report.baselines)).toEqual(['promise', 'laneMedian']);
  });

  it('rejects a malformed day, naming the flag', async () => {
    const rt = captureRuntime(env);
    expect(await runCli(['train', 'eta', '--db', db, '--until', '2024-13-40'], rt)).toBe(1);
    expect(rt.stderr.join('\n')).toMatch(/BAD_INPUT.*until/);
  });

  it('rejects an ensemble of no members, naming the flag', async () => {
    const rt = captureRuntime(env);
    expect(await runCli(['eval', 'eta', '--db', db, '--split', '2024-03-10', '--members', '0'], rt)).toBe(1);
    expect(rt.stderr.join('\n')).toMatch(/BAD_INPUT.*members/);
  });
});
