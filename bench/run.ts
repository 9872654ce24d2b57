/**
 * `npm run bench [-- name ...]`: runs every `bench/*.bench.ts` (or the named ones) one after the
 * other and prints a single JSON document. Each bench module default-exports an async function
 * returning its figures; ratios against a baseline measured in the same run are preferred to
 * absolute times because this machine is noisy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));

const results: Record<string, unknown> = {};
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`bench ${name}…\n`);
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default: () => Promise<unknown> };
  const t0 = performance.now();
  try {
    results[name] = await mod.default();
  } catch (e) {
    results[name] = { error: (e as Error).message };
    process.exitCode = 1;
  }
  process.stderr.write(`bench ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
const doc = {
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  at: new Date().toISOString(),
  results,
};
fs.mkdirSync(path.join(dir, 'results'), { recursive: true });
fs.writeFileSync(path.join(dir, 'results', 'latest.json'), JSON.stringify(doc, null, 2));
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
