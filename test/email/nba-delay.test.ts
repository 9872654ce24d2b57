import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { DomainEvents } from '../../src/domain/events.js';
import type { NbaAction, NbaDecision, NextBestActionService } from '../../src/domain/nba.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { createLogger } from '../../src/log.js';
import { createEmailCapability, type EmailCapability } from '../../src/email/email-capability.js';
import { milestoneRequest } from '../../src/email/milestone-triggers.js';
import type { Registry } from 'prom-client';
import { fakePredictor, seedShipment, startFakeMailgun, tempDir, testConfig, waitFor, window, type FakeMailgun } from './helpers.js';

/**
 * A stand-in for the NBA policy (tested in test/ml): it returns the action the test sets and
 * counts the decisions it was asked for. The mailer, the warehouse and HTTP are real.
 */
function fakeNextBestAction(initial: NbaAction): NextBestActionService & { action: NbaAction; calls: string[]; fail: boolean } {
  const svc = {
    action: initial,
    calls: [] as string[],
    fail: false,
    async decide(input: { shipmentId?: string; at?: Date }): Promise<NbaDecision | undefined> {
      if (svc.fail) throw new Error('policy store unavailable');
      svc.calls.push(input.shipmentId!);
      return {
        decisionId: `dec_${svc.calls.length}_${input.shipmentId}`, shipmentId: input.shipmentId!, action: svc.action, propensity: 0.9, policyVersion: 'nba-test',
        control: false, expectedValue: 1.5, values: { none: 0, [svc.action]: 1.5 }, factors: [], decidedAt: input.at ?? new Date(),
      };
    },
    activeVersion: () => 'nba-test',
    async reload() {},
  };
  return svc;
}

let mg: FakeMailgun;
let wh: Warehouse;
let email: EmailCapability;
let events: DomainEvents;
let nba: ReturnType<typeof fakeNextBestAction>;
let metrics: Registry;
let logLines: Array<Record<string, unknown>>;
const predictor = fakePredictor(window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z', 'eta-v7'));
const DAY = new Date('2026-12-02T15:00:00Z'); // noon in São Paulo: outside quiet hours

function build(env: Record<string, string | undefined> = {}) {
  events = new DomainEvents();
  metrics = createMetricsRegistry({ defaultMetrics: false });
  logLines = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(l)); cb(); } });
  const config = testConfig(tempDir('shipcast-nba-email-'), {
    SHIPCAST_MAILER: 'mailgun', MAILGUN_API_KEY: 'key-test', MAILGUN_DOMAIN: 'mg.example.com', MAILGUN_PROMO_DOMAIN: 'offers.example.com', MAILGUN_URL: mg.url, ...env,
  } as Record<string, string>);
  email = createEmailCapability({ config, log: createLogger({ level: 'info', destination: sink }), warehouse: wh, events, metrics, predictor, nextBestAction: nba, worker: { pollMs: 20 }, guardrailCacheMs: 0 });
}

beforeAll(async () => {
  mg = await startFakeMailgun();
});
afterAll(async () => {
  await mg.close();
});
beforeEach(async () => {
  mg.requests.length = 0;
  wh = await openWarehouse(':memory:');
  nba = fakeNextBestAction('discount_code');
  build();
});
afterEach(async () => {
  await email.close();
  await wh.close();
});

const delayEvent = (shipmentId: string, trackingNumber: string, occurredAt = new Date()) => ({ type: 'shipment.milestone' as const, milestone: 'delayed' as const, shipmentId, trackingNumber, causeId: `tracking:${shipmentId}`, occurredAt });
const delayRequest = (shipmentId: string) => milestoneRequest(delayEvent(shipmentId, 'x', DAY))!;
const record = (shipmentId: string) => wh.one<{ message_id: string; stream: string; status: string; nba_decision_id: string | null; nba_action: string | null; nba_fallback: string | null }>(
  'SELECT message_id, stream, status, nba_decision_id, nba_action, nba_fallback FROM email_messages WHERE shipment_id = $1', [shipmentId]);

async function consenting(shipmentId: string, locale = 'en') {
  const s = await seedShipment(wh, { shipmentId, consentPromotional: true, locale, email: `${shipmentId}@example.com` });
  await wh.run("INSERT INTO consent_records VALUES ($1, 'email', 'promotional', true, 'checkout', now())", [s.customerId]);
  return s;
}

