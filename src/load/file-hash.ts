import crypto from 'node:crypto';
import fs from 'node:fs';

/** A file's identity and its number of physical lines, from one streamed read. */
export interface FileDigest {
  /** Hex SHA-256 of the bytes. */
  sha256: string;
  /** Physical lines: line feeds, plus one when the last line has none (0 for an empty file). */
  lines: number;
}

/**
 * Hashes a file and counts its lines in one streamed read (files may be larger than memory);
 * `onBytes` is told the bytes read so far after each chunk.
 */
export async function digestFile(file: string, onBytes?: (bytesRead: number) => void): Promise<FileDigest> {
  const hash = crypto.createHash('sha256');
  let feeds = 0;
  let last = -1;
  let read = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    read += buf.length;
    onBytes?.(read);
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) feeds += 1;
    if (buf.length > 0) last = buf[buf.length - 1];
  }
  return { sha256: hash.digest('hex'), lines: feeds + (last !== -1 && last !== 10 ? 1 : 0) };
}
