import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { loadEntity } from '../../src/load/load-entity.js';
import { ENTITY_NAMES, type EntityName } from '../../src/load/entities.js';
import { tempDir, useWarehouseAndDir, writeCsv } from './helpers.js';

interface Reject { line: number; field: string; reason: string; raw: string; file: string }

async function rejectsOf(wh: Warehouse, entity: string): Promise<Reject[]> {
  return wh.all<Reject>('SELECT file, line, field, reason, CAST(raw AS VARCHAR) AS raw FROM load_rejects WHERE entity = $1 ORDER BY line', [entity]);
}

const ts = '2024-03-01 10:00:00';
/** Per entity: one good row, one bad row, and the field and reason the bad row must be rejected for. */
const CASES: Record<EntityName, { good: Record<string, unknown>; bad: Record<string, unknown>; field: string; reason: RegExp }> = {
  customers: {
    good: { customer_id: 'c1', email: 'a@example.com', country: 'BR', consent_email_promotional: 'true' },
    bad: { customer_id: 'c2', country: 'Brazil' }, field: 'country', reason: /ISO-3166/,
  },
  orders: {
    good: { order_id: 'o1', customer_id: 'c1', status: 'delivered', purchased_at: '2024-01-01T10:00:00Z', total: '10.5' },
    bad: { order_id: 'o2', customer_id: 'c1', status: 'lost', purchased_at: ts }, field: 'status', reason: /not one of: created/,
  },
  order_items: {
    good: { order_id: 'o1', line_no: '1', unit_price: '5.0', quantity: '2' },
    bad: { order_id: 'o1', line_no: '0' }, field: 'line_no', reason: /must be >= 1/,
  },
  shipments: {
    good: { shipment_id: 's1', order_id: 'o1', tracking_number: 'T1', carrier: 'ups', service_level: 'ground', status: 'in_transit', dest_lat: '37.7' },
    bad: { shipment_id: 's2', order_id: 'o1', tracking_number: 'T2', carrier: 'ups', service_level: 'ground', status: 'moving' },
    field: 'status', reason: /not a tracking status/,
  },
  tracking_events: {
    good: { source: 'file', event_id: 'e1', tracking_number: 'T1', status: 'delivered', occurred_at: ts, received_at: ts },
    bad: { source: 'file', event_id: 'e2', tracking_number: 'T1', status: 'delivered', occurred_at: 'yesterday', received_at: ts },
    field: 'occurred_at', reason: /not a valid timestamp/,
  },
  freight_invoices: {
    good: { invoice_id: 'i1', invoice_number: 'N1', carrier: 'ups', invoice_date: '2024-01-31', total_amount: '12.5', zone: '4' },
    bad: { invoice_id: 'i2', invoice_number: 'N2', carrier: 'ups', invoice_date: '2024-02-30', total_amount: '1' },
    field: 'invoice_date', reason: /not a valid date/,
  },
  freight_invoice_charges: {
    good: { invoice_id: 'i1', line_no: '1', charge_type: 'fuel', amount: '1.2' },
    bad: { invoice_id: 'i1', line_no: '2', charge_type: 'tip', amount: '1' }, field: 'charge_type', reason: /not one of: base/,
  },
  returns: {
    good: { return_id: 'r1', order_id: 'o1', status: 'requested', requested_at: ts, reason: 'late' },
    bad: { return_id: 'r2', order_id: 'o1', status: 'requested' }, field: 'requested_at', reason: /missing required value/,
  },
  email_messages: {
    good: { message_id: 'm1', kind: 'delay', stream: 'transactional', status: 'sent', created_at: ts },
    bad: { message_id: 'm2', kind: 'delay', stream: 'marketing', status: 'sent', created_at: ts }, field: 'stream', reason: /not one of: transactional/,
  },
  email_events: {
    good: { source: 'mailgun', event_id: 'e1', event: 'opened', occurred_at: ts, received_at: ts },
    bad: { source: 'mailgun', event_id: 'e2', event: 'read', occurred_at: ts, received_at: ts }, field: 'event', reason: /not one of: accepted/,
  },
  csat_responses: {
    good: { response_id: 'q1', order_id: 'o1', score: '5' },
    bad: { response_id: 'q2', order_id: 'o1', score: '6' }, field: 'score', reason: /must be <= 5/,
  },
  support_contacts: {
    good: { contact_id: 'k1', channel: 'chat', reason: 'wismo', created_at: ts },
    bad: { contact_id: 'k2', channel: 'fax', reason: 'wismo', created_at: ts }, field: 'channel', reason: /not one of: email/,
  },
  nba_decisions: {
    good: { decision_id: 'd1', decided_at: ts, context: '{"late":true}', action: 'none', propensity: '0.25', policy_version: 'v1' },
    bad: { decision_id: 'd2', decided_at: ts, context: '{"late":true}', action: 'none', propensity: '0', policy_version: 'v1' },
    field: 'propensity', reason: /must be > 0/,
  },
  service_alerts: {
    good: { alert_id: 'a1', country: 'US', kind: 'weather', announced_at: ts, starts_at: ts, ends_at: '2024-03-03 10:00:00', source: 'ups' },
    bad: { alert_id: 'a2', country: 'US', kind: 'storm', announced_at: ts, starts_at: ts, ends_at: ts, source: 'ups' }, field: 'kind', reason: /not one of: weather/,
  },
};

