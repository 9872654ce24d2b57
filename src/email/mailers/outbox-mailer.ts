import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Mailer, OutgoingEmail } from './mailer.js';

/** RFC 2047 encoded-word for header values that are not plain ASCII. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function base64Lines(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

/** Builds an RFC 5322 multipart/alternative message (text, then HTML). */
export function toEml(email: OutgoingEmail, date: Date = new Date()): string {
  const boundary = `=_shipcast_${crypto.randomBytes(12).toString('hex')}`;
  const headers: Array<[string, string]> = [
    ['From', email.from],
    ['To', email.to],
    ['Subject', encodeHeader(email.subject)],
    ['Date', date.toUTCString().replace('GMT', '+0000')],
    ['MIME-Version', '1.0'],
    ...Object.entries(email.headers),
    ['X-Shipcast-Tags', email.tags.join(', ')],
    ...Object.entries(email.variables).map(([k, v]): [string, string] => [`X-Shipcast-Var-${k}`, v]),
    ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
  ];
  const part = (type: string, body: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(body)}`;
  return `${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${part('text/plain', email.text)}${part('text/html', email.html)}--${boundary}--\r\n`;
}

/**
 * The default provider: no credentials needed. The worker records the message in DuckDB; this
 * writes it as `<dir>/<messageId>.eml` (atomically, so a crash leaves no half file) for inspection.
 */
export function createOutboxMailer(dir: string): Mailer {
  fs.mkdirSync(dir, { recursive: true });
  return {
    name: 'outbox',
    async send(email) {
      const file = path.join(dir, `${email.messageId}.eml`);
      const tmp = `${file}.tmp`;
      await fs.promises.writeFile(tmp, toEml(email));
      await fs.promises.rename(tmp, file);
      return { provider: 'outbox', providerMessageId: email.headers['Message-Id'] ?? email.messageId };
    },
    async close() {},
  };
}
