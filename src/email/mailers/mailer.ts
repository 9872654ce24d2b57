import type { EmailKind, EmailStream } from '../kinds.js';

/** One fully rendered message, ready for a provider. */
export interface OutgoingEmail {
  messageId: string;
  kind: EmailKind;
  stream: EmailStream;
  /** The sending domain of the stream (transactional and promotional never share one). */
  domain: string;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Extra MIME headers (`Message-Id`, `List-Unsubscribe`, `List-Unsubscribe-Post`). */
  headers: Record<string, string>;
  /** Provider tags: the kind in lower_snake, then the stream. */
  tags: string[];
  /** Custom variables echoed back in provider events (`message_id` joins Mailgun events to the message). */
  variables: Record<string, string>;
}

export interface SendResult {
  provider: string;
  providerMessageId: string;
}

/** Sends one message. Throws `SendFailure` to tell the worker whether to retry. */
export interface Mailer {
  readonly name: string;
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): Promise<void>;
}

/** A failed send. `retryable` for 429, 5xx and network errors; `retryAfterMs` when the provider said when. */
export class SendFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendFailure';
  }
}

/** Parses an HTTP `Retry-After` value (delta-seconds or an HTTP-date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** 429, 408 and 5xx are worth retrying; other 4xx mean the request itself is wrong. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}
