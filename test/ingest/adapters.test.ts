import { describe, expect, it } from 'vitest';
import { fromAfterShip, fromEasyPost, fromShippo } from '../../src/ingest/aggregator-adapters.js';
import { parseCanonicalBody } from '../../src/ingest/canonical-event.js';
import type { AdapterResult } from '../../src/ingest/aggregator-adapters.js';

function only(r: AdapterResult) {
  if (r.kind !== 'events' || r.outcomes.length !== 1) throw new Error(`unexpected ${JSON.stringify(r)}`);
  return r.outcomes[0];
}

const aftership = (tag: string, subtag?: string) => ({
  event: 'tracking_update',
  event_id: 'as-evt-1',
  msg: {
    tracking_number: '1Z999', slug: 'ups', tag,
    checkpoints: [
      { checkpoint_time: '2026-01-01T08:00:00+01:00', tag: 'InTransit', city: 'Lyon' },
      { checkpoint_time: '2026-01-02T09:30:00', tag, subtag, city: 'Paris', state: 'IDF', country_iso3: 'FRA', zip: '75001', message: 'Arrived', coordinates: [48.85, 2.35] },
    ],
  },
  ts: 1767340000,
});

describe('aggregator adapters', () => {
  it('AfterShip: latest checkpoint, tag and subtag mapping, offset-less time read as UTC', () => {
    const o = only(fromAfterShip(aftership('OutForDelivery')));
    expect(o.ok && o.event).toMatchObject({ source: 'aftership', eventId: 'as-evt-1', trackingNumber: '1Z999', status: 'out_for_delivery', city: 'Paris', lat: 48.85 });
    expect(o.ok && o.event.occurredAt.toISOString()).toBe('2026-01-02T09:30:00.000Z');
    const r = only(fromAfterShip(aftership('Exception', 'Exception_011')));
    expect(r.ok && r.event.status).toBe('return_to_sender');
    const bad = only(fromAfterShip(aftership('Teleported')));
    expect(!bad.ok && bad.rejected.field).toBe('msg.tag');
    expect(fromAfterShip({ event: 'edd_revise', event_id: 'x' }).kind).toBe('ignored');
  });

  it('EasyPost: Tracker status and status_detail mapping', () => {
    const evt = (status: string, status_detail?: string) => ({
      object: 'Event', id: 'evt_1', description: 'tracker.updated',
      result: {
        object: 'Tracker', tracking_code: 'EZ100', carrier: 'USPS', status, status_detail,
        tracking_details: [{ datetime: '2026-01-03T12:00:00Z', message: 'Out', tracking_location: { city: 'Austin', state: 'TX', country: 'US', zip: '73301' } }],
      },
    });
    const o = only(fromEasyPost(evt('in_transit', 'weather_delay')));
    expect(o.ok && o.event).toMatchObject({ eventId: 'evt_1', status: 'delivery_delayed', carrierStatusCode: 'in_transit/weather_delay', city: 'Austin' });
    expect(only(fromEasyPost(evt('pre_transit'))).ok).toBe(true);
    const bad = only(fromEasyPost({ ...evt('in_transit'), result: { object: 'Tracker', status: 'in_transit' } }));
    expect(!bad.ok && bad.rejected.field).toBe('result.tracking_code');
    expect(fromEasyPost({ object: 'Event', id: 'evt_2', description: 'batch.updated' }).kind).toBe('ignored');
  });

  it('Shippo: status/substatus mapping; object_id as event id, or a stable digest when absent', () => {
    const body = (status: string, code?: string, objectId?: string) => ({
      event: 'track_updated',
      data: { carrier: 'usps', tracking_number: 'SH1', tracking_status: { object_id: objectId, status, substatus: code ? { code } : undefined, status_date: '2026-01-04T07:00:00Z', location: { city: 'Reno', state: 'NV', zip: '89501', country: 'US' } } },
    });
    const o = only(fromShippo(body('TRANSIT', 'delivery_attempted', 'st_1')));
    expect(o.ok && o.event).toMatchObject({ eventId: 'st_1', status: 'failed_attempt', city: 'Reno' });
    const a = only(fromShippo(body('DELIVERED')));
    const b = only(fromShippo(body('DELIVERED')));
    expect(a.ok && b.ok && a.event.eventId === b.event.eventId && a.event.eventId.startsWith('sha256:')).toBe(true);
    const bad = only(fromShippo(body('LOST_IN_SPACE')));
    expect(!bad.ok && bad.rejected.field).toBe('data.tracking_status.status');
  });

  it('canonical: each element of an array is validated on its own and errors name the field', () => {
    const out = parseCanonicalBody(
      [
        { event_id: 'a', tracking_number: 'T', status: 'delivered', occurred_at: '2026-01-01T00:00:00Z' },
        { event_id: 'b', tracking_number: 'T', status: 'delivered', occurred_at: 'yesterday' },
        { event_id: 'c', tracking_number: 'T', status: 'teleported', occurred_at: '2026-01-01T00:00:00Z' },
        { event_id: 'd', tracking_number: 'T', status: 'delivered', occurred_at: '2026-01-01T00:00:00Z', location: { lat: 200 } },
      ],
      'webhook',
    );
    expect(out.map((o) => (o.ok ? 'ok' : o.rejected.field))).toEqual(['ok', '[1].occurred_at', '[2].status', '[3].location.lat']);
    const [bad] = out.slice(1);
    expect(!bad.ok && bad.rejected.eventId).toBe('b');
  });
});
