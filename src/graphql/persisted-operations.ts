/**
 * Persisted operations: a JSON manifest `{ "<sha256 hex of the document>": "<document>" }`, the
 * format graphql-codegen's client preset (`persistedDocuments`) writes. Clients send
 * `extensions.persistedQuery.sha256Hash` instead of the query text.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ShipcastError } from '../errors.js';

export function sha256Hex(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** Parses and verifies a manifest; an entry whose key is not its document's hash is refused. */
export function parsePersistedOperations(json: string, source: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new ShipcastError('BAD_CONFIG', `${source}: not valid JSON (${(e as Error).message})`, { field: source });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ShipcastError('BAD_CONFIG', `${source}: must be an object of sha256 → document`, { field: source });
  }
  const out = new Map<string, string>();
  for (const [hash, query] of Object.entries(doc)) {
    if (typeof query !== 'string' || sha256Hex(query) !== hash) {
      throw new ShipcastError('BAD_CONFIG', `${source}: entry ${hash} is not the sha256 of its document`, { field: source });
    }
    out.set(hash, query);
  }
  return out;
}

/** Reads the manifest at `file`; a missing file means no persisted operations. */
export function loadPersistedOperations(file: string): Map<string, string> {
  if (!fs.existsSync(file)) return new Map();
  return parsePersistedOperations(fs.readFileSync(file, 'utf8'), file);
}
