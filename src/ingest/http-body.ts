/** Reading webhook bodies safely: content type first, then at most `limit` bytes, as text. */
import { ShipcastError } from '../errors.js';

/** Accepts `application/json` (with parameters such as charset) and `+json` media types. */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const type = header.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Reads the raw body (signatures are computed over the exact bytes) and stops as soon as it
 * exceeds `limit`, whether or not the client sent a Content-Length.
 */
export async function readBodyLimited(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new ShipcastError('PAYLOAD_TOO_LARGE', `body: larger than ${limit} bytes`, { field: 'body' });
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ShipcastError('PAYLOAD_TOO_LARGE', `body: larger than ${limit} bytes`, { field: 'body' });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