describe('loadEntity', () => {
  const ctx = useWarehouseAndDir();

  it('covers every canonical entity', () => {
    expect(Object.keys(CASES).sort()).toEqual([...ENTITY_NAMES].sort());
  });

  for (const entity of ENTITY_NAMES) {
    it(`loads good ${entity} rows and rejects a bad one with file, line, field and reason`, async () => {
      const c = CASES[entity];
      const file = writeCsv(path.join(ctx.dir, `${entity}.csv`), [c.good, c.bad]);
      const s = await loadEntity(ctx.wh, entity, file);
      expect({ read: s.read, loaded: s.loaded, rejected: s.rejected }).toEqual({ read: 2, loaded: 1, rejected: 1 });
      const [rej] = await rejectsOf(ctx.wh, entity);
      expect(rej).toMatchObject({ file, line: 2, field: c.field });
      expect(rej.reason).toMatch(c.reason);
      expect(JSON.parse(rej.raw)).toMatchObject(Object.fromEntries(Object.entries(c.bad).map(([k, v]) => [k, String(v)])));
      expect(Object.values(s.rejectsByReason)).toEqual([1]);
    });
  }

  it('casts types and applies column defaults', async () => {
    const row = await ctx.wh.one<{ total: number; purchased_at: Date; currency: string }>('SELECT total, purchased_at, currency FROM orders WHERE order_id = $1', ['o1']);
    expect(row).toEqual({ total: 10.5, purchased_at: new Date('2024-01-01T10:00:00Z'), currency: 'USD' });
    const d = await ctx.wh.one<{ ctx: string }>("SELECT context->>'late' AS ctx FROM nba_decisions WHERE decision_id = 'd1'");
    expect(d?.ctx).toBe('true');
  });

  it('re-loading the same bytes is skipped; a changed file upserts on the key without duplicates', async () => {
    const f = writeCsv(path.join(ctx.dir, 'te-a.csv'), [
      { source: 'x', event_id: '1', tracking_number: 'TA', status: 'in_transit', occurred_at: ts, received_at: ts },
      { source: 'x', event_id: '2', tracking_number: 'TA', status: 'out_for_delivery', occurred_at: ts, received_at: ts },
    ]);
    expect((await loadEntity(ctx.wh, 'tracking_events', f)).inserted).toBe(2);
    const again = await loadEntity(ctx.wh, 'tracking_events', f);
    expect(again.skippedAsDuplicateFile).toEqual([f]);
    expect(again.loaded).toBe(0);
    writeCsv(f, [
      { source: 'x', event_id: '2', tracking_number: 'TA', status: 'delivered', occurred_at: ts, received_at: ts },
      { source: 'x', event_id: '3', tracking_number: 'TA', status: 'delivered', occurred_at: ts, received_at: ts },
    ]);
    const changed = await loadEntity(ctx.wh, 'tracking_events', f);
    expect({ inserted: changed.inserted, updated: changed.updated }).toEqual({ inserted: 1, updated: 1 });
    const rows = await ctx.wh.all<{ event_id: string; status: string }>("SELECT event_id, status FROM tracking_events WHERE source = 'x' ORDER BY event_id");
    expect(rows).toEqual([{ event_id: '1', status: 'in_transit' }, { event_id: '2', status: 'delivered' }, { event_id: '3', status: 'delivered' }]);
  });

  it('rejects repeated keys within a file and UNIQUE values owned by another row', async () => {
    const base = { order_id: 'o9', carrier: 'ups', service_level: 'ground' };
    const f = writeCsv(path.join(ctx.dir, 'ship-dups.csv'), [
      { ...base, shipment_id: 's10', tracking_number: 'T10' },
      { ...base, shipment_id: 's10', tracking_number: 'T11' },
      { ...base, shipment_id: 's12', tracking_number: 'T1' },
      { ...base, shipment_id: 's13', tracking_number: 'T10' },
    ]);
    const s = await loadEntity(ctx.wh, 'shipments', f);
    expect({ loaded: s.loaded, rejected: s.rejected }).toEqual({ loaded: 1, rejected: 3 });
    const rej = (await rejectsOf(ctx.wh, 'shipments')).filter((r) => r.file === f);
    expect(rej.map((r) => [r.line, r.field])).toEqual([[2, 'shipment_id'], [3, 'tracking_number'], [4, 'tracking_number']]);
    expect(rej[0].reason).toMatch(/duplicate key/);
    expect(rej[1].reason).toMatch(/another row of shipments/);
    expect(JSON.parse(rej[1].raw)).toMatchObject({ shipment_id: 's12' });
  });

  it('bulk-loads an empty table with its indexes rebuilt, and falls back to the keyed path on repeated keys', async () => {
    const fresh = await openWarehouse(':memory:');
    try {
      const indexes = () => fresh.all<{ index_name: string }>("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'tracking_events' ORDER BY 1");
      const before = await indexes();
      expect(before.length).toBeGreaterThan(0);
      const ev = (id: string, status = 'in_transit') => ({ source: 'bulk', event_id: id, tracking_number: 'TB', status, occurred_at: ts, received_at: ts });
      const f = writeCsv(path.join(ctx.dir, 'bulk-events.csv'), [ev('1'), ev('2', 'teleported'), ev('3')]);
      const s = await loadEntity(fresh, 'tracking_events', f);
      expect({ loaded: s.loaded, rejected: s.rejected, read: s.read }).toEqual({ loaded: 2, rejected: 1, read: 3 });
      expect((await rejectsOf(fresh, 'tracking_events')).map((r) => [r.line, r.field])).toEqual([[2, 'status']]);
      expect(await indexes()).toEqual(before);
      // The rebuilt indexes still answer lookups and still enforce the key.
      expect((await fresh.all("SELECT event_id FROM tracking_events WHERE tracking_number = 'TB' ORDER BY 1")).length).toBe(2);
      await expect(fresh.run("INSERT INTO tracking_events (source, event_id, tracking_number, status, occurred_at, received_at) VALUES ('bulk', '1', 'TB', 'delivered', now(), now())")).rejects.toThrow(/[Dd]uplicate key/);

      const dups = writeCsv(path.join(ctx.dir, 'bulk-dups.csv'), [ev('a'), ev('a', 'delivered')]);
      await fresh.run('DELETE FROM tracking_events');
      const d = await loadEntity(fresh, 'tracking_events', dups);
      expect({ loaded: d.loaded, rejected: d.rejected }).toEqual({ loaded: 1, rejected: 1 });
      expect(await fresh.all("SELECT status FROM tracking_events WHERE event_id = 'a'")).toEqual([{ status: 'in_transit' }]);
    } finally {
      await fresh.close();
    }
  });

  it('keeps lines the CSV reader cannot parse, with their physical line', async () => {
    const f = path.join(ctx.dir, 'ragged.csv');
    fs.writeFileSync(f, `contact_id,channel,reason,created_at\nk5,chat,late,${ts}\nk6,chat\nk7,"email",other,${ts}\n`);
    const s = await loadEntity(ctx.wh, 'support_contacts', f);
    expect({ read: s.read, loaded: s.loaded, rejected: s.rejected }).toEqual({ read: 3, loaded: 2, rejected: 1 });
    const rej = (await rejectsOf(ctx.wh, 'support_contacts')).filter((r) => r.file === f);
    expect(rej).toHaveLength(1);
    expect(rej[0].line).toBe(3);
    expect(rej[0].reason).toMatch(/missing columns/);
  });

  it('fails the file, naming the field, when a required column is absent', async () => {
    const f = writeCsv(path.join(ctx.dir, 'no-status.csv'), [{ order_id: 'o3', customer_id: 'c', purchased_at: ts }]);
    await expect(loadEntity(ctx.wh, 'orders', f)).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'orders.status' });
  });

  it('loads every file matching a glob', async () => {
    const g = tempDir();
    writeCsv(path.join(g, 'a.csv'), [{ contact_id: 'g1', channel: 'email', reason: 'late', created_at: ts }]);
    writeCsv(path.join(g, 'b.csv'), [{ contact_id: 'g2', channel: 'phone', reason: 'billing', created_at: ts }]);
    fs.writeFileSync(path.join(g, 'ignored.txt.bak'), 'x');
    const s = await loadEntity(ctx.wh, 'support_contacts', path.join(g, '*.csv'));
    expect(s.files.map((f) => path.basename(f))).toEqual(['a.csv', 'b.csv']);
    expect(s.loaded).toBe(2);
    await expect(loadEntity(ctx.wh, 'support_contacts', path.join(g, '*.parquet'))).rejects.toMatchObject({ field: 'file' });
  });

  it('reads NDJSON and JSON arrays, with record numbers and the raw object on rejects', async () => {
    const nd = path.join(ctx.dir, 'events.ndjson');
    fs.writeFileSync(nd, [
      { source: 'mailgun', event_id: 'j1', event: 'clicked', url: 'https://x', occurred_at: ts, received_at: ts },
      { source: 'mailgun', event_id: 'j2', event: 'clicked', occurred_at: 123, received_at: ts },
      { source: 'mailgun', event_id: 'j3', event: 'delivered', occurred_at: ts, received_at: ts },
    ].map((o) => JSON.stringify(o)).join('\n'));
    const s = await loadEntity(ctx.wh, 'email_events', nd);
    expect({ loaded: s.loaded, rejected: s.rejected }).toEqual({ loaded: 2, rejected: 1 });
    const rej = (await rejectsOf(ctx.wh, 'email_events')).filter((r) => r.file === nd);
    expect(rej[0]).toMatchObject({ line: 2, field: 'occurred_at' });
    expect(JSON.parse(rej[0].raw).event_id).toBe('j2');

    const arr = path.join(ctx.dir, 'decisions.json');
    fs.writeFileSync(arr, JSON.stringify([
      { decision_id: 'd9', decided_at: ts, context: { late: true, days: 2 }, action: 'discount_10', propensity: 0.5, policy_version: 'v2' },
      { decision_id: 'd10', decided_at: ts, action: 'none', propensity: 0.5, policy_version: 'v2' },
    ]));
    const a = await loadEntity(ctx.wh, 'nba_decisions', arr);
    expect({ loaded: a.loaded, rejected: a.rejected }).toEqual({ loaded: 1, rejected: 1 });
    const d = await ctx.wh.one<{ days: string }>("SELECT context->>'days' AS days FROM nba_decisions WHERE decision_id = 'd9'");
    expect(d?.days).toBe('2');
    expect((await rejectsOf(ctx.wh, 'nba_decisions')).find((r) => r.file === arr)).toMatchObject({ line: 2, field: 'context', reason: 'missing required value' });
  });

  it('reads typed Parquet, validating values and reporting file row numbers', async () => {
    const pq = path.join(ctx.dir, 'events.parquet');
    await ctx.wh.run(`COPY (SELECT 'pq' AS source, 'p' || i AS event_id, 'TP' AS tracking_number,
        CASE WHEN i = 3 THEN 'teleported' ELSE 'in_transit' END AS status,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(i) AS occurred_at, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS received_at,
        CASE WHEN i = 4 THEN 123.0 ELSE 10.0 END AS lat, 'extra' AS unknown_col
      FROM range(5) r(i)) TO '${pq}' (FORMAT parquet)`);
    const s = await loadEntity(ctx.wh, 'tracking_events', pq);
    expect({ loaded: s.loaded, rejected: s.rejected }).toEqual({ loaded: 3, rejected: 2 });
    expect(s.perFile[0].ignoredColumns).toEqual(['unknown_col']);
    const rej = (await rejectsOf(ctx.wh, 'tracking_events')).filter((r) => r.file === pq);
    expect(rej.map((r) => [r.line, r.field, r.reason])).toEqual([[4, 'status', expect.stringMatching(/tracking status/)], [5, 'lat', 'must be <= 90']]);
    const e = await ctx.wh.one<{ occurred_at: Date }>("SELECT occurred_at FROM tracking_events WHERE source = 'pq' AND event_id = 'p2'");
    expect(e?.occurred_at.toISOString()).toBe('2024-01-01T02:00:00.000Z');
  });

  it('refuses unknown entities and formats', async () => {
    await expect(loadEntity(ctx.wh, 'parcels' as EntityName, 'x.csv')).rejects.toMatchObject({ field: 'entity' });
    const f = path.join(ctx.dir, 'data.xlsx');
    fs.writeFileSync(f, 'x');
    await expect(loadEntity(ctx.wh, 'orders', f)).rejects.toMatchObject({ field: 'file' });
  });
});
