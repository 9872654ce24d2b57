import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeReports, type Reports } from '../../src/reports/build-reports.js';
import { AS_OF, sampleWarehouse } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED reports-browser: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('index.html in headless Chromium', () => {
  let dir: string;
  let reports: Reports;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipcast-reports-html-'));
    const wh = await sampleWarehouse(1500);
    try {
      const out = await writeReports(wh, dir, { now: AS_OF });
      reports = out.reports;
      file = out.files.find((f) => f.endsWith('index.html'))!;
    } finally {
      await wh.close();
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads without errors or requests, shows every cohort, and screenshots', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      // The page itself is the only request: no external CSS, fonts, images or scripts.
      expect(requests).toEqual([pathToFileURL(file).href]);
      expect(await page.title()).toContain('leadership reports');
      const cohortRows = await page.locator('#cohort-table tbody tr').count();
      expect(cohortRows).toBe(reports.costToServe.cohorts.length);
      expect(cohortRows).toBeGreaterThan(5);
      expect(await page.locator('#csat-table tbody tr').count()).toBe(5);
      expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(5);
      const firstCohort = reports.costToServe.cohorts[0]!;
      await expect(page.locator('#cohort-table tbody tr').first().locator('td').first().textContent()).resolves.toBe(
        `${firstCohort.carrier} · ${firstCohort.serviceLevel} · ${firstCohort.distanceBand}`,
      );
      await page.screenshot({ path: '/tmp/reports.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
