import type { EtaPrediction } from '../domain/eta.js';
import type { NbaAction } from '../domain/nba.js';
import { resolveLocale, type EmailKind, type EmailLocale, type EmailOffer, type EmailStream } from './kinds.js';
import { formatDay, formatMoney, formatWindow } from './format.js';
import type { LinkScope, LinkSigner } from './link-tokens.js';
import type { ShipmentContext } from './recipients.js';
import type { TemplateRenderer, TemplateVars } from './templates/render.js';
import { PHRASES } from './templates/copy.js';
import type { OutgoingEmail } from './mailers/mailer.js';

/** The sending identity of one stream. */
export interface StreamSender {
  domain: string;
  from: string;
}

/** Transactional and promotional mail use separate domains, so complaints about offers never hurt delivery notices. */
export interface Senders {
  transactional: StreamSender;
  /** Absent when no promotional domain is configured: promotional mail is then refused. */
  promotional?: StreamSender;
}

export interface ComposeInput {
  messageId: string;
  kind: EmailKind;
  stream: EmailStream;
  /** The milestone behind the message; `predictive_delay` changes the wording of a delay. */
  trigger: string;
  offer?: EmailOffer | null;
  /** The next-best action a delay email carries (apology, reschedule link, discount, shipping refund); ignored by other kinds. */
  action?: NbaAction | null;
  ctx: ShipmentContext;
  /** The active model's window at send time, when there is one. */
  prediction?: EtaPrediction;
  /** Overrides the customer's locale (preview). */
  locale?: EmailLocale;
}

export interface ComposeDeps {
  renderer: TemplateRenderer;
  signer: LinkSigner;
  senders: Senders;
  /** Public base URL of this service, for links and the live-ETA image. */
  publicUrl: string;
  brand: string;
  now?: Date;
}

export interface ComposedEmail {
  email: OutgoingEmail;
  locale: EmailLocale;
  window?: { p10: Date; p50: Date; p90: Date };
  modelVersion?: string;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, k: string) => values[k] ?? '');
}

/**
 * Describes an offer in the customer's language, e.g. "10% off your next order with code THANKS10",
 * or "R$ 10,00 off your next order…" for a fixed amount in `currency`.
 */
export function offerText(offer: EmailOffer, locale: EmailLocale, currency = 'USD'): string {
  const p = PHRASES[locale];
  const percent = offer.percentOff ?? Number(/(\d+)/.exec(offer.action)?.[1] ?? NaN);
  const base = offer.amountOff !== undefined
    ? fill(p.amountOff, { amount: formatMoney(offer.amountOff, currency, locale) })
    : Number.isFinite(percent) ? fill(p.percentOff, { percent: String(percent) }) : offer.action;
  return offer.code ? `${base} ${fill(p.offerCode, { code: offer.code })}` : base;
}

/**
 * Builds the message for one shipment: the window (from the active model when it predicted one,
 * else the promise), signed links, and the rendered parts. Only first name, carrier, destination
 * city and tracking number reach the body: no street address, no internal ids.
 */
export function composeEmail(input: ComposeInput, deps: ComposeDeps): ComposedEmail {
  const { ctx, kind, stream, messageId } = input;
  const now = deps.now ?? new Date();
  const locale = input.locale ?? resolveLocale(ctx.locale);
  const tz = ctx.timeZone;
  const phrases = PHRASES[locale];
  const sender = stream === 'promotional' ? deps.senders.promotional : deps.senders.transactional;
  if (!sender) throw new Error('no promotional sending domain configured');
  const link = (scope: LinkScope, path: string) => `${deps.publicUrl}${path}?t=${deps.signer.sign(scope, messageId, now)}`;
  const p = input.prediction;
  const window = p
    ? formatWindow(p.p10, p.p90, locale, tz)
    : ctx.promisedAt
      ? fill(phrases.byDay, { day: formatDay(ctx.promisedAt, locale, tz) })
      : phrases.soon;
  const vars: TemplateVars = {
    brand: deps.brand,
    first_name: ctx.firstName?.trim() || phrases.friend,
    carrier: ctx.carrier,
    tracking_number: ctx.trackingNumber,
    dest_city: ctx.destCity ?? '',
    window,
    delivered_on: formatDay(ctx.deliveredAt ?? now, locale, tz),
    received_on: formatDay(ctx.returnReceivedAt ?? now, locale, tz),
    refunded_on: formatDay(ctx.refundedAt ?? now, locale, tz),
    refund_amount: ctx.refundAmount === null ? phrases.fullAmount : formatMoney(ctx.refundAmount, ctx.currency, locale),
    delay_reason: input.trigger === 'predictive_delay' ? phrases.predictiveDelay : phrases.carrierDelay,
    offer_text: input.offer ? offerText(input.offer, locale, ctx.currency) : '',
    shipping_refund: ctx.shippingCharged ? fill(phrases.shippingPaid, { amount: formatMoney(ctx.shippingCharged, ctx.currency, locale) }) : phrases.shippingPaidUnknown,
    track_url: link('track', '/email/l/track'),
    reschedule_url: link('reschedule', '/email/l/reschedule'),
    return_url: link('return', '/email/l/return'),
    survey_url: link('survey', '/email/l/survey'),
    eta_image_url: link('eta', '/email/eta.svg'),
    unsubscribe_url: stream === 'promotional' ? link('unsubscribe', '/email/unsubscribe') : '',
  };
  const rendered = deps.renderer.render(kind, locale, stream, vars, kind === 'delay' ? input.action ?? 'none' : 'none');
  // A stable Message-Id: if a crash hides whether the provider accepted a message, the resend
  // carries the same id and mailbox providers collapse the duplicate.
  const headers: Record<string, string> = { 'Message-Id': `<${messageId}@${sender.domain}>` };
  if (stream === 'promotional') {
    headers['List-Unsubscribe'] = `<${vars.unsubscribe_url}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return {
    email: {
      messageId,
      kind,
      stream,
      domain: sender.domain,
      from: sender.from,
      to: ctx.email ?? '',
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers,
      tags: [kind, stream],
      variables: { message_id: messageId },
    },
    locale,
    window: p ? { p10: p.p10, p50: p.p50, p90: p.p90 } : undefined,
    modelVersion: p?.modelVersion,
  };
}
