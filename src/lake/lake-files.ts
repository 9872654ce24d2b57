/**
 * The lake's files: a staging area inside the lake directory, keeping untouched partitions of an
 * incremental export (hard links, so nothing is copied), the per-table `_SUCCESS` marker and the
 * swap of a finished table into place. Staging lives inside DIR so every rename stays on one file
 * system, and its name starts with a dot, which Spark, Trino and a `DIR/<table>/**` glob all skip.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PARTITION_COLUMN } from './lake-tables.js';

/** The marker Spark writes next to a finished output; readers ignore files starting with `_`. */
export const SUCCESS_FILE = '_SUCCESS';

const DATED_PARTITION = new RegExp(`^${PARTITION_COLUMN}=(\\d{4}-\\d{2}-\\d{2})$`);

/** Creates `DIR/.staging-<id>` (and DIR) for one export run. */
export function createStaging(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const staging = path.join(dir, `.staging-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(staging);
  return staging;
}

/** The dated partitions (`event_date=YYYY-MM-DD` directories) of a table directory, by date. */
export function datedPartitions(tableDir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(tableDir)) return out;
  for (const e of fs.readdirSync(tableDir, { withFileTypes: true })) {
    const m = e.isDirectory() ? DATED_PARTITION.exec(e.name) : null;
    if (m) out.set(m[1], e.name);
  }
  return out;
}

/** Hard-links (or, across devices, copies) the files of one partition directory into `to`. */
export function linkPartition(from: string, to: string): number {
  fs.mkdirSync(to, { recursive: true });
  let files = 0;
  for (const f of fs.readdirSync(from, { withFileTypes: true })) {
    if (!f.isFile()) continue;
    const src = path.join(from, f.name);
    const dst = path.join(to, f.name);
    try {
      fs.linkSync(src, dst);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
      fs.copyFileSync(src, dst);
    }
    files += 1;
  }
  return files;
}

/** Parquet files under a directory, recursively (partition directories included). */
export function parquetFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => path.join(dir, f));
}

/** Writes the table's `_SUCCESS` marker, holding what was exported (JSON). */
export function writeSuccess(tableDir: string, manifest: Record<string, unknown>): void {
  fs.writeFileSync(path.join(tableDir, SUCCESS_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Moves a finished table directory over the published one: the old one is renamed aside, the new
 * one renamed in, and the old one deleted. Readers see the old table or the new one, never a mix;
 * for the instant between the two renames the table is absent. If the second rename fails the old
 * table is put back.
 */
export function swapIntoPlace(staged: string, target: string, aside: string): void {
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, aside);
  try {
    fs.renameSync(staged, target);
  } catch (e) {
    if (hadOld) fs.renameSync(aside, target);
    throw e;
  }
  if (hadOld) fs.rmSync(aside, { recursive: true, force: true });
}

/** Removes a staging area, whatever it holds. */
export function removeStaging(staging: string): void {
  fs.rmSync(staging, { recursive: true, force: true });
}
