/**
 * Renders the reports as one self-contained HTML page: inline CSS and inline SVG charts, no scripts
 * and no external assets, so it opens offline from disk.
 */
import type { Reports } from './build-reports.js';
import type { DeliveryKpiRow } from './delivery-kpis.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const dash = '—';
/** 0.1234 → "12.3%". */
export function pct(v: number | null, digits = 1): string {
  return v === null ? dash : `${(v * 100).toFixed(digits)}%`;
}
/** 1234.5 → "$1,234.50". */
export function money(v: number | null): string {
  return v === null ? dash : v.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
}
/** Plain number with grouping; null as a dash. */
export function num(v: number | null, digits = 0): string {
  return v === null ? dash : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface Bar {
  label: string;
  value: number | null;
  text: string;
}

/** A horizontal bar chart as inline SVG; `max` fixes the scale (e.g. 1 for rates, 5 for CSAT). */
export function barChart(title: string, bars: readonly Bar[], opts: { max?: number; color?: string } = {}): string {
  // ~7 px per character of 12 px system-ui text; sized to the longest label and value so nothing is clipped.
  const labelW = 12 + 7 * Math.max(4, ...bars.map((b) => b.label.length));
  const textW = 16 + 7 * Math.max(4, ...bars.map((b) => b.text.length));
  const barW = 300;
  const rowH = 22;
  const h = bars.length * rowH + 8;
  const max = opts.max ?? Math.max(1e-9, ...bars.map((b) => b.value ?? 0));
  const rows = bars
    .map((b, i) => {
      const y = 4 + i * rowH;
      const w = b.value === null ? 0 : Math.max(0, Math.min(1, b.value / max)) * barW;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(b.label)}</text>`
        + `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" rx="2" fill="${opts.color ?? '#2f6fb0'}"/>`
        + `<text x="${labelW + w + 6}" y="${y + 15}">${escapeHtml(b.text)}</text>`;
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" width="${labelW + barW + textW}" height="${h}" viewBox="0 0 ${labelW + barW + textW} ${h}">${rows}</svg></figure>`;
}

/** A table; `foot` rows (totals) go in <tfoot> so that tbody holds exactly the data rows. */
function table(id: string, head: readonly string[], rows: readonly (readonly string[])[], opts: { numericFrom?: number; foot?: readonly (readonly string[])[] } = {}): string {
  const numericFrom = opts.numericFrom ?? 1;
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="n"' : ''}>${escapeHtml(h)}</th>`).join('');
  const tr = (r: readonly string[]) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`;
  const foot = opts.foot?.length ? `<tfoot>${opts.foot.map(tr).join('')}</tfoot>` : '';
  return `<table id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${rows.map(tr).join('\n')}\n</tbody>${foot}</table>`;
}

function tile(label: string, value: string, note = ''): string {
  return `<div class="tile"><div class="v">${escapeHtml(value)}</div><div class="l">${escapeHtml(label)}</div>${note ? `<div class="s">${escapeHtml(note)}</div>` : ''}</div>`;
}

const cs = (r: { carrier: string | null; serviceLevel: string | null }) => `${r.carrier ?? 'all'} · ${r.serviceLevel ?? 'all'}`;

function deliverySection(r: Reports): string {
  const d = r.deliveryKpis;
  const row = (k: DeliveryKpiRow) => [cs(k), num(k.shipments), num(k.delivered), pct(k.onTimeRate), num(k.medianTransitDays, 2), num(k.p90TransitDays, 2), pct(k.lateShare), pct(k.exceptionShare), num(k.inFlightLateRisk)];
  const weeks = d.weekly.filter((w) => w.carrier === null);
  return `<section id="delivery"><h2>Delivery KPIs</h2>
<p class="note">On-time = delivered by the promise shown to the customer. Transit = carrier hand-off → delivery, in days. Late share counts undelivered shipments whose promise has passed. Weeks start on Monday (UTC) of the hand-off.</p>
${table('delivery-table', ['Carrier · service', 'Shipments', 'Delivered', 'On time', 'Median transit (d)', 'P90 transit (d)', 'Late', 'Exceptions', 'In flight at risk'], d.byCarrierService.map(row), { foot: [row(d.overall)] })}
<div class="charts">${barChart('On-time rate by carrier · service', d.byCarrierService.map((k) => ({ label: cs(k), value: k.onTimeRate, text: pct(k.onTimeRate) })), { max: 1 })}
${barChart('On-time rate by week of hand-off (all carriers)', weeks.map((w) => ({ label: `${w.week} (${num(w.shipments)})`, value: w.onTimeRate, text: pct(w.onTimeRate) })), { max: 1, color: '#4a8f5c' })}</div>
</section>`;
}

function emailSection(r: Reports): string {
  const e = r.email;
  const row = (x: typeof e.overall) => [`${x.kind ?? 'all'} · ${x.stream ?? 'all'}`, num(x.sent), pct(x.deliveredRate), pct(x.permanentFailureRate, 2), pct(x.temporaryFailureRate, 2), pct(x.openRate), pct(x.clickRate), pct(x.unsubscribeRate, 2), pct(x.complaintRate, 3), num(x.suppressed)];
  return `<section id="email"><h2>Email deliverability &amp; engagement</h2>
<p class="note">Delivery and failure rates are over messages handed to the provider; open, click, unsubscribe and complaint rates over delivered messages (each message counted once).</p>
${table('email-table', ['Kind · stream', 'Sent', 'Delivered', 'Perm. fail', 'Temp. fail', 'Open', 'Click', 'Unsub', 'Complaint', 'Suppressed'], e.byKindStream.map(row), { foot: [row(e.overall)] })}
<h3>Suppression list: ${num(e.suppressions.total)} addresses</h3>
${e.suppressions.byReason.length ? table('suppression-table', ['Reason', 'Stream', 'Addresses'], e.suppressions.byReason.map((s) => [s.reason, s.stream, num(s.addresses)]), { numericFrom: 2 }) : '<p class="note">No suppressed addresses.</p>'}
</section>`;
}

function csatSection(r: Reports): string {
  const c = r.csat;
  const diff = c.lateWithNotice.meanScore !== null && c.lateWithoutNotice.meanScore !== null ? c.lateWithNotice.meanScore - c.lateWithoutNotice.meanScore : null;
  return `<section id="csat"><h2>CSAT and lateness</h2>
<p class="note">${num(c.responses)} responses on delivered shipments, mean ${num(c.meanScore, 2)} / 5. Days late vs score: Pearson r = ${num(c.daysLateVsScore.pearson, 3)}, Spearman ρ = ${num(c.daysLateVsScore.spearman, 3)} (n = ${num(c.daysLateVsScore.n)}). Correlation, not causation.</p>
<div class="charts">${barChart('Mean CSAT by lateness', c.byLateness.map((b) => ({ label: b.label, value: b.meanScore, text: `${num(b.meanScore, 2)} (n=${num(b.responses)})` })), { max: 5, color: '#b0602f' })}
${barChart('Support contacts per 100 shipments by lateness', c.byLateness.map((b) => ({ label: b.label, value: b.contactsPer100, text: num(b.contactsPer100, 1) })), { color: '#7a4fa0' })}</div>
${table('csat-table', ['Lateness', 'Responses', 'Mean CSAT', 'Delivered shipments', 'Contacts / 100', 'WISMO / 100'], c.byLateness.map((b) => [b.label, num(b.responses), num(b.meanScore, 2), num(b.shipments), num(b.contactsPer100, 1), num(b.wismoContactsPer100, 1)]))}
<h3>Proactive delay notice (late deliveries only)</h3>
${table('notice-table', ['Late deliveries', 'Responses', 'Mean CSAT'], [
    ['with a notice before delivery', num(c.lateWithNotice.responses), num(c.lateWithNotice.meanScore, 2)],
    ['without a notice', num(c.lateWithoutNotice.responses), num(c.lateWithoutNotice.meanScore, 2)],
  ])}
<p class="note">Difference: ${diff === null ? dash : `${diff >= 0 ? '+' : ''}${diff.toFixed(2)}`} points. Notices are not assigned at random, so this is an observed gap, not a measured effect.</p>
</section>`;
}

function costSection(r: Reports): string {
  const k = r.costToServe;
  const row = (x: typeof k.overall) => [
    x.carrier === null ? 'all cohorts' : `${x.carrier} · ${x.serviceLevel} · ${x.distanceBand}`,
    // The trade-off (cost per shipment next to CSAT and on-time) first, so it is visible without scrolling.
    num(x.shipments), money(x.costPerShipment), num(x.csatMean, 2), pct(x.onTimeRate), money(x.totalCost),
    money(x.freight.billed), money(x.freight.base), money(x.freight.fuel), money(x.freight.accessorials), money(x.freight.duties), money(x.freight.credits),
    money(x.freight.overbilled), money(x.returns.refunds + x.returns.returnShipping), money(x.support.cost),
  ];
  const costs = Object.entries(k.contactCosts).map(([ch, v]) => `${ch === '*' ? 'other' : ch} ${money(v)}`).join(', ');
  return `<section id="cost"><h2>Cost-to-serve per shipping cohort</h2>
<p class="note">Cohort = ${escapeHtml(k.cohortDefinition)}. Freight is the sum of invoice charge lines (duplicates included, as billed). Returns = refunds paid + return shipping invoiced. Support cost per contact: ${escapeHtml(costs)}.</p>
${table('cohort-table', ['Cohort', 'Shipments', 'Per shipment', 'CSAT', 'On time', 'Total cost', 'Freight billed', 'Base', 'Fuel', 'Accessorials', 'Duties', 'Credits', 'Over contract', 'Returns', 'Support'], k.cohorts.map(row), { foot: [row(k.overall)] })}
${barChart('Cost-to-serve per shipment by cohort', k.cohorts.map((x) => ({ label: `${x.carrier} · ${x.serviceLevel} · ${x.distanceBand}`, value: x.costPerShipment, text: `${money(x.costPerShipment)} · CSAT ${num(x.csatMean, 2)}` })), { color: '#8a6d1f' })}
<h3>Recoverable billing errors</h3>
${table('billing-summary', ['Error', 'Invoices', 'Amount'], k.billingErrors.summary.map((s) => [s.type.replaceAll('_', ' '), num(s.count), money(s.amount)]), { foot: [['total', num(k.billingErrors.flagsTotal), money(k.overall.recoverable.total)]] })}
<details><summary>Largest ${Math.min(25, k.billingErrors.flags.length)} of ${num(k.billingErrors.flagsTotal)} flagged invoices (all in cost-to-serve.json${k.billingErrors.flagsShown < k.billingErrors.flagsTotal ? `, first ${k.billingErrors.flagsShown}` : ''})</summary>
${table('billing-flags', ['Invoice', 'Number', 'Carrier', 'Shipment', 'Error', 'Detail', 'Amount'], k.billingErrors.flags.slice(0, 25).map((f) => [f.invoiceId, f.invoiceNumber, f.carrier, f.shipmentId ?? dash, f.type.replaceAll('_', ' '), f.detail, money(f.amount)]), { numericFrom: 6 })}
</details>
</section>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
header{background:#1d2b45;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1500px}section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:14px 18px;margin:16px 0}
h2{margin:0 0 6px;font-size:18px}h3{font-size:15px;margin:16px 0 6px}.note{color:#566076;margin:4px 0 10px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}.tile{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px;min-width:150px}
.tile .v{font-size:22px;font-weight:600}.tile .l{color:#566076}.tile .s{color:#8a93a6;font-size:12px}
table{border-collapse:collapse;margin:6px 0;font-size:12.5px}th,td{padding:3px 7px;border-bottom:1px solid #e8ebf0;text-align:left;white-space:nowrap}
th{background:#eef1f5;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tbody tr:last-child td{border-bottom:0}
tfoot td{font-weight:600;border-top:2px solid #c9ced8}
.charts{display:flex;flex-wrap:wrap;gap:24px}figure{margin:8px 0}figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:12px;fill:#1d2330}
section{overflow-x:auto}details{margin-top:8px}summary{cursor:pointer;color:#2f6fb0}`;

/** The whole page. */
export function renderReportsHtml(r: Reports): string {
  const period = `${r.meta.from ? r.meta.from.slice(0, 10) : 'first shipment'} → ${r.meta.until ? r.meta.until.slice(0, 10) : r.meta.asOf.slice(0, 10)}`;
  const d = r.deliveryKpis.overall;
  const k = r.costToServe.overall;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shipcast — leadership reports</title><style>${CSS}</style></head>
<body><header><h1>shipcast — leadership reports</h1><p>Shipments handed off ${escapeHtml(period)} · as of ${escapeHtml(r.meta.asOf)} · generated ${escapeHtml(r.meta.generatedAt)}</p></header>
<main><div class="tiles">
${tile('shipments', num(d.shipments), `${num(d.delivered)} delivered`)}
${tile('on time vs promise', pct(d.onTimeRate))}
${tile('median / P90 transit', `${num(d.medianTransitDays, 1)} / ${num(d.p90TransitDays, 1)} d`)}
${tile('late share', pct(d.lateShare))}
${tile('in flight at risk', num(d.inFlightLateRisk))}
${tile('mean CSAT', num(r.csat.meanScore, 2), `${num(r.csat.responses)} responses`)}
${tile('cost-to-serve / shipment', money(k.costPerShipment), `${money(k.totalCost)} total`)}
${tile('recoverable billing', money(k.recoverable.total), `${num(r.costToServe.billingErrors.flagsTotal)} invoices`)}
</div>
${deliverySection(r)}
${csatSection(r)}
${costSection(r)}
${emailSection(r)}
</main></body></html>
`;
}
