import { describe, expect, it } from 'vitest';
import { createTemplateRenderer } from '../../src/email/templates/render.js';
import { composeEmail } from '../../src/email/compose.js';
import fs from 'node:fs';
import path from 'node:path';
import { createLinkSigner, resolveLinkSecret } from '../../src/email/link-tokens.js';
import { EMAIL_KINDS, classifyStream, milestoneKey, DEFAULT_WORKFLOW } from '../../src/email/kinds.js';
import { releaseTime, formatWindow } from '../../src/email/format.js';
import { parseRetryAfter } from '../../src/email/mailers/mailer.js';
import { backoffMs } from '../../src/email/outbox-worker.js';
import type { ShipmentContext } from '../../src/email/recipients.js';
import { tempDir, window } from './helpers.js';

const signer = createLinkSigner('a-test-secret-of-enough-length');
const deps = {
  renderer: createTemplateRenderer(),
  signer,
  senders: { transactional: { domain: 'mg.example', from: 'Shop <shipping@mg.example>' }, promotional: { domain: 'promo.example', from: 'Shop <offers@promo.example>' } },
  publicUrl: 'https://ship.example',
  brand: 'Shop',
  now: new Date('2026-12-01T12:00:00Z'),
};

function ctx(over: Partial<ShipmentContext> = {}): ShipmentContext {
  return {
    shipmentId: 'shp_internal_42', orderId: 'ord_internal_42', trackingNumber: 'BR123456789', carrier: 'Correios', destCity: 'Campinas',
    status: 'in_transit', promisedAt: new Date('2026-12-05T12:00:00Z'), deliveredAt: new Date('2026-12-04T18:00:00Z'), customerId: 'cus_internal_42',
    email: 'ana@example.com', firstName: 'Ana', locale: 'en', timeZone: 'America/Sao_Paulo', consentTransactional: true, consentPromotional: false,
    currency: 'BRL', shippingCharged: 15.9, returnReceivedAt: null, refundedAt: null, refundAmount: 59.9, ...over,
  };
}

// P10 late on Dec 2 UTC is still Dec 2 in São Paulo; P90 at 01:30 UTC on Dec 5 is Dec 4 there.
const pred = { ...window('2026-12-02T20:00:00Z', '2026-12-03T15:00:00Z', '2026-12-05T01:30:00Z'), shipmentId: 'shp_internal_42' };

describe('templates', () => {
  it('renders every kind in en and pt-BR with HTML and text parts, minimal data only', () => {
    for (const kind of EMAIL_KINDS) {
      for (const locale of ['en', 'pt-BR'] as const) {
        const out = composeEmail({ messageId: 'm-1', kind, stream: 'transactional', trigger: 'manual', ctx: ctx({ locale }), prediction: pred }, deps);
        const { html, text, subject } = out.email;
        expect(subject.length).toBeGreaterThan(5);
        expect(html).toMatch(/^<!doctype html>/i);
        expect(html).toContain(`lang="${locale}"`);
        expect(html).toContain('BR123456789');
        expect(text).toContain('BR123456789');
        for (const part of [html, text]) {
          expect(part).not.toMatch(/shp_internal|ord_internal|cus_internal/);
          expect(part).not.toContain('{{');
        }
        expect(out.email.tags).toEqual([kind, 'transactional']);
        expect(out.email.headers['List-Unsubscribe']).toBeUndefined();
      }
    }
  });

  it('writes the window in the customer zone and language', () => {
    const en = composeEmail({ messageId: 'm', kind: 'shipped', stream: 'transactional', trigger: 'shipped', ctx: ctx(), prediction: pred }, deps);
    expect(en.email.text).toContain('Expected delivery: Wed, Dec 2 – Fri, Dec 4');
    expect(en.modelVersion).toBe('eta-v7');
    const pt = composeEmail({ messageId: 'm', kind: 'shipped', stream: 'transactional', trigger: 'shipped', ctx: ctx({ locale: 'pt-BR' }), prediction: pred }, deps);
    expect(pt.email.subject).toBe('Seu pedido está a caminho');
    expect(pt.email.text).toContain('Previsão de entrega: qua., 2 de dez. – sex., 4 de dez.');
    // In UTC the same window ends a day later: the zone matters.
    expect(formatWindow(pred.p10, pred.p90, 'en', 'UTC')).toBe('Wed, Dec 2 – Sat, Dec 5');
    const noModel = composeEmail({ messageId: 'm', kind: 'shipped', stream: 'transactional', trigger: 'shipped', ctx: ctx() }, deps);
    expect(noModel.email.text).toContain('Expected delivery: by Sat, Dec 5');
    expect(noModel.modelVersion).toBeUndefined();
  });

  it('delay mail distinguishes predictive from carrier-reported and offers the options', () => {
    const predictive = composeEmail({ messageId: 'm', kind: 'delay', stream: 'transactional', trigger: 'predictive_delay', ctx: ctx(), prediction: pred }, deps);
    expect(predictive.email.text).toContain('running behind its promised date');
    const carrier = composeEmail({ messageId: 'm', kind: 'delay', stream: 'transactional', trigger: 'delayed', ctx: ctx({ locale: 'pt-BR' }), prediction: pred }, deps);
    expect(carrier.email.text).toContain('A transportadora informou um atraso');
    for (const path of ['/email/l/track?t=', '/email/l/reschedule?t=', '/email/l/return?t=']) expect(carrier.email.text).toContain(`https://ship.example${path}`);
    const refund = composeEmail({ messageId: 'm', kind: 'refund_issued', stream: 'transactional', trigger: 'manual', ctx: ctx({ locale: 'pt-BR' }) }, deps);
    expect(refund.email.text).toMatch(/R\$\s59,90/);
    const delivered = composeEmail({ messageId: 'm', kind: 'delivered', stream: 'transactional', trigger: 'delivered', ctx: ctx() }, deps);
    expect(delivered.email.text).toMatch(/Rate your delivery: https:\/\/ship\.example\/email\/l\/survey\?t=/);
  });

  it('escapes customer data in HTML', () => {
    const out = composeEmail({ messageId: 'm', kind: 'shipped', stream: 'transactional', trigger: 'shipped', ctx: ctx({ firstName: '<script>x</script>' }) }, deps);
    expect(out.email.html).not.toContain('<script>x');
    expect(out.email.html).toContain('&lt;script&gt;');
  });

  it('an offer makes a message promotional, with its own domain and RFC 8058 headers', () => {
    expect(classifyStream({})).toBe('transactional');
    expect(classifyStream({ offer: { action: 'discount_10' } })).toBe('promotional');
    const out = composeEmail({ messageId: 'm-9', kind: 'delivered', stream: classifyStream({ offer: { action: 'discount_10', code: 'THANKS10' } }), trigger: 'delivered', offer: { action: 'discount_10', code: 'THANKS10' }, ctx: ctx() }, deps);
    expect(out.email.stream).toBe('promotional');
    expect(out.email.from).toBe('Shop <offers@promo.example>');
    expect(out.email.tags).toEqual(['delivered', 'promotional']);
    expect(out.email.headers['List-Unsubscribe']).toMatch(/^<https:\/\/ship\.example\/email\/unsubscribe\?t=[\w-]+\.[\w-]+>$/);
    expect(out.email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(out.email.text).toContain('10% off your next order with code THANKS10');
  });
});

describe('link tokens', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it('verifies its own tokens and refuses tampering, the wrong scope, expiry and other keys', () => {
    const t = signer.sign('reschedule', 'msg-1', now);
    expect(signer.verify(t, 'reschedule', now).messageId).toBe('msg-1');
    const [payload, sig] = t.split('.');
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('msg-1', 'msg-2')).toString('base64url');
    expect(() => signer.verify(`${forged}.${sig}`, 'reschedule', now)).toThrow(/signature is invalid/);
    expect(() => signer.verify(`${payload}.${sig.slice(0, -2)}AA`, 'reschedule', now)).toThrow(/signature is invalid/);
    expect(() => signer.verify(t, 'unsubscribe', now)).toThrow(/not valid for unsubscribe/);
    expect(() => signer.verify(t, 'reschedule', new Date(now.getTime() + 3 * 86_400_000 + 1000))).toThrow(/expired/);
    expect(() => createLinkSigner('another-secret-of-enough-len').verify(t, 'reschedule', now)).toThrow(/signature is invalid/);
    expect(() => signer.verify('garbage', 'reschedule', now)).toThrow(/malformed/);
  });
});

