import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { loadEntity } from '../../src/load/load-entity.js';
import { digestFile } from '../../src/load/file-hash.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HEADER = 'source,event_id,tracking_number,status,description,occurred_at,received_at';
const row = (id: string, status = 'in_transit', description = '') => `f,${id},T1,${status},${description},2024-03-01 10:00:00,2024-03-01 10:05:00`;

/** Loads `file` into a fresh warehouse, empty or holding one unrelated event (which takes the staged path). */
async function load(file: string, seeded: boolean) {
  const wh = await openWarehouse(':memory:');
  try {
    if (seeded) {
      await wh.run(`INSERT INTO tracking_events (source, event_id, tracking_number, status, occurred_at, received_at)
                    VALUES ('seed', 'x', 'T0', 'delivered', now(), now())`);
    }
    const s = await loadEntity(wh, 'tracking_events', file);
    const rows = await wh.all(`SELECT * EXCLUDE (received_at) FROM tracking_events WHERE source = 'f' ORDER BY event_id`);
    const rejects = await wh.all(`SELECT line, field, reason, CAST(raw AS VARCHAR) AS raw FROM load_rejects ORDER BY line, field`);
    const files = await wh.all(`SELECT rows_read, rows_loaded, rows_rejected FROM load_files`);
    return { counts: { read: s.read, loaded: s.loaded, inserted: s.inserted, rejected: s.rejected }, rows, rejects, files };
  } finally {
    await close(wh);
  }
}
const close = (wh: Warehouse) => wh.close();

describe('a plain CSV into an empty table (read straight into it)', () => {
  const cases: Record<string, string> = {
    clean: [HEADER, row('1'), row('2'), row('3')].join('\n') + '\n',
    'clean, no final line feed': [HEADER, row('1'), row('2')].join('\n'),
    'a bad value, an unparsable line and a blank line': [HEADER, row('1'), row('2', 'teleported'), 'f,3,T1', '', row('4'), row('5', 'lost')].join('\n') + '\n',
    'a quoted line break and CRLF endings': [HEADER, row('1', 'in_transit', '"left the\nhub"'), row('2', 'nowhere'), row('3')].join('\r\n') + '\r\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`gives what the staged path gives: ${name}`, async () => {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.csv`);
      fs.writeFileSync(file, text);
      const direct = await load(file, false);
      const staged = await load(file, true);
      expect(direct).toEqual(staged);
      expect(direct.counts.read).toBe(direct.counts.loaded + direct.counts.rejected);
      expect(direct.rows.length).toBe(direct.counts.loaded);
    });
  }

  it('skips bytes loaded before even into an emptied table, rolling back the read made while hashing', async () => {
    const file = path.join(dir, 'reloaded.csv');
    fs.writeFileSync(file, [HEADER, row('1'), row('2', 'teleported')].join('\n') + '\n');
    const wh = await openWarehouse(':memory:');
    try {
      const indexes = () => wh.all("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'tracking_events' ORDER BY 1");
      const before = await indexes();
      expect((await loadEntity(wh, 'tracking_events', file)).loaded).toBe(1);
      await wh.run('DELETE FROM tracking_events');
      const again = await loadEntity(wh, 'tracking_events', file);
      expect(again).toMatchObject({ read: 0, loaded: 0, rejected: 0, skippedAsDuplicateFile: [file] });
      expect(await wh.all('SELECT * FROM tracking_events')).toEqual([]);
      expect(await wh.all('SELECT rows_loaded, rows_rejected FROM load_files')).toEqual([{ rows_loaded: 1, rows_rejected: 1 }]);
      // The first load's reject survives: the second load's DELETE of it was rolled back.
      expect(await wh.all('SELECT line, field FROM load_rejects')).toEqual([{ line: 2, field: 'status' }]);
      expect(await indexes()).toEqual(before);
    } finally {
      await close(wh);
    }
  });

  it('counts lines with and without a final line feed', async () => {
    const f = path.join(dir, 'lines.txt');
    for (const [text, lines] of [['', 0], ['a', 1], ['a\n', 1], ['a\nb', 2], ['a\r\nb\r\n\n', 3]] as const) {
      fs.writeFileSync(f, text);
      expect(await digestFile(f)).toMatchObject({ lines });
    }
  });
});
