import mjml2html from 'mjml';
import { ShipcastError } from '../../errors.js';
import type { NbaAction } from '../../domain/nba.js';
import type { EmailKind, EmailLocale, EmailStream } from '../kinds.js';
import { escapeHtml } from '../format.js';
import { COPY, DELAY_ACTION_COPY, SHARED, delayCopyWith, type KindCopy } from './copy.js';

/** The values a template is filled with. Every value is plain text; the renderer escapes it for HTML. */
export interface TemplateVars {
  brand: string;
  first_name: string;
  carrier: string;
  tracking_number: string;
  dest_city: string;
  window: string;
  delivered_on: string;
  received_on: string;
  refunded_on: string;
  refund_amount: string;
  delay_reason: string;
  offer_text: string;
  /** "the R$ 15,00 you paid for shipping" (delay email with a shipping refund). */
  shipping_refund: string;
  track_url: string;
  reschedule_url: string;
  return_url: string;
  survey_url: string;
  eta_image_url: string;
  unsubscribe_url: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** A compiled template split into literal text and variable slots, so filling is one pass of joins. */
type Piece = string | { name: keyof TemplateVars };

interface Compiled {
  subject: Piece[];
  html: Piece[];
  text: Piece[];
}

const SLOT = /\{\{([a-z_]+)\}\}/g;

function split(source: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of source.matchAll(SLOT)) {
    pieces.push(source.slice(last, m.index));
    pieces.push({ name: m[1] as keyof TemplateVars });
    last = m.index + m[0].length;
  }
  pieces.push(source.slice(last));
  return pieces;
}

function fill(pieces: Piece[], vars: TemplateVars, escape: boolean): string {
  let out = '';
  for (const p of pieces) {
    if (typeof p === 'string') out += p;
    else out += escape ? escapeHtml(vars[p.name]) : vars[p.name];
  }
  return out;
}

function mjmlSource(copy: KindCopy, locale: EmailLocale, stream: EmailStream): string {
  const shared = SHARED[locale];
  const paragraphs = copy.paragraphs.map((p) => `<mj-text font-size="16px" line-height="24px">${p}</mj-text>`).join('\n');
  const actions = copy.actions
    .map((a, i) => `<mj-button href="{{${a.url}}}" background-color="${i === 0 ? '#1f6feb' : '#ffffff'}" color="${i === 0 ? '#ffffff' : '#1f6feb'}" border="1px solid #1f6feb" font-size="15px" width="100%">${a.label}</mj-button>`)
    .join('\n');
  const eta = copy.etaImage
    ? `<mj-text font-size="13px" color="#57606a" padding-bottom="0">${shared.windowLabel}</mj-text>
       <mj-text font-size="18px" font-weight="bold" padding-top="4px">{{window}}</mj-text>
       <mj-image src="{{eta_image_url}}" alt="${shared.windowLabel}: {{window}}" width="520px" />`
    : '';
  const offer = stream === 'promotional'
    ? `<mj-section background-color="#fff8e1" padding="12px"><mj-column>
         <mj-text font-size="16px" font-weight="bold">${shared.offerHeading}</mj-text>
         <mj-text font-size="15px">${shared.offerLine}</mj-text>
       </mj-column></mj-section>`
    : '';
  const footer = stream === 'promotional'
    ? `<mj-text font-size="12px" color="#57606a">${shared.footerPromotional} <a href="{{unsubscribe_url}}">${shared.unsubscribe}</a></mj-text>`
    : `<mj-text font-size="12px" color="#57606a">${shared.footerTransactional}</mj-text>`;
  return `<mjml lang="${locale}">
  <mj-head>
    <mj-title>${copy.subject}</mj-title>
    <mj-preview>${copy.preheader}</mj-preview>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
  </mj-head>
  <mj-body background-color="#f6f8fa" width="600px">
    <mj-section background-color="#ffffff" padding="24px 16px">
      <mj-column>
        <mj-text font-size="22px" font-weight="bold">${copy.heading}</mj-text>
        <mj-text font-size="16px">${shared.greeting}</mj-text>
        ${paragraphs}
        ${eta}
        ${actions}
        <mj-text font-size="13px" color="#57606a">${shared.trackingLabel}: {{tracking_number}}</mj-text>
      </mj-column>
    </mj-section>
    ${offer}
    <mj-section padding="8px 16px"><mj-column>${footer}</mj-column></mj-section>
  </mj-body>
</mjml>`;
}

function textSource(copy: KindCopy, locale: EmailLocale, stream: EmailStream): string {
  const shared = SHARED[locale];
  const lines = [copy.heading, '', shared.greeting, '', ...copy.paragraphs.flatMap((p) => [p, ''])];
  if (copy.etaImage) lines.push(`${shared.windowLabel}: {{window}}`, '');
  for (const a of copy.actions) lines.push(`${a.label}: {{${a.url}}}`);
  lines.push('', `${shared.trackingLabel}: {{tracking_number}}`, '');
  if (stream === 'promotional') lines.push(`${shared.offerHeading}: ${shared.offerLine}`, '', shared.footerPromotional, `${shared.unsubscribe}: {{unsubscribe_url}}`);
  else lines.push(shared.footerTransactional);
  return `${lines.join('\n')}\n`;
}

/** Renders emails from templates compiled once per (kind, locale, stream, delay action) and cached. */
export interface TemplateRenderer {
  /** `action` (default `none`) adds a next-best action's copy to the delay email; other kinds ignore it. */
  render(kind: EmailKind, locale: EmailLocale, stream: EmailStream, vars: TemplateVars, action?: NbaAction): RenderedEmail;
}

/**
 * MJML compilation costs tens of milliseconds, so each template is compiled on first use and kept;
 * rendering is then a pass of string joins with HTML escaping of the variables.
 */
export function createTemplateRenderer(): TemplateRenderer {
  const cache = new Map<string, Compiled>();
  const compiled = (kind: EmailKind, locale: EmailLocale, stream: EmailStream, action: NbaAction): Compiled => {
    const variant = kind === 'delay' && action !== 'none' ? action : undefined;
    const key = `${kind}/${locale}/${stream}${variant ? `/${variant}` : ''}`;
    let c = cache.get(key);
    if (!c) {
      const copy = variant ? delayCopyWith(COPY.delay[locale], DELAY_ACTION_COPY[variant][locale]) : COPY[kind][locale];
      // mjml 4.x compiles synchronously; @types/mjml describes the async 5.x API.
      const out = mjml2html(mjmlSource(copy, locale, stream), { validationLevel: 'strict', keepComments: false }) as unknown as { html: string; errors: Array<{ formattedMessage: string }> };
      if (out.errors.length > 0) throw new ShipcastError('INTERNAL', `template ${key} does not compile: ${out.errors[0].formattedMessage}`);
      // Line indentation is collapsible whitespace in HTML; dropping it shrinks every message by a third.
      c = { subject: split(copy.subject), html: split(out.html.replace(/^[ \t]+/gm, '')), text: split(textSource(copy, locale, stream)) };
      cache.set(key, c);
    }
    return c;
  };
  return {
    render(kind, locale, stream, vars, action = 'none') {
      const c = compiled(kind, locale, stream, action);
      return { subject: fill(c.subject, vars, false), html: fill(c.html, vars, true), text: fill(c.text, vars, false) };
    },
  };
}
