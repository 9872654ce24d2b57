import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { generateSample } from '../../src/synth/generate.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { runCli } from '../../src/cli/program.js';
import { createLogger } from '../../src/log.js';
import { NBA_AS_OF } from './nba-fixture.js';

describe('shipcast train/eval/activate nba', () => {
  let dir: string;
  let db: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-nba-cli-'));
    db = path.join(dir, 'w.duckdb');
    const wh = await openWarehouse(db);
    await generateSample(wh, { seed: 5, shipments: 20_000, asOf: NBA_AS_OF });
    await wh.close();
    env = { SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_TF_BACKEND: 'wasm' };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[]) => {
    const logs: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (d) => logs.push(String(d)));
    const rt = { ...captureRuntime(env), log: createLogger({ level: 'warn', destination: stream }) };
    const code = await runCli(args, rt);
    return { code, out: rt.stdout.join('\n'), err: rt.stderr.join('\n'), logs };
  };

  it('registers a refused policy without activating it, evaluates it, and activates it only by a logged override', async () => {
    // A policy that holds out 95% as do-nothing control cannot beat the logging policy.
    const t = await run(['train', 'nba', '--db', db, '--epochs', '8', '--control-share', '0.95', '--json']);
    expect(t.code, t.err).toBe(0);
    const r = JSON.parse(t.out);
    expect(r.activated).toBe(false);
    expect(r.gate.reason).toMatch(/^refused: DR lower bound/);
    expect(t.err).toMatch(/epoch 1\/8/);
    const vdir = path.join(dir, 'models', 'nba', r.version);
    for (const f of ['model.json', 'weights.bin', 'feature-spec.json', 'metrics.json', 'meta.json', 'evaluation.json']) expect(fs.existsSync(path.join(vdir, f)), f).toBe(true);
    expect(fs.existsSync(path.join(dir, 'models', 'nba', 'active'))).toBe(false);
    const ev = JSON.parse(fs.readFileSync(path.join(vdir, 'evaluation.json'), 'utf8'));
    expect(ev.report.dr.lower).toBeLessThanOrEqual(ev.report.logging.value);
    expect(ev.policy.controlShare).toBe(0.95);

    const e = await run(['eval', 'nba', '--db', db, '--bootstrap', '200']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/logging policy\s+-?\d+\.\d{3}\s+\[/);
    for (const k of ['IPS', 'SNIPS', 'DR']) expect(e.out).toMatch(new RegExp(`\\n${k}\\s+-?\\d+\\.\\d{3}\\s+\\[-?\\d`));
    expect(e.out).toMatch(/effective sample size \d+\.\d of \d+/);
    const ej = JSON.parse((await run(['eval', 'nba', '--db', db, '--version', r.version, '--bootstrap', '200', '--json'])).out);
    expect(ej.version).toBe(r.version);
    expect(ej.report.n).toBe(ev.report.n);
    expect(ej.report.ess).toBeGreaterThan(0);

    const refused = await run(['activate', 'nba', r.version]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error \[CONFLICT\]: activation of nba policy .* refused: DR lower bound .*--override/);
    expect(fs.existsSync(path.join(dir, 'models', 'nba', 'active'))).toBe(false);

    const forced = await run(['activate', 'nba', r.version, '--override']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toMatch(/by override/);
    expect(fs.readFileSync(path.join(dir, 'models', 'nba', 'active'), 'utf8').trim()).toBe(r.version);
    const meta = JSON.parse(fs.readFileSync(path.join(vdir, 'meta.json'), 'utf8'));
    expect(meta.activation).toMatchObject({ overridden: true });
    expect(meta.activation.reason).toMatch(/overridden/);
    const warn = forced.logs.map((l) => JSON.parse(l)).find((l) => /override/.test(l.msg));
    expect(warn).toMatchObject({ level: 40, version: r.version });
  });

  it('names bad flags and unknown versions', async () => {
    const bad = await run(['train', 'nba', '--db', db, '--epsilon', '2']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error \[BAD_INPUT\]: epsilon: expected a number in \[0, 1\]/);
    const missing = await run(['activate', 'nba', 'no-such-version']);
    expect(missing.err).toMatch(/^error \[NOT_FOUND\]: version: no nba policy version "no-such-version"/);
  });
});
