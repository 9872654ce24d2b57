/**
 * GraphQL resolvers of the email capability: `sendTransactionalEmail`, `previewEmail`,
 * `emailMessages` and `emailMessage`. Built over the capability's service (passed in), merged
 * into the API by `createGraphQLApi({ resolvers })`; permissions come from `@requires(EMAIL_SEND)`.
 */
import type { SqlRunner } from '../../warehouse/warehouse.js';
import { ShipcastError } from '../../errors.js';
import type { EmailService } from '../../email/email-service.js';
import { parseEmailKind, type EmailLocale } from '../../email/kinds.js';
import { eventsForMessages, getEmailMessage, listEmailMessages, type EmailEventRecord, type EmailMessageRecord } from '../../email/message-queries.js';
import type { EmailKind, EmailMessage, EmailStatus, EmailStream, Resolvers } from '../generated/resolvers-types.js';

const upper = <T extends string>(s: string) => s.toUpperCase() as T;

function toGraphQL(m: EmailMessageRecord, events: EmailEventRecord[]): EmailMessage {
  return {
    id: m.id,
    kind: upper<EmailKind>(m.kind),
    stream: upper<EmailStream>(m.stream),
    status: upper<EmailStatus>(m.status),
    reason: m.reason,
    locale: m.locale,
    subject: m.subject,
    trackingNumber: m.trackingNumber,
    provider: m.provider,
    providerMessageId: m.providerMessageId,
    modelVersion: m.modelVersion,
    trigger: m.trigger,
    attempts: m.attempts,
    createdAt: m.createdAt,
    sentAt: m.sentAt,
    events: events.map((e) => ({ id: `${e.source}:${e.eventId}`, source: e.source, event: e.event, severity: e.severity, reason: e.reason, url: e.url, occurredAt: e.occurredAt })),
  };
}

async function loadMessage(db: SqlRunner, id: string): Promise<EmailMessage | null> {
  const m = await getEmailMessage(db, id);
  if (!m) return null;
  return toGraphQL(m, (await eventsForMessages(db, [id])).get(id) ?? []);
}

const LOCALES: Record<string, EmailLocale> = { EN: 'en', PT_BR: 'pt-BR' };

/** The email resolver map, bound to the capability's service and the warehouse it reads. */
export function emailResolvers(deps: { service: EmailService; warehouse: SqlRunner }): Resolvers {
  const { service, warehouse } = deps;
  return {
    Query: {
      previewEmail: async (_root, args) => {
        const p = await service.preview({ trackingNumber: args.trackingNumber, kind: parseEmailKind(args.kind), locale: args.locale ? LOCALES[args.locale] : undefined });
        return {
          kind: args.kind,
          stream: upper<EmailStream>(p.stream),
          locale: p.locale,
          from: p.from,
          to: p.to,
          subject: p.subject,
          html: p.html,
          text: p.text,
          tags: p.tags,
          headers: p.headers,
          modelVersion: p.modelVersion ?? null,
          windowStart: p.window?.p10 ?? null,
          windowEnd: p.window?.p90 ?? null,
        };
      },
      emailMessages: async (_root, args, ctx) => {
        const first = args.first ?? 20;
        if (first > ctx.limits.maxPageSize) throw new ShipcastError('BAD_INPUT', `first: must be at most ${ctx.limits.maxPageSize}`, { field: 'first' });
        const page = await listEmailMessages(warehouse, {
          first,
          after: args.after,
          trackingNumber: args.filter?.trackingNumber,
          kind: args.filter?.kind,
          status: args.filter?.status,
        });
        const events = await eventsForMessages(warehouse, page.nodes.map((n) => n.id));
        const edges = page.nodes.map((n, i) => ({ cursor: page.cursors[i], node: toGraphQL(n, events.get(n.id) ?? []) }));
        return {
          edges,
          totalCount: page.totalCount,
          pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: Boolean(args.after), startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
      emailMessage: (_root, args) => loadMessage(warehouse, args.id),
    },
    Mutation: {
      sendTransactionalEmail: async (_root, args) => {
        const q = await service.sendTransactional(args.trackingNumber, parseEmailKind(args.kind), { resend: args.resend ?? false });
        const m = await loadMessage(warehouse, q.id);
        if (!m) throw new ShipcastError('INTERNAL', `email message ${q.id} vanished after enqueue`);
        return m;
      },
    },
  };
}
