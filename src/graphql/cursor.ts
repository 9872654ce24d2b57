/** Opaque Relay cursors: base64url of a typed prefix and a value, so a cursor from one list is refused by another. */
import { ValidationError } from '../errors.js';

export function encodeCursor(kind: string, value: string | number): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

/** Decodes a cursor of `kind`; a malformed or foreign cursor is a BAD_INPUT naming `field`. */
export function decodeCursor(kind: string, cursor: string, field: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!raw.startsWith(`${kind}:`) || raw.length === kind.length + 1) throw new ValidationError(field, 'is not a cursor from this list');
  return raw.slice(kind.length + 1);
}
