import { ShipcastError } from '../errors.js';

/**
 * Reads a request body, refusing it as soon as it exceeds `limit` bytes — whether the client
 * declared a Content-Length or streams it chunked — so an oversized body is never buffered whole.
 */
export async function readBodyBytes(req: Request, limit: number): Promise<Buffer<ArrayBuffer>> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new ShipcastError('PAYLOAD_TOO_LARGE', `body: larger than ${limit} bytes`, { field: 'body' });
  if (!req.body) return Buffer.alloc(0);
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
  return Buffer.concat(chunks);
}
