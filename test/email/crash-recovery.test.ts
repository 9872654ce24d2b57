import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createEmailCapability } from '../../src/email/email-capability.js';
import { startFakeMailgun, tempDir, testConfig, waitFor, type FakeMailgun } from './helpers.js';

const CHILD = path.resolve('test/email/crash-child.ts');

/**
 * Runs the child until it prints READY, then SIGKILLs it: no shutdown hook runs. The child is
 * `node --import tsx` (one process), since the tsx CLI's own child would survive the kill.
 */
function runAndKill(db: string, mode: 'enqueue' | 'claim', dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, mode, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    child.stdout.on('data', (d) => {
      if (String(d).includes('READY')) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without READY: ${err}`))));
  });
}

let mg: FakeMailgun;
beforeAll(async () => {
  mg = await startFakeMailgun();
});
afterAll(async () => {
  await mg.close();
});

async function restartAndDrain(db: string, dataDir: string): Promise<void> {
  const wh = await openWarehouse(db);
  const config = testConfig(dataDir, { SHIPCAST_DB: db, SHIPCAST_MAILER: 'mailgun', MAILGUN_API_KEY: 'k', MAILGUN_DOMAIN: 'mg.example.com', MAILGUN_URL: mg.url });
  const email = createEmailCapability({ config, log: silentLogger(), warehouse: wh, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }), worker: { pollMs: 20 } });
  await email.start();
  await waitFor(async () => (await wh.one<{ n: number }>("SELECT count(*) AS n FROM email_outbox WHERE status IN ('queued', 'sending')"))?.n === 0, 8000);
  await email.close();
  await wh.close();
}

describe('exactly once across crashes', () => {
  for (const mode of ['enqueue', 'claim'] as const) {
    it(`a process killed after ${mode === 'enqueue' ? 'enqueueing' : 'claiming'} still yields exactly one send`, async () => {
      mg.requests.length = 0;
      const dir = tempDir('shipcast-crash-');
      const db = path.join(dir, 'crash.duckdb');
      await runAndKill(db, mode, dir);
      await restartAndDrain(db, dir);
      expect(mg.requests).toHaveLength(1);
      // A second restart finds nothing left to send.
      await restartAndDrain(db, dir);
      expect(mg.requests).toHaveLength(1);
      const wh = await openWarehouse(db);
      expect(await wh.all('SELECT status FROM email_messages')).toEqual([{ status: 'sent' }]);
      await wh.close();
    }, 30_000);
  }
});
