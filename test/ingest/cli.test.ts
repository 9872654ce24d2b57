import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerIngestCommands } from '../../src/cli/ingest-commands.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';

const line = (id: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({ event_id: id, tracking_number: 'CLI-1', status: 'in_transit', occurred_at: '2026-02-01T00:00:00Z', ...over });

async function run(args: string[], stdin?: string) {
  const rt = captureRuntime({ SHIPCAST_ENV: 'test' });
  const program = new Command('shipcast').exitOverride();
  registerIngestCommands(program, rt, Readable.from(stdin === undefined ? [] : [stdin]));
  await program.parseAsync(args, { from: 'user' });
  return JSON.parse(rt.stdout.at(-1)!) as Record<string, number>;
}

describe('shipcast ingest / replay dead-letters', () => {
  it('ingests NDJSON from a file and stdin idempotently, dead-letters bad lines, attaches known shipments', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-ingest-'));
    const db = path.join(dir, 'cli.duckdb');
    const seed = await openWarehouse(db);
    await seed.run("INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level) VALUES ('s1', 'o1', 'CLI-1', 'ups', 'ground')");
    await seed.close();
    const file = path.join(dir, 'events.ndjson');
    fs.writeFileSync(file, [line('a'), '', line('b', { status: 'delivered', occurred_at: '2026-02-02T00:00:00Z' }), line('c', { status: 'warped' }), 'not json'].join('\n'));

    expect(await run(['ingest', '--file', file, '--db', db])).toEqual({ records: 4, accepted: 2, duplicates: 0, dead_lettered: 2, shipments_updated_by_attach: 0 });
    expect(await run(['ingest', '--db', db], `${line('a')}\n${line('d', { occurred_at: '2026-01-31T00:00:00Z' })}\n`)).toMatchObject({ records: 2, accepted: 1, duplicates: 1 });
    expect(await run(['replay', 'dead-letters', '--db', db])).toEqual({ replayed: 0, still_failing: 2, events_accepted: 0 });

    const wh = await openWarehouse(db);
    try {
      expect(await wh.one('SELECT status FROM shipments')).toEqual({ status: 'delivered' });
      expect((await wh.all<{ reason: string }>('SELECT reason FROM ingest_dead_letters ORDER BY dead_letter_id')).map((r) => r.reason)).toEqual([
        expect.stringMatching(/^status: /),
        expect.stringMatching(/^body: not valid JSON/),
      ]);
      expect((await wh.one<{ n: number }>("SELECT count(*) AS n FROM tracking_events WHERE source = 'file'"))?.n).toBe(3);
    } finally {
      await wh.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
