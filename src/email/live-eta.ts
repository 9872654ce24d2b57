import type { EmailLocale } from './kinds.js';
import { escapeHtml, formatTime, formatWindow, formatDay } from './format.js';

const LABELS: Record<EmailLocale, { expected: string; delivered: string; updated: string; asOf: string; unknown: string; by: string }> = {
  en: { expected: 'Expected delivery', delivered: 'Delivered', updated: 'Live estimate, updated {{time}}', asOf: 'Estimate as of {{day}}', unknown: 'Track your parcel for the latest estimate', by: 'by {{day}}' },
  'pt-BR': { expected: 'Previsão de entrega', delivered: 'Entregue', updated: 'Estimativa ao vivo, atualizada às {{time}}', asOf: 'Estimativa de {{day}}', unknown: 'Acompanhe a entrega para ver a previsão', by: 'até {{day}}' },
};

/** What the live-ETA image shows: the current window, the window at send time, or the delivery. */
export type LiveEtaState =
  | { kind: 'live'; p10: Date; p90: Date; at: Date }
  | { kind: 'fallback'; p10: Date; p90: Date; sentAt: Date }
  | { kind: 'promised'; by: Date }
  | { kind: 'delivered'; at: Date }
  | { kind: 'unknown' };

/** Renders the live-ETA image as SVG, text in the customer's locale and zone. */
export function renderEtaSvg(state: LiveEtaState, locale: EmailLocale, timeZone: string): string {
  const l = LABELS[locale];
  let title: string;
  let big: string;
  let small: string;
  if (state.kind === 'live') {
    title = l.expected;
    big = formatWindow(state.p10, state.p90, locale, timeZone);
    small = l.updated.replace('{{time}}', formatTime(state.at, locale, timeZone));
  } else if (state.kind === 'fallback') {
    title = l.expected;
    big = formatWindow(state.p10, state.p90, locale, timeZone);
    small = l.asOf.replace('{{day}}', formatDay(state.sentAt, locale, timeZone));
  } else if (state.kind === 'promised') {
    title = l.expected;
    big = l.by.replace('{{day}}', formatDay(state.by, locale, timeZone));
    small = l.unknown;
  } else if (state.kind === 'delivered') {
    title = l.delivered;
    big = formatDay(state.at, locale, timeZone);
    small = '';
  } else {
    title = l.expected;
    big = '—';
    small = l.unknown;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="520" height="96" viewBox="0 0 520 96" role="img" aria-label="${escapeHtml(`${title}: ${big}`)}">
<rect width="520" height="96" rx="8" fill="#f6f8fa" stroke="#d0d7de"/>
<text x="20" y="28" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="#57606a">${escapeHtml(title)}</text>
<text x="20" y="58" font-family="Helvetica, Arial, sans-serif" font-size="22" font-weight="bold" fill="#1f2328">${escapeHtml(big)}</text>
<text x="20" y="82" font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#57606a">${escapeHtml(small)}</text>
</svg>`;
}
