import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { createEmailMetrics } from '../../src/email/email-metrics.js';
import { complaintRate, createComplaintGuardrail, guardrailDecision, loadPromoComplaintCounts } from '../../src/email/complaint-guardrail.js';
import { couponCode, discountOffer, planDelayAction } from '../../src/email/delay-actions.js';
import { composeEmail } from '../../src/email/compose.js';
import { createTemplateRenderer } from '../../src/email/templates/render.js';
import { createLinkSigner } from '../../src/email/link-tokens.js';
import { NBA_ACTION_NAMES } from '../../src/domain/nba.js';
import type { ShipmentContext } from '../../src/email/recipients.js';

const key = Buffer.from('a-coupon-key-of-enough-length');
const offer = discountOffer(key, 'dec_1', { amountOff: 10 });

describe('complaint-rate guardrail (pure)', () => {
  it('computes the rate and trips only above the limit', () => {
    expect(complaintRate({ delivered: 0, complained: 0 })).toBe(0);
    expect(complaintRate({ delivered: 2000, complained: 3 })).toBeCloseTo(0.0015, 12);
    expect(guardrailDecision({ delivered: 1000, complained: 1 }, 0.001).tripped).toBe(false); // exactly at the limit
    expect(guardrailDecision({ delivered: 1000, complained: 2 }, 0.001)).toMatchObject({ tripped: true, rate: 0.002, limit: 0.001 });
    expect(guardrailDecision({ delivered: 0, complained: 0 }, 0.001).tripped).toBe(false);
    // A complaint with no recorded delivery is no rate at all (the delivered event may still be on its way).
    expect(guardrailDecision({ delivered: 0, complained: 1 }, 0.001).tripped).toBe(false);
  });

  it('plans the delay email: only the discount is promotional, and it falls back for each cause in order', () => {
    for (const action of NBA_ACTION_NAMES.filter((a) => a !== 'discount_code')) {
      expect(planDelayAction({ action, promoDomain: false, promoBlocked: 'no consent' })).toEqual({ action, stream: 'transactional', offer: null });
    }
    const tripped = guardrailDecision({ delivered: 100, complained: 1 }, 0.001);
    const ok = { action: 'discount_code' as const, offer, promoDomain: true };
    expect(planDelayAction(ok)).toEqual({ action: 'discount_code', stream: 'promotional', offer });
    expect(planDelayAction({ ...ok, promoDomain: false, guardrail: tripped }).fallback?.reason).toBe('no_promo_domain');
    expect(planDelayAction({ ...ok, guardrail: tripped, promoBlocked: 'no consent: x' })).toEqual({
      action: 'none', stream: 'transactional', offer: null,
      fallback: { reason: 'guardrail', detail: 'promotional complaint rate 1.000 % (1/100) is above the 0.100 % limit' },
    });
    expect(planDelayAction({ ...ok, promoBlocked: 'suppressed: unsubscribe' }).fallback).toEqual({ reason: 'suppressed', detail: 'suppressed: unsubscribe' });
    expect(planDelayAction({ ...ok, promoBlocked: 'no consent: promotional email needs a recorded opt-in' }).fallback?.reason).toBe('no_consent');
    // A discount without an offer to carry has nothing promotional in it.
    expect(planDelayAction({ action: 'discount_code', promoDomain: true })).toEqual({ action: 'discount_code', stream: 'transactional', offer: null });
  });

  it('coupon codes are stable per decision, differ across decisions and keys, and avoid ambiguous characters', () => {
    expect(couponCode(key, 'dec_1')).toBe(couponCode(key, 'dec_1'));
    expect(couponCode(key, 'dec_1')).toMatch(/^SORRY-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/);
    const codes = new Set(Array.from({ length: 500 }, (_, i) => couponCode(key, `dec_${i}`)));
    expect(codes.size).toBe(500);
    expect(couponCode(Buffer.from('another-key-of-enough-length'), 'dec_1')).not.toBe(couponCode(key, 'dec_1'));
    expect(offer).toEqual({ action: 'discount_code', amountOff: 10, code: couponCode(key, 'dec_1') });
  });

  it('SHIPCAST_PROMO_COMPLAINT_LIMIT is parsed once with its default, and a bad value names the variable', () => {
    expect(loadConfig({}).mail.promoGuardrail).toEqual({ complaintLimit: 0.001, windowDays: 30 });
    expect(loadConfig({ SHIPCAST_PROMO_COMPLAINT_LIMIT: '0.003', SHIPCAST_PROMO_COMPLAINT_WINDOW_DAYS: '7' }).mail.promoGuardrail).toEqual({ complaintLimit: 0.003, windowDays: 7 });
    expect(() => loadConfig({ SHIPCAST_PROMO_COMPLAINT_LIMIT: '2' })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', field: 'SHIPCAST_PROMO_COMPLAINT_LIMIT' }));
    expect(() => loadConfig({ SHIPCAST_PROMO_COMPLAINT_LIMIT: 'lots' })).toThrow(expect.objectContaining({ field: 'SHIPCAST_PROMO_COMPLAINT_LIMIT' }));
  });
});

describe('complaint counts from email_events (real DuckDB)', () => {
  let wh: Warehouse;
  const NOW = new Date('2026-12-02T15:00:00Z');
  const days = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
  beforeAll(async () => {
    wh = await openWarehouse(':memory:');
    const msg = (id: string, stream: string) => wh.run("INSERT INTO email_messages (message_id, kind, stream, status, created_at) VALUES ($1, 'delay', $2, 'sent', now())", [id, stream]);
    const ev = (id: string, msgId: string, event: string, at: Date) => wh.run("INSERT INTO email_events (source, event_id, message_id, event, occurred_at, received_at) VALUES ('mailgun', $1, $2, $3, $4::TIMESTAMPTZ, $4::TIMESTAMPTZ)", [id, msgId, event, at]);
    for (const [id, stream] of [['p1', 'promotional'], ['p2', 'promotional'], ['p3', 'promotional'], ['p4', 'promotional'], ['t1', 'transactional']]) await msg(id, stream);
    await ev('e1', 'p1', 'delivered', days(1));
    await ev('e2', 'p1', 'complained', days(1));
    await ev('e3', 'p1', 'complained', days(1)); // a repeated webhook: one complaint
    await ev('e4', 'p2', 'delivered', days(29));
    await ev('e5', 'p3', 'delivered', days(31)); // outside 30 days
    await ev('e6', 'p3', 'complained', days(31));
    await ev('e7', 'p4', 'delivered', new Date(NOW.getTime() + 60_000)); // after "now"
    await ev('e8', 't1', 'delivered', days(1)); // another stream
    await ev('e9', 't1', 'complained', days(1));
    await ev('e10', 'p2', 'opened', days(2));
  });
  afterAll(async () => {
    await wh.close();
  });

  it('counts distinct promotional messages delivered and complained about in the trailing window', async () => {
    expect(await loadPromoComplaintCounts(wh, NOW, 30)).toEqual({ delivered: 2, complained: 1 });
    expect(await loadPromoComplaintCounts(wh, NOW, 2)).toEqual({ delivered: 1, complained: 1 });
    expect(await loadPromoComplaintCounts(wh, NOW, 60)).toEqual({ delivered: 3, complained: 2 });
  });

  it('the guardrail measures once per cache period, exports the rate and the trip, and logs the change', async () => {
    const registry = new Registry();
    const metrics = createEmailMetrics(registry);
    const g = createComplaintGuardrail({ warehouse: wh, limit: 0.001, windowDays: 30, log: silentLogger(), metrics, cacheMs: 60_000 });
    const s1 = await g.check(NOW);
    expect(s1).toMatchObject({ tripped: true, rate: 0.5, counts: { delivered: 2, complained: 1 } });
    const gauge = async (name: string) => ((await registry.getSingleMetric(name)!.get()).values[0]?.value);
    expect(await gauge('shipcast_email_promo_complaint_rate')).toBe(0.5);
    expect(await gauge('shipcast_email_promo_guardrail_tripped')).toBe(1);
    // Within the cache period the same measurement is reused, even though the data changed.
    await wh.run("INSERT INTO email_messages (message_id, kind, stream, status, created_at) SELECT 'bulk' || i, 'delay', 'promotional', 'sent', now() FROM range(5000) r(i)");
    await wh.run("INSERT INTO email_events (source, event_id, message_id, event, occurred_at, received_at) SELECT 'mailgun', 'bd' || i, 'bulk' || i, 'delivered', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ FROM range(5000) r(i)", [days(1)]);
    expect(await g.check(new Date(NOW.getTime() + 30_000))).toBe(s1);
    const s2 = await g.check(new Date(NOW.getTime() + 61_000));
    expect(s2).toMatchObject({ tripped: false, counts: { delivered: 5003, complained: 1 } }); // p4's delivery is now in the past too
    expect(await gauge('shipcast_email_promo_guardrail_tripped')).toBe(0);
    g.recordStop({ action: 'discount_code', state: s1 });
    expect((await registry.getSingleMetric('shipcast_email_promo_guardrail_stops_total')!.get()).values[0]).toMatchObject({ value: 1, labels: { action: 'discount_code' } });
  });
});

describe('delay templates with an action (pure)', () => {
  const deps = {
    renderer: createTemplateRenderer(),
    signer: createLinkSigner('a-test-secret-of-enough-length'),
    senders: { transactional: { domain: 'mg.example', from: 'Shop <shipping@mg.example>' }, promotional: { domain: 'promo.example', from: 'Shop <offers@promo.example>' } },
    publicUrl: 'https://ship.example',
    brand: 'Shop',
    now: new Date('2026-12-01T12:00:00Z'),
  };
  const ctx = (over: Partial<ShipmentContext> = {}): ShipmentContext => ({
    shipmentId: 'shp_internal_42', orderId: 'ord_internal_42', trackingNumber: 'BR123456789', carrier: 'Correios', destCity: 'Campinas',
    status: 'in_transit', promisedAt: new Date('2026-12-05T12:00:00Z'), deliveredAt: null, customerId: 'cus_internal_42',
    email: 'ana@example.com', firstName: 'Ana', locale: 'en', timeZone: 'America/Sao_Paulo', consentTransactional: true, consentPromotional: true,
    currency: 'BRL', shippingCharged: 15.9, returnReceivedAt: null, refundedAt: null, refundAmount: null, ...over,
  });

  it('every action renders in both locales, fully filled, with no internal ids', () => {
    const subjects = new Set<string>();
    for (const action of NBA_ACTION_NAMES) {
      for (const locale of ['en', 'pt-BR'] as const) {
        const stream = action === 'discount_code' ? 'promotional' : 'transactional';
        const out = composeEmail({ messageId: 'm', kind: 'delay', stream, trigger: 'delayed', action, offer: action === 'discount_code' ? offer : null, ctx: ctx({ locale }) }, deps);
        for (const part of [out.email.html, out.email.text]) {
          expect(part).not.toContain('{{');
          expect(part).not.toMatch(/shp_internal|ord_internal|cus_internal/);
        }
        expect(out.email.tags).toEqual(['delay', stream]);
        subjects.add(out.email.subject);
      }
    }
    expect(subjects.size).toBe(6); // none/reschedule/discount keep the delay subject; apology and refund have their own, per locale
  });

  it('states the discount and the refunded shipping fee in the customer\'s currency format', () => {
    const pt = composeEmail({ messageId: 'm', kind: 'delay', stream: 'promotional', trigger: 'delayed', action: 'discount_code', offer, ctx: ctx({ locale: 'pt-BR' }) }, deps);
    expect(pt.email.text).toMatch(new RegExp(`R\\$\\s10,00 de desconto na sua próxima compra com o cupom ${offer.code}`));
    expect(pt.email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const refund = composeEmail({ messageId: 'm', kind: 'delay', stream: 'transactional', trigger: 'delayed', action: 'shipping_refund', ctx: ctx() }, deps);
    expect(refund.email.text).toMatch(/we are refunding the R\$\s?15\.90 you paid for shipping on this order/);
    const unknown = composeEmail({ messageId: 'm', kind: 'delay', stream: 'transactional', trigger: 'delayed', action: 'shipping_refund', ctx: ctx({ shippingCharged: null, locale: 'pt-BR' }) }, deps);
    expect(unknown.email.text).toContain('vamos reembolsar o valor que você pagou de frete neste pedido');
    // Other kinds ignore an action.
    const shipped = composeEmail({ messageId: 'm', kind: 'shipped', stream: 'transactional', trigger: 'shipped', action: 'apology_notice', ctx: ctx() }, deps);
    expect(shipped.email.text).not.toContain('apologize');
  });
});
