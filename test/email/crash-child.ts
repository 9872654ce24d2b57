/**
 * Child process for the crash test: enqueues one email (and, in `claim` mode, claims it as a
 * worker would), prints READY and waits to be SIGKILLed. Usage: tsx crash-child.ts <db> <mode> <dataDir>
 */
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/log.js';
import { createEmailCapability } from '../../src/email/email-capability.js';
import { claimDue } from '../../src/email/outbox-store.js';
import { seedShipment, testConfig } from './helpers.js';

const [dbPath, mode, dataDir] = process.argv.slice(2);
const wh = await openWarehouse(dbPath);
const { shipmentId } = await seedShipment(wh);
const email = createEmailCapability({ config: testConfig(dataDir), log: silentLogger(), warehouse: wh, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
await email.service.enqueue({ shipmentId, kind: 'out_for_delivery', trigger: 'out_for_delivery', idempotencyKey: `${shipmentId}|out_for_delivery|d1` });
if (mode === 'claim') {
  const claimed = await claimDue(wh, new Date(), 10);
  if (claimed.length !== 1) throw new Error(`expected to claim 1 row, got ${claimed.length}`);
}
process.stdout.write('READY\n');
setInterval(() => undefined, 60_000);
