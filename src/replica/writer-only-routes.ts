/**
 * What an API replica answers on the writer's HTTP surface: webhooks and signed email links write
 * (events, clicks, unsubscribes, reschedules), so a replica takes none of them. It answers 503 with
 * Retry-After, which every webhook sender treats as "deliver again later", and names the writer;
 * nothing is read, stored or acknowledged. A load balancer should send these paths to the writer
 * (docs/SCALE.md, section 4); this is the safety net when it does not.
 */
import type { Route } from '../http/router.js';
import type { Mailer } from '../email/mailers/mailer.js';
import { ShipcastError } from '../errors.js';

/** Paths only the writer serves. */
export const WRITER_ONLY_PATHS = /^\/(webhooks|email)(\/|$)/;

/** Seconds a refused sender is asked to wait before retrying. */
export const REPLICA_RETRY_AFTER_SECONDS = 30;

export function writerOnlyRoutes(opts: { writerUrl?: string }): Route[] {
  return [
    {
      method: '*',
      path: WRITER_ONLY_PATHS,
      handler: (req) => {
        const { pathname } = new URL(req.url);
        const where = opts.writerUrl ? `the writer at ${opts.writerUrl}` : 'the writer';
        return Response.json(
          {
            error: {
              code: 'READ_ONLY_REPLICA',
              message: `${pathname}: this server is a read-only API replica and stores nothing; send it to ${where}`,
              ...(opts.writerUrl ? { writer: opts.writerUrl } : {}),
            },
          },
          { status: 503, headers: { 'retry-after': String(REPLICA_RETRY_AFTER_SECONDS), 'cache-control': 'no-store' } },
        );
      },
    },
  ];
}

/** A replica's mailer: its outbox worker never starts, and this makes sure nothing is ever sent from it. */
export function refusingMailer(): Mailer {
  return {
    name: 'replica',
    send: async () => {
      throw new ShipcastError('READ_ONLY_REPLICA', 'email is sent by the writer; this server is a read-only API replica');
    },
    close: async () => undefined,
  };
}
