import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { tempDir, writeCsv } from './helpers.js';

const FULL = fileURLToPath(new URL('../fixtures/olist-mini/full/', import.meta.url));

describe('shipcast load', () => {
  it('prints read / loaded / rejected counts and reject reasons, then skips the same file', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'cli.duckdb');
    const file = writeCsv(path.join(dir, 'contacts.csv'), [
      { contact_id: 'k1', channel: 'chat', reason: 'late', created_at: '2024-01-01 00:00:00' },
      { contact_id: 'k2', channel: 'fax', reason: 'late', created_at: '2024-01-01 00:00:00' },
    ]);
    const rt = captureRuntime({});
    expect(await runCli(['load', 'support_contacts', file, '--db', db], rt)).toBe(0);
    expect(rt.stdout[0]).toBe('support_contacts: read 2, loaded 1 (1 new, 0 updated), rejected 1 from 1 file(s)');
    expect(rt.stdout[1]).toMatch(/^ {2}rejected 1 × channel: not one of: email, chat, phone$/);

    const again = captureRuntime({});
    expect(await runCli(['load', 'support_contacts', path.join(dir, '*.csv'), '--db', db, '--json'], again)).toBe(0);
    expect(JSON.parse(again.stdout[0])).toMatchObject({ read: 0, loaded: 0, skippedAsDuplicateFile: [file] });
  });

  it('loads an Olist extract and reports its headline counts', async () => {
    const rt = captureRuntime({});
    const db = path.join(tempDir(), 'olist.duckdb');
    expect(await runCli(['load', 'olist', FULL, '--db', db], rt)).toBe(0);
    expect(rt.stdout.at(-1)).toBe('orders 6, with a delivered shipment 3, with CSAT 3');
    expect(rt.stdout).toContain('shipments: read 5, loaded 5 (5 new, 0 updated), rejected 0');
    expect(rt.stdout.some((l) => /rejected 1 × score: must be <= 5/.test(l))).toBe(true);
  });

  it('exits 1 naming the field for an unknown entity or a missing path', async () => {
    const rt = captureRuntime({});
    expect(await runCli(['load', 'parcels', 'x.csv', '--db', ':memory:'], rt)).toBe(1);
    expect(rt.stderr[0]).toMatch(/^error \[BAD_INPUT\]: entity: unknown entity parcels/);
    const rt2 = captureRuntime({});
    expect(await runCli(['load', 'orders', '--db', ':memory:'], rt2)).toBe(1);
    expect(rt2.stderr[0]).toMatch(/path: a file or glob is required/);
  });
});

describe('shipcast status after a load', () => {
  it('counts canonical and reference tables', async () => {
    const db = path.join(tempDir(), 'status.duckdb');
    expect(await runCli(['load', 'olist', FULL, '--db', db], captureRuntime({}))).toBe(0);
    const rt = captureRuntime({});
    expect(await runCli(['status', '--db', db, '--json'], rt)).toBe(0);
    const s = JSON.parse(rt.stdout[0]);
    expect(s.tables).toMatchObject({ orders: 6, shipments: 5, csat_responses: 4, load_rejects: 2 });
    expect(s.reference).toMatchObject({ postal_geo: 6, sellers: 2, products: 2, product_categories: 2 });
    const text = captureRuntime({});
    expect(await runCli(['status', '--db', db], text)).toBe(0);
    expect(text.stdout).toContain('reference:');
    expect(text.stdout.some((l) => /^postal_geo\s+6$/.test(l))).toBe(true);
  });
});
