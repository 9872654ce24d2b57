import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { canonicalEvent, SECRET, signedTrackingRequest } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Starts `shipcast serve` as a real child process (node + tsx, no npx wrapper, so SIGKILL hits the server itself). */
function startServer(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--db', db, '--port', '0'], {
    cwd: root,
    env: { ...process.env, SHIPCAST_ENV: 'test', SHIPCAST_LOG_LEVEL: 'silent', SHIPCAST_WEBHOOK_SECRET: SECRET, SHIPCAST_MODELS_DIR: path.join(path.dirname(db), 'models') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /shipcast listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('crash safety', () => {
  it('keeps every acknowledged event across a SIGKILL mid-burst', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-crash-'));
    const db = path.join(dir, 'crash.duckdb');
    const first = await startServer(db);
    const acked: string[] = [];
    let sent = 0;
    let killed = false;
    // 16 concurrent senders of 5-event batches; the server is killed after 150 acknowledgements.
    const worker = async () => {
      while (!killed) {
        const batch = Array.from({ length: 5 }, () => canonicalEvent({ tracking_number: `TN-${sent % 50}` }));
        sent++;
        try {
          const res = await fetch(signedTrackingRequest(first.url, batch));
          if (res.status === 200) {
            acked.push(...batch.map((e) => e.event_id as string));
            if (acked.length >= 750 && !killed) {
              killed = true;
              first.child.kill('SIGKILL');
            }
          }
        } catch {
          return; // connection refused or reset: the server is gone
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await exited(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(sent * 5).toBeGreaterThan(acked.length); // requests were in flight when it died

    // Restart on the same file: DuckDB replays its WAL; the service ingests again.
    const second = await startServer(db);
    const after = canonicalEvent();
    expect((await fetch(signedTrackingRequest(second.url, after))).status).toBe(200);
    second.child.kill('SIGTERM');
    await exited(second.child);

    const wh = await openWarehouse(db);
    try {
      const stored = new Set((await wh.all<{ event_id: string }>("SELECT event_id FROM tracking_events WHERE source = 'webhook'")).map((r) => r.event_id));
      const lost = acked.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      expect(stored.has(after.event_id as string)).toBe(true);
    } finally {
      await wh.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
