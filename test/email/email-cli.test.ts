import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { runCli } from '../../src/cli/program.js';
import { seedShipment, tempDir } from './helpers.js';

describe('shipcast email preview', () => {
  it('prints the rendered email in the requested locale and refuses an unknown kind by name', async () => {
    const dir = tempDir('shipcast-cli-email-');
    const db = path.join(dir, 'p.duckdb');
    const wh = await openWarehouse(db);
    const { trackingNumber } = await seedShipment(wh, { promisedAt: '2026-12-10T15:00:00Z' });
    await wh.close();
    const env = { SHIPCAST_DATA_DIR: dir, SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_LOG_LEVEL: 'silent' };
    const rt = captureRuntime(env);
    expect(await runCli(['email', 'preview', '--kind', 'shipped', '--tracking', trackingNumber, '--locale', 'pt-BR', '--db', db], rt)).toBe(0);
    const out = rt.stdout.join('\n');
    expect(out).toContain('Subject: Seu pedido está a caminho');
    expect(out).toContain('Stream: transactional   Tags: shipped, transactional   Locale: pt-BR   Model: none (promised date)');
    expect(out).toContain('Previsão de entrega: até qui., 10 de dez.');
    const html = captureRuntime(env);
    expect(await runCli(['email', 'preview', '--kind', 'delay', '--tracking', trackingNumber, '--db', db, '--html'], html)).toBe(0);
    expect(html.stdout.join('\n')).toMatch(/^<!doctype html>/i);
    const bad = captureRuntime(env);
    expect(await runCli(['email', 'preview', '--kind', 'promo_blast', '--tracking', trackingNumber, '--db', db], bad)).toBe(1);
    expect(bad.stderr.join('\n')).toContain('error [BAD_INPUT]: kind: unknown email kind "promo_blast"');
  });
});
