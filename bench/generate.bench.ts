/**
 * Generating and loading a synthetic history into a DuckDB file: 1M shipments by default
 * (SHIPCAST_BENCH_GENERATE_SHIPMENTS overrides). The same-run baseline is DuckDB alone rewriting
 * the generated rows of tracking_events, the largest table (CREATE TABLE AS SELECT, no index), and
 * the goal is judged on `ratioToBaseline` <= 7.5, not on an absolute time, because this VM's speed
 * varies by 10-20 % from day to day. Wall and process CPU seconds, per-step wall and CPU seconds and
 * the load average are reported as information.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../src/synth/generate.js';

/** Goal: generate + load at most this many times the same-run baseline. */
const TARGET_RATIO = 7.5;

const round2 = (x: number) => Math.round(x * 100) / 100;
const cpuSeconds = (u: NodeJS.CpuUsage) => round2((u.user + u.system) / 1e6);

export default async function generateBench(): Promise<Record<string, unknown>> {
  const shipments = Number(process.env.SHIPCAST_BENCH_GENERATE_SHIPMENTS ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-bench-gen-'));
  const file = path.join(dir, 'bench.duckdb');
  const loadBefore = os.loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const wh = await openWarehouse(file);
    const summary = await generateSample(wh, {
      seed: 42,
      shipments,
      asOf: new Date('2026-11-27T12:00:00Z'),
    });
    await wh.checkpoint();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const dbFileMiB = Math.round(fs.statSync(file).size / 2 ** 20);
    const loadAfter = os.loadavg()[0];

    const b0 = performance.now();
    const bcpu0 = process.cpuUsage();
    await wh.run('CREATE TABLE bench_copy AS SELECT * FROM tracking_events');
    await wh.checkpoint();
    const baselineSeconds = (performance.now() - b0) / 1000;
    const baselineCpu = process.cpuUsage(bcpu0);
    await wh.close();
    return {
      shipments,
      seconds: round2(seconds),
      cpuSeconds: cpuSeconds(cpu),
      shipmentsPerSecond: Math.round(shipments / seconds),
      trackingEventsPerSecond: Math.round(summary.counts.tracking_events / seconds),
      baseline: {
        what: 'CREATE TABLE AS SELECT * FROM tracking_events (same rows, no index) + CHECKPOINT',
        seconds: round2(baselineSeconds),
        cpuSeconds: cpuSeconds(baselineCpu),
      },
      ratioToBaseline: round2(seconds / baselineSeconds),
      targetRatioToBaseline: TARGET_RATIO,
      withinTarget: seconds / baselineSeconds <= TARGET_RATIO,
      stageSeconds: summary.stageSeconds,
      stageCpuSeconds: summary.stageCpuSeconds,
      dbFileMiB,
      loadAverageBefore: round2(loadBefore),
      loadAverageAfter: round2(loadAfter),
      rows: summary.counts,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
