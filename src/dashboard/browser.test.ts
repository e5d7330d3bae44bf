/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, over a study this
 * test writes through the storage API (real-shaped trials, no training). Skips with a message when
 * /usr/bin/chromium is absent (CI installs it in .ci/run). Screenshots go to
 * .scratch/artifacts/dashboard/ (git-ignored).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { openSqliteStorage, type Storage } from '../storage/index.js';
import { startDashboard, type Dashboard } from './server.js';
import { addCompleteTrial, buildStudy, fakeTrial } from './testing/fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), '.scratch', 'artifacts', 'dashboard');
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y --no-install-recommends chromium) to run the browser tests`;

describe('dashboard in Chromium', { skip }, () => {
  let dir: string;
  let writer: Storage;
  let reader: Storage;
  let dash: Dashboard;
  let browser: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'autopeft-dash-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(dir, 'studies.sqlite');
    writer = openSqliteStorage(file);
    await buildStudy(writer, { name: 'spam-bo', complete: 14 });
    await buildStudy(writer, { name: 'spam-random', sampler: 'random', seed: 2, complete: 14, followups: false });
    // The dashboard reads through its own connection, as `autopeft dashboard` beside a running search.
    reader = openSqliteStorage(file);
    dash = await startDashboard({ storage: reader, port: 0, pollMs: 300 });
    const { chromium } = await import('playwright-core');
    // A fresh profile folder per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 900 },
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
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await dash?.close();
    await reader?.close();
    await writer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ready = (hashKey: string) => page.waitForFunction((k) => document.body.dataset['ready'] === k, hashKey);
  const pointCount = (id: string) => page.getAttribute(`#${id}`, 'data-points').then(Number);

  /** Page coordinates of a trial's point on a chart, from the chart's own coordinate system. */
  async function pointOf(id: string, trial: number): Promise<{ x: number; y: number }> {
    const xy = await page.evaluate(
      ({ id, trial }) => {
        type Chart = {
          getOption(): { series: { data: ({ trial?: number; value: number[] } | undefined)[] }[] };
          convertToPixel(f: { seriesIndex: number }, v: number[]): number[];
        };
        const c = (window as unknown as { dashboard: { chart(id: string): Chart } }).dashboard.chart(id);
        const series = c.getOption().series;
        for (let si = 0; si < series.length; si++) {
          const p = series[si]!.data.find((d) => d?.trial === trial);
          if (p) return c.convertToPixel({ seriesIndex: si }, p.value);
        }
        return null;
      },
      { id, trial },
    );
    assert.ok(xy, `trial ${trial} is not on chart ${id}`);
    const box = (await page.locator(`#${id}`).boundingBox())!;
    return { x: box.x + xy[0]!, y: box.y + xy[1]! };
  }

  it('lists both studies and overlays their fronts and hypervolume histories', async () => {
    await page.goto(dash.url);
    await ready('{"view":"overview"}');
    const rows = page.locator('#studies-table tbody tr');
    assert.equal(await rows.count(), 2);
    const first = (await rows.nth(0).locator('td').allTextContents()).slice(1, 9).join(' ');
    assert.equal(first, 'spam-bo spam use-lite bo 14 1 1 1');
    assert.equal(await pointCount('ov-scatter'), 28);
    const hvSeries = await page.evaluate(() =>
      (
        window as unknown as { dashboard: { chart(id: string): { getOption(): { series: { name: string }[] } } } }
      ).dashboard
        .chart('ov-hv')
        .getOption()
        .series.map((s) => s.name),
    );
    assert.deepEqual(hvSeries, ['spam-bo (bo)', 'spam-random (random)']);
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
  });

  it('shows a study: every complete trial is a point, hover shows its configuration, a click opens the trial', async () => {
    await page.goto(`${dash.url}#/study/spam-bo`);
    await ready('{"view":"study","study":"spam-bo"}');
    assert.equal(await pointCount('st-scatter'), 14);
    const t = fakeTrial(1, 5);
    const at = await pointOf('st-scatter', 5);
    await page.mouse.move(at.x, at.y);
    const tip = page.locator('.tip').filter({ hasText: 'trial #5' }).first();
    await tip.waitFor({ state: 'visible' });
    const text = (await tip.textContent()) ?? '';
    const mods = (['sa', 'pa', 'pt'] as const).filter((k) => (t.config[k] as number) > 0);
    for (const k of mods) assert.ok(text.includes(`${k.toUpperCase()} ${t.config[k]}`), `${text} lacks ${k}`);
    const layers = [0, 1].filter((l) => t.config[`layer_${l}`] === true).join(',');
    assert.ok(text.includes(`layers ${layers}`), text);
    await page.screenshot({ path: join(ARTIFACTS, 'study.png'), fullPage: true });
    await page.mouse.click(at.x, at.y);
    await ready('{"view":"trial","study":"spam-bo","trial":5}');
    assert.match((await page.locator('#trial-title').textContent()) ?? '', /Trial #5\s+COMPLETE/);
    // Placement cells carry the module sizes, not only on/off.
    const sizes = await page.locator('#placement td.on').evaluateAll((tds) => tds.map((td) => td.textContent));
    assert.ok(sizes.length > 0);
    for (const s of sizes)
      assert.ok(
        mods.some((k) => String(t.config[k]) === s),
        `placement shows ${s}`,
      );
    assert.equal(await page.locator('#tr-curve').count(), 1, 'the learning curve is drawn');
    await page.screenshot({ path: join(ARTIFACTS, 'trial.png'), fullPage: true });
  });

  it('filters the table and the chart together, sorts, and navigates by keyboard', async () => {
    await page.goto(`${dash.url}#/study/spam-bo`);
    await ready('{"view":"study","study":"spam-bo"}');
    await page.locator('#flt-front').check();
    await page.waitForFunction(() => document.querySelector('#st-scatter')?.getAttribute('data-points') !== '14');
    const frontRows = await page.locator('#trials-table tbody tr').count();
    assert.equal(await pointCount('st-scatter'), frontRows);
    await page.locator('#flt-front').uncheck();
    await page.selectOption('#flt-state', 'FAILED');
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length === 1);
    assert.match((await page.locator('#trials-table tbody').textContent()) ?? '', /out of memory/);
    await page.selectOption('#flt-state', 'ALL');
    // Sort by metric, descending (click twice): the first row has the best metric.
    await page.locator('#trials-table th button', { hasText: 'metric' }).click();
    await page.locator('#trials-table th[aria-sort="ascending"]', { hasText: 'metric' }).waitFor();
    await page.locator('#trials-table th button', { hasText: 'metric' }).click();
    // The table re-renders after each click: read it once it shows the descending sort.
    await page.locator('#trials-table th[aria-sort="descending"]', { hasText: 'metric' }).waitFor();
    const firstMetric = Number(await page.locator('#trials-table tbody tr:first-child td:nth-child(3)').textContent());
    const best = Math.max(...Array.from({ length: 14 }, (_, n) => fakeTrial(1, n).metric));
    assert.ok(Math.abs(firstMetric - best) < 1e-3, `${firstMetric} vs ${best}`);
    // Keyboard: Tab into the table, arrows move, Enter opens the focused trial.
    await page.locator('#trials-table tbody tr:first-child').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement).dataset['trial']);
    const third = await page.locator('#trials-table tbody tr:nth-child(3)').getAttribute('data-trial');
    assert.equal(focused, third);
    await page.keyboard.press('Enter');
    await ready(`{"view":"trial","study":"spam-bo","trial":${third}}`);
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => document.activeElement?.tagName === 'A'), 'Tab reaches the links');
  });

  it('shows follow-up results with error bars and says which baseline dominates which front configurations', async () => {
    await page.goto(`${dash.url}#/study/spam-bo`);
    await ready('{"view":"study","study":"spam-bo"}');
    const statements = await page.locator('.statements li').allTextContents();
    assert.ok(
      statements.some((s) => /baseline PA 4 .* dominates front configuration/.test(s)),
      statements.join('\n'),
    );
    assert.equal(await page.locator('#st-retrain').count(), 1);
    assert.equal(await page.locator('#st-transfer-0').count(), 1);
  });

  it('shows a new trial within seconds while the page is open', async () => {
    await page.goto(`${dash.url}#/study/spam-bo`);
    await ready('{"view":"study","study":"spam-bo"}');
    assert.equal(await pointCount('st-scatter'), 14);
    const t0 = Date.now();
    const added = await addCompleteTrial(writer, 'spam-bo', 1, 40, Date.now());
    await page.waitForFunction(
      () => document.querySelector('#st-scatter')?.getAttribute('data-points') === '15',
      null,
      {
        timeout: 5000,
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 5, `took ${seconds} s`);
    await pointOf('st-scatter', added.number);
    assert.equal(await page.locator(`#trials-table tr[data-trial="${added.number}"]`).count(), 1);
  });

  it('escapes study and trial strings: markup in names shows as text and never runs', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    await writer.createStudy({
      name: evil,
      directions: ['maximize', 'minimize'],
      systemAttrs: { autopeft: { task: '<b>task</b>', model: '<i>m</i>', sampler: 'bo' } },
    });
    await writer.createTrial(evil, {
      state: 'FAILED',
      config: { layer_0: true, sa: 8, note: '<script>window.__pwned=2</script>' },
      reason: '<svg onload="window.__pwned=3">',
    });
    await writer.createTrial(evil, { state: 'COMPLETE', config: { layer_0: true, sa: 8 }, values: [0.8, 0.5] });
    await page.goto(dash.url);
    await page.waitForFunction((n) => document.body.textContent?.includes(n), evil);
    await page.goto(`${dash.url}#/study/${encodeURIComponent(evil)}/trial/0`);
    await ready(JSON.stringify({ view: 'trial', study: evil, trial: 0 }));
    assert.match((await page.locator('#trial-reason').textContent()) ?? '', /<svg onload=/);
    assert.match((await page.locator('#config').textContent()) ?? '', /<script>window.__pwned=2<\/script>/);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('main img, main script, main svg[onload]').count(), 0);
  });

  it('logged no console errors', () => {
    assert.deepEqual(errors, []);
  });
});
