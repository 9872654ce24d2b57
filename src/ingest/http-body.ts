/** Reading webhook bodies safely: content type first, then at most `limit` bytes, as text. */
import { readBodyBytes } from '../http/body.js';

/** Accepts `application/json` (with parameters such as charset) and `+json` media types. */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const type = header.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Reads the raw body as text (signatures are computed over the exact bytes), at most `limit` bytes. */
export async function readBodyLimited(req: Request, limit: number): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}