describe('link secret', () => {
  it('uses the configured secret, else generates one once and keeps it private under the data dir', () => {
    const dir = tempDir('shipcast-secret-');
    expect(resolveLinkSecret('configured-secret-value', dir).toString()).toBe('configured-secret-value');
    expect(fs.existsSync(path.join(dir, 'link-secret'))).toBe(false);
    const first = resolveLinkSecret(undefined, dir);
    expect(first.length).toBe(32);
    expect(fs.statSync(path.join(dir, 'link-secret')).mode & 0o777).toBe(0o600);
    expect(resolveLinkSecret(undefined, dir).equals(first)).toBe(true);
  });
});

describe('scheduling rules', () => {
  it('holds non-urgent mail during quiet hours until 08:00 local', () => {
    // 02:00 UTC = 23:00 in São Paulo (UTC-3): quiet, release at 08:00 local = 11:00 UTC.
    expect(releaseTime(new Date('2026-12-02T02:00:00Z'), 'America/Sao_Paulo').toISOString()).toBe('2026-12-02T11:00:00.000Z');
    const day = new Date('2026-12-02T15:00:00Z');
    expect(releaseTime(day, 'America/Sao_Paulo')).toBe(day);
  });

  it('keys milestone emails so duplicates collapse', () => {
    const at = new Date('2026-12-02T10:00:00Z');
    const shipped = DEFAULT_WORKFLOW.shipped!;
    expect(milestoneKey('s1', 'shipped', shipped, at)).toBe(milestoneKey('s1', 'shipped', shipped, new Date('2026-12-09T10:00:00Z')));
    const delay = DEFAULT_WORKFLOW.delayed!;
    expect(milestoneKey('s1', 'delayed', delay, at)).toBe(milestoneKey('s1', 'predictive_delay', DEFAULT_WORKFLOW.predictive_delay!, at));
    expect(milestoneKey('s1', 'delayed', delay, at)).not.toBe(milestoneKey('s1', 'delayed', delay, new Date('2026-12-03T10:00:00Z')));
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, 2000, 600_000, () => 0)).toBe(1000);
    expect(backoffMs(1, 2000, 600_000, () => 1)).toBe(2000);
    expect(backoffMs(4, 2000, 600_000, () => 1)).toBe(16_000);
    expect(backoffMs(20, 2000, 600_000, () => 1)).toBe(600_000);
  });

  it('parses Retry-After seconds and dates', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