/** Promotional messages delivered (and complained about) `daysAgo` before DAY, as the Mailgun webhook records them. */
async function promoHistory(delivered: number, complained: number, daysAgo = 3, stream = 'promotional') {
  const at = new Date(DAY.getTime() - daysAgo * 86_400_000);
  const tag = `${stream}${daysAgo}`;
  await wh.run(`INSERT INTO email_messages (message_id, kind, stream, status, created_at) SELECT '${tag}_' || i, 'delivered', $1, 'sent', $2::TIMESTAMPTZ FROM range(${delivered}) r(i)`, [stream, at]);
  await wh.run(`INSERT INTO email_events (source, event_id, message_id, event, occurred_at, received_at) SELECT 'mailgun', '${tag}_d' || i, '${tag}_' || i, 'delivered', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ FROM range(${delivered}) r(i)`, [at]);
  await wh.run(`INSERT INTO email_events (source, event_id, message_id, event, occurred_at, received_at) SELECT 'mailgun', '${tag}_c' || i, '${tag}_' || i, 'complained', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ FROM range(${complained}) r(i)`, [at]);
}

const metricValue = async (name: string, labels: Record<string, string> = {}) => {
  const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values as Array<{ value: number; labels: Record<string, string> }> | undefined)?.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
};

describe('the delay email takes the next-best action (real mailgun.js, real DuckDB)', () => {
  it('a discount_code decision on a delay milestone sends a promotional message from the promo domain with RFC 8058 headers', async () => {
    const { shipmentId, trackingNumber } = await consenting('s_disc');
    events.publish('shipment.milestone', delayEvent(shipmentId, trackingNumber));
    events.publish('shipment.milestone', delayEvent(shipmentId, trackingNumber)); // the same delay reported twice
    await waitFor(async () => (await record(shipmentId))?.status === 'queued');
    await new Promise((r) => setTimeout(r, 50));
    // Promotional content waits out quiet hours: send from a moment that is surely daytime in São Paulo.
    const later = new Date(Date.now() + 86_400_000);
    later.setUTCHours(15, 0, 0, 0);
    expect(await email.worker.runOnce(later)).toBe(1);
    expect(nba.calls).toEqual([shipmentId]); // one decision for the one email
    expect(mg.requests).toHaveLength(1);
    const r = mg.requests[0];
    const f = r.fields;
    expect(r.path).toBe('/v3/offers.example.com/messages');
    expect(f.from).toEqual(['Shipcast <offers@offers.example.com>']);
    expect(f['o:tag']).toEqual(['delay', 'promotional']);
    expect(f['h:List-Unsubscribe'][0]).toMatch(/^<https:\/\/ship\.example\/email\/unsubscribe\?t=[\w-]+\.[\w-]+>$/);
    expect(f['h:List-Unsubscribe-Post']).toEqual(['List-Unsubscribe=One-Click']);
    expect(f.text[0]).toContain('Your delivery is running late');
    expect(f.text[0]).toContain('there is a discount on your next order below');
    expect(f.text[0]).toMatch(/R\$\s?10\.00 off your next order with code SORRY-[A-Z2-9]{8}/);
    expect(f.html[0]).toContain('Unsubscribe from offers');
    const row = await record(shipmentId);
    expect(row).toMatchObject({ stream: 'promotional', status: 'sent', nba_decision_id: `dec_1_${shipmentId}`, nba_action: 'discount_code', nba_fallback: null });
    expect(await metricValue('shipcast_email_nba_actions_total', { action: 'discount_code' })).toBe(1);
    // The code is the decision's: recomputable by the shop, stable across resends.
    const code = /SORRY-[A-Z2-9]{8}/.exec(f.text[0])![0];
    expect(f.html[0]).toContain(code);
  });

  it('without promotional consent the discount falls back to the transactional delay notice, and the fallback is recorded', async () => {
    const { shipmentId } = await seedShipment(wh, { shipmentId: 's_noconsent', consentPromotional: true }); // opt-in flag, no consent record
    const q = await email.service.enqueue(delayRequest(shipmentId), DAY);
    expect(q).toMatchObject({ stream: 'transactional', status: 'queued' });
    await email.worker.runOnce(DAY);
    const f = mg.requests[0].fields;
    expect(mg.requests[0].path).toBe('/v3/mg.example.com/messages');
    expect(f['o:tag']).toEqual(['delay', 'transactional']);
    expect(f['h:List-Unsubscribe']).toBeUndefined();
    expect(f.text[0]).not.toMatch(/SORRY-|discount|off your next order/);
    expect(f.text[0]).toContain('Choose another delivery day');
    const row = await record(shipmentId);
    expect(row).toMatchObject({ stream: 'transactional', status: 'sent', nba_decision_id: `dec_1_${shipmentId}`, nba_action: 'discount_code' });
    expect(row?.nba_fallback).toBe('no_consent: no consent: promotional email needs a recorded opt-in');
    expect(await metricValue('shipcast_email_nba_fallbacks_total', { action: 'discount_code', reason: 'no_consent' })).toBe(1);
    expect(logLines.some((l) => l.msg === 'promotional next-best action replaced by the transactional delay notice' && l.fallback === 'no_consent' && l.decisionId === `dec_1_${shipmentId}`)).toBe(true);
  });

  it('without a promotional domain the discount falls back too', async () => {
    await email.close();
    build({ MAILGUN_PROMO_DOMAIN: undefined });
    const { shipmentId } = await consenting('s_nodomain');
    const q = await email.service.enqueue(delayRequest(shipmentId), DAY);
    expect(q.stream).toBe('transactional');
    await email.worker.runOnce(DAY);
    expect(mg.requests[0].path).toBe('/v3/mg.example.com/messages');
    expect((await record(shipmentId))?.nba_fallback).toMatch(/^no_promo_domain: /);
  });

  it('over the complaint-rate limit promotional actions stop: fallback, log, gauge and counter', async () => {
    await promoHistory(1000, 2); // 0.2 % > 0.1 %
    await promoHistory(1000, 500, 3, 'transactional'); // complaints about another stream do not count
    const { shipmentId } = await consenting('s_guard');
    const q = await email.service.enqueue(delayRequest(shipmentId), DAY);
    expect(q.stream).toBe('transactional');
    await email.worker.runOnce(DAY);
    expect(mg.requests[0].path).toBe('/v3/mg.example.com/messages');
    expect(mg.requests[0].fields['h:List-Unsubscribe']).toBeUndefined();
    const row = await record(shipmentId);
    expect(row?.nba_fallback).toBe('guardrail: promotional complaint rate 0.200 % (2/1000) is above the 0.100 % limit');
    expect(await metricValue('shipcast_email_promo_complaint_rate')).toBeCloseTo(0.002, 9);
    expect(await metricValue('shipcast_email_promo_guardrail_tripped')).toBe(1);
    expect(await metricValue('shipcast_email_promo_guardrail_stops_total', { action: 'discount_code' })).toBe(1);
    expect(logLines.some((l) => l.msg === 'promotional complaint-rate guardrail tripped: promotional actions stopped' && l.complained === 2 && l.delivered === 1000)).toBe(true);
    // Transactional actions are unaffected by the guardrail.
    nba.action = 'apology_notice';
    const b = await seedShipment(wh, { shipmentId: 's_guard_apology', email: 'b@example.com' });
    await email.service.enqueue(delayRequest(b.shipmentId), DAY);
    await email.worker.runOnce(DAY);
    expect((await record(b.shipmentId))).toMatchObject({ nba_action: 'apology_notice', nba_fallback: null, stream: 'transactional' });
  });

  it('at the limit, or with the complaints outside the window, the offer goes out', async () => {
    await promoHistory(1000, 1); // exactly 0.1 %: not above
    await promoHistory(100, 50, 45); // 45 days ago: outside the 30-day window
    const { shipmentId } = await consenting('s_atlimit');
    const q = await email.service.enqueue(delayRequest(shipmentId), DAY);
    expect(q.stream).toBe('promotional');
    expect(await metricValue('shipcast_email_promo_guardrail_tripped')).toBe(0);
    // A limit configured lower trips on the same history.
    await email.close();
    build({ SHIPCAST_PROMO_COMPLAINT_LIMIT: '0.0005' });
    const s2 = await consenting('s_lowlimit');
    expect((await email.service.enqueue(delayRequest(s2.shipmentId), DAY)).stream).toBe('transactional');
  });

  it('a consent withdrawn while the offer waited for the morning turns it into the transactional notice at send time', async () => {
    const { shipmentId, customerId } = await consenting('s_withdraw');
    const night = new Date('2026-12-02T02:00:00Z'); // 23:00 in São Paulo
    const q = await email.service.enqueue(delayRequest(shipmentId), night);
    expect(q.stream).toBe('promotional');
    await wh.run("INSERT INTO consent_records VALUES ($1, 'email', 'promotional', false, 'preference_center', now() + INTERVAL 1 SECOND)", [customerId]);
    expect(await email.worker.runOnce(new Date('2026-12-02T03:00:00Z'))).toBe(0); // still quiet hours
    await email.worker.runOnce(new Date('2026-12-02T11:00:00Z'));
    expect(mg.requests).toHaveLength(1);
    expect(mg.requests[0].path).toBe('/v3/mg.example.com/messages');
    expect(mg.requests[0].fields.text[0]).not.toContain('SORRY-');
    const row = await record(shipmentId);
    expect(row).toMatchObject({ stream: 'transactional', status: 'sent', nba_action: 'discount_code' });
    expect(row?.nba_fallback).toMatch(/^no_consent: /);
    expect(await wh.one("SELECT stream, nba_action, offer FROM email_outbox WHERE message_id = $1", [q.id])).toEqual({ stream: 'transactional', nba_action: 'none', offer: null });
  });

  it('apology, reschedule and shipping refund render in en and pt-BR as transactional mail', async () => {
    const expected: Record<string, Record<string, { subject: string; body: RegExp }>> = {
      apology_notice: {
        en: { subject: 'We are sorry: your delivery is running late', body: /This is not the delivery we promised you, and we apologize\. .*Campinas/ },
        'pt-BR': { subject: 'Pedimos desculpas: sua entrega vai atrasar', body: /Esta não é a entrega que prometemos, e pedimos desculpas\. .*Campinas/ },
      },
      reschedule_offer: {
        en: { subject: 'Update: your delivery is running late', body: /choose the delivery day that does: we will pass it on to Correios/ },
        'pt-BR': { subject: 'Atualização: sua entrega vai atrasar', body: /escolha o dia de entrega que preferir: nós avisamos a Correios/ },
      },
      shipping_refund: {
        en: { subject: 'Your delivery is running late: we are refunding your shipping', body: /we are refunding the R\$\s?12\.50 you paid for shipping on this order/ },
        'pt-BR': { subject: 'Sua entrega vai atrasar: vamos reembolsar o frete', body: /vamos reembolsar os R\$\s?12,50 que você pagou de frete neste pedido/ },
      },
    };
    let i = 0;
    for (const [action, byLocale] of Object.entries(expected)) {
      for (const [locale, want] of Object.entries(byLocale)) {
        nba.action = action as NbaAction;
        const id = `s_${action}_${locale}`.replace(/\W/g, '_');
        await seedShipment(wh, { shipmentId: id, locale, email: `${id}@example.com` });
        await wh.run('UPDATE orders SET shipping_charged = 12.5 WHERE order_id = $1', [`ord_${id}`]);
        await email.service.enqueue(delayRequest(id), DAY);
        await email.worker.runOnce(DAY);
        const f = mg.requests[i++].fields;
        expect([action, locale, f.subject[0]]).toEqual([action, locale, want.subject]);
        expect(f['o:tag']).toEqual(['delay', 'transactional']);
        expect(f['h:List-Unsubscribe']).toBeUndefined();
        expect(f.text[0]).toMatch(want.body);
        expect(f.html[0]).toMatch(want.body);
        if (action === 'reschedule_offer') {
          // The reschedule link leads: the first call to action, signed for this message.
          const firstLink = /: (https:\/\/\S+)/.exec(f.text[0].split('\n').filter((l) => l.includes('https://ship.example/email/l/')).join('\n'))![1];
          expect(firstLink).toMatch(/^https:\/\/ship\.example\/email\/l\/reschedule\?t=[\w-]+\.[\w-]+$/);
          const token = new URL(firstLink).searchParams.get('t')!;
          const claims = email.signer.verify(token, 'reschedule', DAY);
          expect(claims.messageId).toBe((await record(id))?.message_id);
        }
        expect((await record(id))).toMatchObject({ nba_action: action, nba_fallback: null, stream: 'transactional' });
      }
    }
  });

  it('none is today\'s delay notice; a failing policy costs the action, not the email; manual sends ask no policy', async () => {
    nba.action = 'none';
    const a = await seedShipment(wh, { shipmentId: 's_none', email: 'a@example.com' });
    await email.service.enqueue(delayRequest(a.shipmentId), DAY);
    nba.fail = true;
    const b = await seedShipment(wh, { shipmentId: 's_fail', email: 'b@example.com' });
    await email.service.enqueue(delayRequest(b.shipmentId), DAY);
    nba.fail = false;
    const c = await seedShipment(wh, { shipmentId: 's_manual', email: 'c@example.com' });
    await email.service.sendTransactional(c.trackingNumber, 'delay');
    await email.worker.runOnce(DAY);
    await email.worker.runOnce(); // the manual one was queued just now
    expect(nba.calls).toEqual(['s_none']);
    for (const r of mg.requests) {
      expect(r.fields.text[0]).toContain('The carrier reported a delay with your parcel. We are sorry for the wait.');
      expect(r.fields.text[0]).not.toMatch(/apologize|refunding|discount|SORRY-|choose the delivery day that does/);
      expect(r.fields['o:tag']).toEqual(['delay', 'transactional']);
    }
    expect(mg.requests.map((r) => r.fields.subject[0])).toEqual(Array(3).fill('Update: your delivery is running late'));
    expect(await record(a.shipmentId)).toMatchObject({ nba_action: 'none', nba_decision_id: 'dec_1_s_none' });
    expect(await record(b.shipmentId)).toMatchObject({ nba_action: null, nba_decision_id: null });
    expect(logLines.some((l) => l.msg === 'next-best-action decision failed; sending the plain delay notice' && l.shipmentId === 's_fail')).toBe(true);
  });
});
