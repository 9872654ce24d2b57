import crypto from 'node:crypto';
import type { Logger } from '../log.js';
import type { EtaPredictor } from '../domain/eta.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { Route } from '../http/router.js';
import { isShipcastError } from '../errors.js';
import { resolveLocale, type EmailLocale } from './kinds.js';
import { escapeHtml, formatDay, formatWindow, localDate } from './format.js';
import type { LinkScope, LinkSigner } from './link-tokens.js';
import { renderEtaSvg, type LiveEtaState } from './live-eta.js';

export interface EmailRouteDeps {
  warehouse: Warehouse;
  signer: LinkSigner;
  predictor?: EtaPredictor;
  log: Logger;
}

interface LinkedMessage {
  message_id: string; shipment_id: string; locale: string; to_address: string | null; customer_id: string | null;
  eta_p10: Date | null; eta_p90: Date | null; sent_at: Date | null; created_at: Date;
  time_zone: string | null; tracking_number: string; carrier: string; status: string; delivered_at: Date | null; promised_at: Date | null;
}

const PAGE_TEXT: Record<EmailLocale, Record<string, string>> = {
  en: {
    invalid: 'This link is invalid or has expired.', status: 'Status', expected: 'Expected delivery', unsubTitle: 'Unsubscribe from offers',
    unsubButton: 'Unsubscribe', unsubDone: 'You will no longer receive offers from us. Delivery updates for your orders will still arrive.',
    rescheduleTitle: 'Choose a delivery day', rescheduleDone: 'Thanks, we asked the carrier to deliver on {{day}}.', returnTitle: 'Your return',
    surveyTitle: 'How was your delivery?', surveyDone: 'Thank you for your feedback!', unknown: 'not yet available',
  },
  'pt-BR': {
    invalid: 'Este link é inválido ou expirou.', status: 'Situação', expected: 'Previsão de entrega', unsubTitle: 'Cancelar ofertas',
    unsubButton: 'Cancelar inscrição', unsubDone: 'Você não receberá mais ofertas. As atualizações de entrega dos seus pedidos continuam chegando.',
    rescheduleTitle: 'Escolha o dia da entrega', rescheduleDone: 'Obrigado, pedimos à transportadora para entregar em {{day}}.', returnTitle: 'Sua devolução',
    surveyTitle: 'Como foi a sua entrega?', surveyDone: 'Obrigado pela sua avaliação!', unknown: 'ainda não disponível',
  },
};

function page(locale: EmailLocale, title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>` +
      `<body style="font-family:Helvetica,Arial,sans-serif;max-width:560px;margin:2em auto;padding:0 1em"><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } },
  );
}

