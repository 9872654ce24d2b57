import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import Mailgun from 'mailgun.js';
import { ShipcastError } from '../../errors.js';
import { SendFailure, isRetryableStatus, parseRetryAfter, type Mailer } from './mailer.js';

export interface MailgunMailerOptions {
  apiKey: string;
  /** API base, e.g. https://api.eu.mailgun.net or a local test server. Default: Mailgun's US endpoint. */
  url?: string;
  /** Sets `o:testmode=yes`: Mailgun accepts but does not deliver. */
  testMode?: boolean;
  timeoutMs?: number;
}

const RESPONSE_CHANNEL = 'http.client.response.finish';

/**
 * Sends through mailgun.js. mailgun.js turns HTTP errors into an `APIError` that keeps the status
 * but drops the response headers, so the `Retry-After` of a 429/5xx is read from Node's
 * `http.client.response.finish` diagnostics channel for responses from this API host.
 */
export function createMailgunMailer(opts: MailgunMailerOptions): Mailer {
  const url = opts.url ?? 'https://api.mailgun.net';
  const client = new Mailgun(FormData).client({ username: 'api', key: opts.apiKey, url, timeout: opts.timeoutMs ?? 30_000 });
  const apiHost = new URL(url).host;
  let retryHint: { status: number; untilMs: number } | undefined;

  const onResponse = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    const status = response.statusCode ?? 0;
    if (!isRetryableStatus(status) || request.getHeader('host') !== apiHost) return;
    const ms = parseRetryAfter(response.headers['retry-after'] as string | undefined);
    retryHint = ms === undefined ? undefined : { status, untilMs: Date.now() + ms };
  };
  diagnostics.subscribe(RESPONSE_CHANNEL, onResponse);

  return {
    name: 'mailgun',
    async send(email) {
      const data: Record<string, string | string[]> = {
        from: email.from,
        to: email.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
        'o:tag': email.tags,
      };
      if (opts.testMode) data['o:testmode'] = 'yes';
      for (const [k, v] of Object.entries(email.headers)) data[`h:${k}`] = v;
      for (const [k, v] of Object.entries(email.variables)) data[`v:${k}`] = v;
      try {
        const res = await client.messages.create(email.domain, data as unknown as Parameters<typeof client.messages.create>[1]);
        return { provider: 'mailgun', providerMessageId: res.id ?? email.headers['Message-Id'] ?? email.messageId };
      } catch (e) {
        const err = e as { status?: number; message?: string; details?: string };
        const status = typeof err.status === 'number' ? err.status : undefined;
        const reason = `mailgun ${status ?? 'network error'}: ${err.details || err.message || String(e)}`;
        // mailgun.js reports a network failure as status 400 with the socket error code (ECONNREFUSED…)
        // as message; an HTTP 400 carries ERR_BAD_REQUEST or the status text instead.
        if (status === undefined || (status === 400 && /^(E[A-Z]+|ERR_NETWORK)$/.test(err.message ?? ''))) {
          throw new SendFailure(`mailgun network error: ${err.details || err.message || String(e)}`, true);
        }
        const hint = retryHint && retryHint.status === status ? Math.max(0, retryHint.untilMs - Date.now()) : undefined;
        throw new SendFailure(reason, isRetryableStatus(status), status, hint);
      }
    },
    async close() {
      diagnostics.unsubscribe(RESPONSE_CHANNEL, onResponse);
    },
  };
}

/** Checks the Mailgun settings a `mailgun` mailer needs, naming the missing variable. */
export function requireMailgunKey(apiKey: string | undefined): string {
  if (!apiKey) throw new ShipcastError('BAD_CONFIG', 'MAILGUN_API_KEY: required when SHIPCAST_MAILER=mailgun', { field: 'MAILGUN_API_KEY' });
  return apiKey;
}
