/** GraphiQL as a developer sees it: served by `shipcast serve` in development, opened in headless Chromium. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { captureRuntime } from '../../src/cli/runtime.js';
import { serve } from '../../src/cli/serve-command.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[graphiql] skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!hasChromium)('GraphiQL in headless Chromium', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-graphiql-'));
  let running: { url: string; stop: () => Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    const env = { SHIPCAST_ENV: 'development', SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: dir, SHIPCAST_LOG_LEVEL: 'silent' };
    running = await serve(captureRuntime(env), { db: path.join(dir, 'g.duckdb'), port: '0' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders offline: every asset comes from the service itself, and the editor appears', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    const failed: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) foreign.push(r.url());
    });
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${running.url}/graphql`, { waitUntil: 'load' });
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    expect(await page.title()).toBe('shipcast');
    await page.screenshot({ path: path.join(os.tmpdir(), 'shipcast-graphiql.png') });
    expect(foreign).toEqual([]);
    expect(failed.filter((u) => !u.startsWith('data:'))).toEqual([]);
  }, 60_000);
});