/** The signed-link surface: live-ETA image, one-click unsubscribe, and the tracking/reschedule/return/survey landings. */
export function emailRoutes(deps: EmailRouteDeps): Route[] {
  const { warehouse: wh, signer, log } = deps;

  const load = async (req: Request, scope: LinkScope): Promise<LinkedMessage | Response> => {
    const token = new URL(req.url).searchParams.get('t') ?? '';
    try {
      const { messageId } = signer.verify(token, scope);
      const m = await wh.one<LinkedMessage>(
        `SELECT o.message_id, o.shipment_id, o.locale, o.to_address, m.customer_id, o.eta_p10, o.eta_p90, m.sent_at, o.created_at,
                c.time_zone, s.tracking_number, s.carrier, s.status, s.delivered_at, s.promised_at
         FROM email_outbox o JOIN email_messages m USING (message_id) JOIN shipments s ON s.shipment_id = o.shipment_id
         LEFT JOIN customers c ON c.customer_id = m.customer_id WHERE o.message_id = $1`,
        [messageId],
      );
      if (m) return m;
    } catch (e) {
      if (!isShipcastError(e) || e.code !== 'UNAUTHENTICATED') throw e;
      log.info({ scope, why: e.message }, 'refused email link');
    }
    return scope === 'eta'
      ? new Response('invalid link', { status: 401, headers: { 'content-type': 'text/plain' } })
      : page('en', PAGE_TEXT.en.invalid, '', 401);
  };

  const recordEvent = (m: LinkedMessage, event: 'clicked' | 'unsubscribed', url: string | null) =>
    wh.run(
      `INSERT INTO email_events (source, event_id, message_id, event, url, occurred_at, received_at) VALUES ('shipcast', $1, $2, $3, $4, now(), now())`,
      [crypto.randomUUID(), m.message_id, event, url],
    );

  const liveState = async (m: LinkedMessage): Promise<LiveEtaState> => {
    if (m.status === 'delivered' && m.delivered_at) return { kind: 'delivered', at: new Date(m.delivered_at) };
    if (deps.predictor && deps.predictor.activeVersion() !== undefined) {
      try {
        const now = new Date();
        const p = (await deps.predictor.predict([m.shipment_id], now)).get(m.shipment_id);
        if (p) return { kind: 'live', p10: p.p10, p90: p.p90, at: now };
      } catch (err) {
        log.warn({ err }, 'live ETA prediction failed; showing the window at send time');
      }
    }
    if (m.eta_p10 && m.eta_p90) return { kind: 'fallback', p10: new Date(m.eta_p10), p90: new Date(m.eta_p90), sentAt: new Date(m.sent_at ?? m.created_at) };
    if (m.promised_at) return { kind: 'promised', by: new Date(m.promised_at) };
    return { kind: 'unknown' };
  };

  /** A GET landing that records the click and renders `body` in the message's locale. */
  const landing = (scope: 'track' | 'return', title: (t: Record<string, string>) => string, body: (m: LinkedMessage, locale: EmailLocale) => Promise<string>): Route => ({
    method: 'GET',
    path: `/email/l/${scope}`,
    handler: async (req) => {
      const m = await load(req, scope);
      if (m instanceof Response) return m;
      await recordEvent(m, 'clicked', `/email/l/${scope}`);
      const locale = resolveLocale(m.locale);
      return page(locale, title(PAGE_TEXT[locale]), await body(m, locale));
    },
  });

  const trackingBody = async (m: LinkedMessage, locale: EmailLocale) => {
    const t = PAGE_TEXT[locale];
    const tz = m.time_zone ?? 'UTC';
    const s = await liveState(m);
    const window = s.kind === 'live' || s.kind === 'fallback'
      ? formatWindow(s.p10, s.p90, locale, tz)
      : s.kind === 'delivered' ? formatDay(s.at, locale, tz) : s.kind === 'promised' ? formatDay(s.by, locale, tz) : t.unknown;
    return `<p>${escapeHtml(m.carrier)} · ${escapeHtml(m.tracking_number)}</p><p>${t.status}: <b>${escapeHtml(m.status.replace(/_/g, ' '))}</b></p><p>${t.expected}: <b>${escapeHtml(window)}</b></p>`;
  };

  const returnBody = async (m: LinkedMessage, locale: EmailLocale) => {
    const t = PAGE_TEXT[locale];
    const r = await wh.one<{ status: string; return_tracking_number: string | null }>(
      `SELECT r.status, r.return_tracking_number FROM returns r JOIN shipments s ON s.order_id = r.order_id
       WHERE s.shipment_id = $1 ORDER BY r.requested_at DESC LIMIT 1`,
      [m.shipment_id],
    );
    if (!r) return `<p>${t.status}: <b>${t.unknown}</b></p>`;
    const tracking = r.return_tracking_number ? `<p>${escapeHtml(r.return_tracking_number)}</p>` : '';
    return `<p>${t.status}: <b>${escapeHtml(r.status.replace(/_/g, ' '))}</b></p>${tracking}`;
  };

  return [
    {
      method: 'GET',
      path: '/email/eta.svg',
      handler: async (req) => {
        const m = await load(req, 'eta');
        if (m instanceof Response) return m;
        const svg = renderEtaSvg(await liveState(m), resolveLocale(m.locale), m.time_zone ?? 'UTC');
        // Rendered at open time: never let a cache serve yesterday's window.
        return new Response(svg, { headers: { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store, max-age=0' } });
      },
    },
    {
      method: 'GET',
      path: '/email/unsubscribe',
      handler: async (req) => {
        // GET only shows a button: link scanners prefetch URLs, and must not unsubscribe anyone.
        const m = await load(req, 'unsubscribe');
        if (m instanceof Response) return m;
        const t = PAGE_TEXT[resolveLocale(m.locale)];
        const action = escapeHtml(new URL(req.url).search);
        return page(resolveLocale(m.locale), t.unsubTitle, `<form method="post" action="/email/unsubscribe${action}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${t.unsubButton}</button></form>`);
      },
    },
    {
      method: 'POST',
      path: '/email/unsubscribe',
      handler: async (req) => {
        // RFC 8058 one-click: the mailbox provider POSTs "List-Unsubscribe=One-Click" to the URL.
        const m = await load(req, 'unsubscribe');
        if (m instanceof Response) return m;
        if (m.to_address) {
          await wh.transaction(async (tx) => {
            await tx.run(
              `INSERT INTO email_suppressions (address, stream, reason, source_event_id, created_at) VALUES ($1, 'promotional', 'unsubscribe', $2, now())
               ON CONFLICT DO NOTHING`,
              [m.to_address, m.message_id],
            );
            if (m.customer_id) {
              await tx.run(
                "INSERT INTO consent_records (customer_id, channel, stream, granted, source, recorded_at) VALUES ($1, 'email', 'promotional', false, 'unsubscribe_link', now())",
                [m.customer_id],
              );
              await tx.run('UPDATE customers SET consent_email_promotional = false, consent_updated_at = now() WHERE customer_id = $1', [m.customer_id]);
            }
          });
        }
        await recordEvent(m, 'unsubscribed', null);
        log.info({ messageId: m.message_id }, 'unsubscribed from promotional email');
        const locale = resolveLocale(m.locale);
        return page(locale, PAGE_TEXT[locale].unsubTitle, `<p>${PAGE_TEXT[locale].unsubDone}</p>`);
      },
    },
    landing('track', (t) => t.expected, trackingBody),
    landing('return', (t) => t.returnTitle, returnBody),
    {
      method: 'GET',
      path: '/email/l/reschedule',
      handler: async (req) => {
        const m = await load(req, 'reschedule');
        if (m instanceof Response) return m;
        await recordEvent(m, 'clicked', '/email/l/reschedule');
        const locale = resolveLocale(m.locale);
        const tz = m.time_zone ?? 'UTC';
        const action = escapeHtml(new URL(req.url).search);
        const days = Array.from({ length: 5 }, (_, i) => new Date(Date.now() + (i + 1) * 86_400_000));
        const buttons = days
          .map((d) => `<button name="day" value="${localDate(d, tz)}" style="display:block;margin:.5em 0">${escapeHtml(formatDay(d, locale, tz))}</button>`)
          .join('');
        return page(locale, PAGE_TEXT[locale].rescheduleTitle, `<form method="post" action="/email/l/reschedule${action}">${buttons}</form>`);
      },
    },
    {
      method: 'POST',
      path: '/email/l/reschedule',
      handler: async (req) => {
        const m = await load(req, 'reschedule');
        if (m instanceof Response) return m;
        const locale = resolveLocale(m.locale);
        const day = String((await req.formData()).get('day') ?? '');
        if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day))) return page(locale, 'day: expected YYYY-MM-DD', '', 400);
        await wh.run('INSERT INTO email_reschedule_requests (message_id, shipment_id, requested_day, created_at) VALUES ($1, $2, $3::DATE, now())', [m.message_id, m.shipment_id, day]);
        return page(locale, PAGE_TEXT[locale].rescheduleTitle, `<p>${escapeHtml(PAGE_TEXT[locale].rescheduleDone.replace('{{day}}', day))}</p>`);
      },
    },
    {
      method: 'GET',
      path: '/email/l/survey',
      handler: async (req) => {
        const m = await load(req, 'survey');
        if (m instanceof Response) return m;
        await recordEvent(m, 'clicked', '/email/l/survey');
        const locale = resolveLocale(m.locale);
        const action = escapeHtml(new URL(req.url).search);
        const buttons = [1, 2, 3, 4, 5].map((n) => `<button name="score" value="${n}">${'★'.repeat(n)}</button> `).join('');
        return page(locale, PAGE_TEXT[locale].surveyTitle, `<form method="post" action="/email/l/survey${action}">${buttons}</form>`);
      },
    },
    {
      method: 'POST',
      path: '/email/l/survey',
      handler: async (req) => {
        const m = await load(req, 'survey');
        if (m instanceof Response) return m;
        const locale = resolveLocale(m.locale);
        const score = Number((await req.formData()).get('score'));
        if (!Number.isInteger(score) || score < 1 || score > 5) return page(locale, 'score: expected an integer from 1 to 5', '', 400);
        await wh.run(
          `INSERT INTO csat_responses (response_id, order_id, shipment_id, customer_id, score, survey_sent_at, responded_at, source)
           SELECT $1, s.order_id, s.shipment_id, $3, $4, $5::TIMESTAMPTZ, now(), 'survey' FROM shipments s WHERE s.shipment_id = $2`,
          [`survey:${m.message_id}`, m.shipment_id, m.customer_id, score, m.sent_at ?? m.created_at],
        ).catch((e: unknown) => {
          // One answer per survey email: a second submission keeps the first.
          if (!/Duplicate key|constraint/i.test((e as Error).message)) throw e;
        });
        return page(locale, PAGE_TEXT[locale].surveyTitle, `<p>${PAGE_TEXT[locale].surveyDone}</p>`);
      },
    },
  ];
}
