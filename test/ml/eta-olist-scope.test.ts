/**
 * `--olist DIR` scopes the ETA commands to that extract: a warehouse holding a synthetic sample and
 * an earlier extract, scored with `predict eta --olist`, writes only the given extract's orders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { runCli } from '../../src/cli/program.js';

const FIXTURES = path.resolve('test/fixtures/olist-mini');

function csvOrderIds(file: string): string[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort();
}

describe('shipcast predict eta --olist', () => {
  let dir: string;
  let db: string;
  let env: Record<string, string>;
  const cli = async (args: string[]) => {
    const rt = captureRuntime(env);
    expect(await runCli(args, rt), rt.stderr.join('\n')).toBe(0);
    return rt;
  };
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-olist-'));
    db = path.join(dir, 'w.duckdb');
    const wh = await openWarehouse(db);
    try {
      await generateSample(wh, { seed: 5, shipments: 400, asOf: new Date('2026-06-01T00:00:00Z') });
    } finally {
      await wh.close();
    }
    env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_TF_BACKEND: 'wasm', SHIPCAST_LOG_LEVEL: 'silent' };
    await cli(['train', 'eta', '--db', db, '--epochs', '1']);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes only the orders of the given extract, not the synthetic ones nor an earlier extract’s', async () => {
    const full = path.join(dir, 'full.csv');
    const rt = await cli(['predict', 'eta', '--db', db, '--olist', path.join(FIXTURES, 'full'), '--from', '2018-02-01', '--out', full]);
    expect(rt.stderr.join('\n')).toMatch(/using only this extract's 6 orders/);
    // Orders 2, 3, 5 and 6 are purchased from 2018-02-01 on and delivered or open; 4 is canceled
    // and 1 is older than --from.
    expect(csvOrderIds(full)).toEqual(['2', '3', '5', '6'].map((n) => `o${n.padStart(31, '0')}`));

    const partial = path.join(dir, 'partial.csv');
    await cli(['predict', 'eta', '--db', db, '--olist', path.join(FIXTURES, 'partial'), '--out', partial]);
    expect(csvOrderIds(partial)).toEqual(['7', '8'].map((n) => `o${n.padStart(31, '0')}`));

    // Without --olist, everything the warehouse holds is scored: synthetic orders and both extracts.
    const all = path.join(dir, 'all.csv');
    await cli(['predict', 'eta', '--db', db, '--out', all]);
    const ids = csvOrderIds(all);
    expect(ids).toEqual(expect.arrayContaining([...csvOrderIds(full), ...csvOrderIds(partial)]));
    expect(ids.length).toBeGreaterThan(300);
  });
});
