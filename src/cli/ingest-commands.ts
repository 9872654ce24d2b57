import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { withWarehouse, type CliRuntime } from './runtime.js';
import { TrackingEventStore } from '../ingest/event-store.js';
import { consumeStream, ndjsonSource } from '../ingest/stream-source.js';
import { replayDeadLetters } from '../ingest/dead-letters.js';
import { ValidationError } from '../errors.js';

/**
 * `shipcast ingest [--file F]` loads canonical NDJSON tracking events (stdin without --file);
 * `shipcast replay dead-letters` re-processes dead-lettered events after a fix. Both attach
 * events of tracking numbers whose shipment now exists.
 */
export function registerIngestCommands(program: Command, rt: CliRuntime, stdin: Readable = process.stdin): void {
  program
    .command('ingest')
    .description('ingest canonical tracking events as NDJSON from --file or stdin (idempotent by source + event_id)')
    .option('--file <file>', 'NDJSON file (default: stdin)')
    .option('--source <name>', 'source label stored with the events', 'file')
    .option('--db <file>', 'DuckDB file')
    .action(async (opts: { file?: string; source: string; db?: string }) => {
      if (opts.file !== undefined && !fs.existsSync(opts.file)) throw new ValidationError('file', `no such file ${opts.file}`);
      const input = opts.file !== undefined ? fs.createReadStream(opts.file) : stdin;
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const store = new TrackingEventStore(warehouse);
        const r = await consumeStream(ndjsonSource(input, { name: opts.source, label: opts.file ?? 'stdin' }), store);
        const attached = await store.attachUnmatched();
        rt.out(JSON.stringify({ records: r.records, accepted: r.accepted, duplicates: r.duplicates, dead_lettered: r.deadLettered, shipments_updated_by_attach: attached.length }));
      });
    });
  program
    .command('replay')
    .description('re-process stored inputs')
    .command('dead-letters')
    .description('re-run dead-lettered events through their parser; stores what now parses')
    .option('--source <name>', 'only this source (webhook, aftership, easypost, shippo, mailgun, file)')
    .option('--db <file>', 'DuckDB file')
    .action(async (opts: { source?: string; db?: string }) => {
      await withWarehouse(rt, { db: opts.db }, async ({ warehouse }) => {
        const store = new TrackingEventStore(warehouse);
        const r = await replayDeadLetters(warehouse, store, { source: opts.source });
        await store.attachUnmatched();
        rt.out(JSON.stringify({ replayed: r.replayed, still_failing: r.stillFailing, events_accepted: r.eventsAccepted }));
      });
    });
}
