/**
 * Generating and loading a synthetic history into a DuckDB file: 1M shipments by default
 * (SHIPCAST_BENCH_GENERATE_SHIPMENTS overrides). Target: <= 60 s on a 2-core machine. Reports
 * wall and process CPU seconds, and the load average, because other work on the machine inflates
 * the wall time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../src/synth/generate.js';

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
    await wh.close();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      shipments,
      seconds: Math.round(seconds * 100) / 100,
      targetSeconds: 60,
      withinTarget: seconds <= 60,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      shipmentsPerSecond: Math.round(shipments / seconds),
      trackingEventsPerSecond: Math.round(summary.counts.tracking_events / seconds),
      dbFileMiB: Math.round(fs.statSync(file).size / 2 ** 20),
      loadAverageBefore: Math.round(loadBefore * 100) / 100,
      loadAverageAfter: Math.round(os.loadavg()[0] * 100) / 100,
      rows: summary.counts,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
