/**
 * Debian's Chromium loads the dashboard while traffic is recorded into real
 * metrics: live numbers move, an ejected endpoint reads as ejected, the CSP
 * lets the page's own script run (and nothing else), and a screenshot of
 * the page lands in docs/images/dashboard.png for the docs.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AdminServer, startAdminServer } from '../../src/admin/index.js';
import { type AdminFixture, adminFixture, bookinfoClusters, bookinfoConfigChanges } from '../helpers/admin-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`dashboard browser test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
// The docs' copy is refreshed only on request (UPDATE_SCREENSHOT=1), so CI runs leave the tree clean.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? fileURLToPath(new URL('../../docs/images/dashboard.png', import.meta.url))
    : join(tmpdir(), `proxyless-dashboard-${process.pid}.png`);

describe.skipIf(!HAVE_CHROMIUM)('the dashboard in Chromium', () => {
  let f: AdminFixture;
  let admin: AdminServer;
  let browser: Browser;
  let page: Page;
  let traffic: NodeJS.Timeout | undefined;
  /** Rounds of the fixture's traffic mix recorded per 100 ms tick; raised mid-test. */
  let perTick = 2;
  const problems: string[] = [];

  const text = (selector: string) => page.locator(selector).first().textContent();
  const rps = async () => Number(await text('tr[data-key="outbound reviews"] [data-field="rps"]'));

  beforeAll(async () => {
    f = adminFixture();
    const now = Date.now();
    // Ejected for the whole test, so the row reads "ejected (… s left)" throughout.
    f.source.clusterList = bookinfoClusters(now).map((c) =>
      c.service !== 'reviews' ? c : { ...c, endpoints: c.endpoints.map((e) => (e.ejected ? { ...e, ejectedUntil: now + 170_000 } : e)) },
    );
    f.source.changes = bookinfoConfigChanges(now);
    let tick = 0;
    traffic = setInterval(() => {
      // Slow swells in volume and latency (periods of ~15 s and ~25 s, longer than the page's
      // 5 s window), so the charts look like traffic rather than flat lines.
      tick++;
      f.traffic(perTick + Math.round(1.5 + 1.5 * Math.sin(tick / 25)), 1 + 0.4 * Math.sin(tick / 40));
    }, 100);
    admin = await startAdminServer({ port: 0, source: f.source });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 }, colorScheme: 'light' });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
    await page.goto(`http://127.0.0.1:${admin.port}/`);
  });

  afterAll(async () => {
    clearInterval(traffic);
    await browser?.close();
    await admin?.close();
    f?.close();
  });

  test('the page goes live and the request rate follows the traffic', async () => {
    await expect.poll(() => text('#status'), { timeout: 15_000 }).toBe('live');
    await expect.poll(rps, { timeout: 15_000 }).toBeGreaterThan(0);
    const before = await rps();
    perTick = 12;
    // Several times the traffic: the 5 s window's rate climbs well past where it was.
    await expect.poll(rps, { timeout: 30_000 }).toBeGreaterThan(before * 2);
    perTick = 3;
    expect(await text('tr[data-key="outbound ratings"] [data-field="errors"]')).toMatch(/^\d+(\.\d+)? %$/);
    expect(Number(await text('tr[data-key="outbound reviews"] [data-field="p99"]'))).toBeGreaterThan(0);
    expect(await text('tr[data-key="inbound productpage"] [data-field="direction"]')).toBe('inbound');
  });

  test('endpoints show weight, health and ejection with time left; breakers and config changes show', async () => {
    const ejected = 'tr[data-endpoint="10.0.0.11:9080"]';
    expect(await text(`${ejected} [data-field="ejection"]`)).toMatch(/^ejected \(\d+ s left\)$/);
    expect(await text('tr[data-endpoint="10.0.0.7:9080"] [data-field="ejection"]')).toBe('no');
    expect(await text('tr[data-endpoint="10.0.0.7:9080"] [data-field="weight"]')).toBe('3 (warming, 35%)');
    expect(await text('tr[data-endpoint="10.0.2.8:9080"] [data-field="health"]')).toBe('unhealthy');
    expect(await text('tr[data-key="outbound ratings"] [data-field="circuit"]')).toBe('open');
    expect(await text('table[data-cluster="ratings"] caption')).toContain('discovery failing: dns: ratings.bookinfo: ETIMEOUT');
    const rejected = page.locator('#config tbody tr').first();
    expect(await rejected.locator('[data-field="result"]').textContent()).toBe('rejected');
    expect(await rejected.locator('[data-field="reason"]').textContent()).toContain('perTryTimeout');
  });

  test('charts carry text alternatives, and a screenshot is saved for the docs', async () => {
    const chart = page.locator('tr[data-key="outbound reviews"] svg[role="img"]').first();
    // Enough history for the sparklines to read as most of a minute of traffic.
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 90_000 }).toBeGreaterThanOrEqual(45);
    expect(await chart.getAttribute('aria-label')).toMatch(/^Requests per second, last 60 s: now [\d.]+, peak [\d.]+$/);
    await mkdir(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
  });
});
