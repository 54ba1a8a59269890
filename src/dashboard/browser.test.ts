// The page in headless Debian Chromium driven by playwright-core: charts, live update, rollout filters,
// evals, a screenshot in test-artifacts/, and the drawing time of 100k-point curves.
// Needs /usr/bin/chromium (scripts/setup-browser.sh installs it).
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { type Dashboard, startDashboard } from './serve.ts';
import { copyFixture, WAIT_ROLLOUT_IDS } from './test-helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_MISSING = `${CHROMIUM} not found: run scripts/setup-browser.sh`;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** Keys of the fixture's two runs together (zero-grpo has no critic/*). */
const NUM_FIXTURE_KEYS = 23;
/** Drawing 3 charts × 100k points must stay interactive; measured ~0.1-0.3 s here (2 shared cores). */
const MAX_DRAW_MS_100K = 3000;

async function launch(profileDir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
  // A persistent context on a fresh, empty profile folder: the --user-data-dir Chromium is given.
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 900 },
  });
}

const rolloutIds = (page: Page) =>
  page.locator('article.rollout').evaluateAll((els) => els.map((e) => e.getAttribute('data-prompt-id')));

/** Waits until the list shows exactly these rollouts (a total alone may match an earlier filter's). */
async function waitForRollouts(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll('article.rollout')]
        .map((e) => e.getAttribute('data-prompt-id'))
        .join() === want.join() &&
      document.querySelector('#rollout-count')?.getAttribute('data-total') === String(want.length),
    ids,
  );
}

const attr = (page: Page, selector: string, name: string) => page.locator(selector).getAttribute(name);
const text = async (locator: Locator) => (await locator.textContent())?.trim() ?? '';

describe('dashboard page in headless Chromium', { timeout: 90_000 }, () => {
  let runsDir: string;
  let profileDir: string;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    runsDir = copyFixture();
    profileDir = mkdtempSync(join(tmpdir(), 'simplerl-chromium-'));
    dashboard = await startDashboard({ runsDir, port: 0, pollMs: 100 });
    context = await launch(profileDir);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });
  after(async () => {
    await context?.close();
    await dashboard?.close();
    rmSync(dirname(runsDir), { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('draws a chart per metric with a series per run', async () => {
    await page.goto(dashboard.url);
    await page.waitForSelector('#render-stats[data-points="7268"]');
    assert.equal(await page.locator('.chart').count(), NUM_FIXTURE_KEYS);
    assert.equal(await page.locator('.chart canvas').count(), NUM_FIXTURE_KEYS);
    const reward = '.chart[data-key="reward/mean"]';
    assert.deepEqual(
      [await attr(page, reward, 'data-series'), await attr(page, reward, 'data-points')],
      ['2', '350'],
    );
    const critic = '.chart[data-key="critic/vf_loss"]';
    assert.deepEqual(
      [await attr(page, critic, 'data-series'), await attr(page, critic, 'data-points')],
      ['1', '200'],
    );
    assert.equal(await attr(page, '.chart[data-key="val/math500/acc"]', 'data-points'), '18');
    const note = page.locator('#malformed .warn-note[data-run="zero-ppo"]');
    assert.equal(await note.getAttribute('data-malformed'), '1');
    assert.match(await text(note), /1 malformed line skipped \(line 59: not valid JSON\)/);
    assert.equal(await text(page.locator('#live')), 'live · 2 streams');
  });

  it('narrows the charts with the metric filter and redraws on smoothing', async () => {
    await page.fill('#metric-filter', 'actor/');
    await page.waitForFunction(() => document.querySelectorAll('.chart').length === 5);
    await page.fill('#metric-filter', '');
    await page.waitForFunction((n) => document.querySelectorAll('.chart').length === n, NUM_FIXTURE_KEYS);
    const drawn = Number(await page.locator('body').getAttribute('data-drawn'));
    await page.locator('#smoothing').fill('0');
    await page.waitForFunction((n) => Number(document.body.dataset.drawn) > n, drawn);
    assert.equal(await text(page.locator('#smoothing-value')), '0.00');
    // The smoothing itself: TensorBoard's debiased EMA, against values worked out by hand.
    const smoothed = await page.evaluate(async (url) => {
      const { smooth } = await import(url);
      return [smooth([1, 2, 3], 0.5), smooth([1, 2, 3], 0)] as number[][];
    }, '/static/series.js');
    assert.deepEqual(
      smoothed[0].map((v: number) => Number(v.toFixed(6))),
      [1, 1.666667, 2.428571],
    );
    assert.deepEqual(smoothed[1], [1, 2, 3]);
  });

  it('zooms every chart to the steps dragged across one, and back on double-click', async () => {
    const box = (await page.locator('.chart[data-key="reward/mean"] .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('#zoom:not([hidden])');
    assert.match(await text(page.locator('#zoom-range')), /^steps \d+–\d+$/);
    const xMin = await attr(page, '.chart[data-key="reward/mean"]', 'data-x-min');
    assert.ok(Number(xMin) > 20, `zoomed from step ${xMin}`);
    assert.equal(await attr(page, '.chart[data-key="critic/vf_loss"]', 'data-x-min'), xMin);
    await page.locator('.chart[data-key="kl/mean"] .u-over').dblclick();
    await page.waitForSelector('#zoom[hidden]', { state: 'attached' });
    assert.equal(await attr(page, '.chart[data-key="critic/vf_loss"]', 'data-x-min'), '0');
  });

  it('grows the curves live when a line is appended to metrics.jsonl', async () => {
    const path = join(runsDir, 'zero-grpo', 'metrics.jsonl');
    appendFileSync(path, `${JSON.stringify({ step: 150, 'reward/mean': 0.95, 'custom/new_metric': 1 })}\n`);
    await page.waitForSelector('.chart[data-key="reward/mean"][data-points="351"]', { timeout: 10_000 });
    await page.waitForSelector('.chart[data-key="custom/new_metric"][data-points="1"]');
    appendFileSync(path, 'not json\n');
    await page.waitForSelector('#malformed .warn-note[data-run="zero-grpo"][data-malformed="1"]');
    // Rows and a new metric arrived; nothing else was refetched or lost.
    assert.equal(await attr(page, '.chart[data-key="critic/vf_loss"]', 'data-points'), '200');
    // A chart below the fold is redrawn when scrolled to, not on every update.
    const bottom = page.locator('.chart[data-key="time/train_s"]');
    assert.equal(await bottom.getAttribute('data-points'), '350');
    const drawn = Number(await page.locator('body').getAttribute('data-drawn'));
    appendFileSync(path, `${JSON.stringify({ step: 151, 'time/train_s': 6.1 })}\n`);
    await page.waitForFunction((n) => Number(document.body.dataset.drawn) > n, drawn);
    assert.equal(await bottom.getAttribute('data-points'), '350'); // off screen: left stale
    await bottom.scrollIntoViewIfNeeded();
    await page.waitForSelector('.chart[data-key="time/train_s"][data-points="351"]');
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('writes a screenshot of the curves', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#smoothing').fill('0.6');
    // Tall enough for every chart to be on screen, so none is left stale (not redrawn) in the shot.
    await page.setViewportSize({ width: 1400, height: 2000 });
    await page.waitForFunction(() => document.querySelectorAll('.chart[data-stale]').length === 0);
    await page.locator('.chart[data-key="reward/mean"] .u-over').hover(); // a cursor readout in the shot
    assert.match(await text(page.locator('.chart[data-key="reward/mean"] .readout')), /^step \d+ -?\d/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });
    assert.ok(existsSync(join(ARTIFACTS, 'dashboard.png')));
  });

  it('filters rollouts by phrase, truncation, correctness and step', async () => {
    await page.click('.tabs button[data-tab="rollouts"]');
    await page.selectOption('#rollout-filter select[name=run]', 'zero-ppo');
    await page.waitForSelector('#rollout-count[data-total="24"]');
    await page.fill('#rollout-filter input[name=phrase]', 'wait');
    await page.waitForSelector('#rollout-count[data-total="5"]');
    assert.deepEqual(await rolloutIds(page), WAIT_ROLLOUT_IDS);
    const first = page.locator('article.rollout').first();
    assert.equal(await text(first.locator('mark.answer')), '8'); // the extracted answer, inside \boxed{}
    assert.equal(await text(first.locator('mark.phrase')), 'wait');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-rollouts.png') });

    await page.selectOption('#rollout-filter select[name=truncated]', 'true');
    await page.waitForSelector('#rollout-count[data-total="0"]');
    await page.fill('#rollout-filter input[name=phrase]', '');
    await page.waitForSelector('#rollout-count[data-total="3"]');
    await page.selectOption('#rollout-filter select[name=truncated]', '');
    await page.selectOption('#rollout-filter select[name=correct]', 'false');
    await page.selectOption('#rollout-filter select[name=step]', '100');
    await waitForRollouts(page, ['p2-s100-2', 'p0-s100-4', 'p3-s100-7']);
    await page.fill('#rollout-filter input[name=minReward]', '-0.5');
    await page.locator('#rollout-filter input[name=minReward]').dispatchEvent('change');
    await waitForRollouts(page, ['p2-s100-2', 'p3-s100-7']);
  });

  it('shows the eval tables', async () => {
    // Beside the fixture's `simplerl eval` outputs: a summary of another shape, and a broken one.
    for (const [label, text] of [
      ['custom', '{"accuracy": 0.5, "levels": {"L3": {"acc": 0.75, "n": 8}, "L5": {"acc": 0.25, "n": 4}}}'],
      ['broken', '{"accuracy": '],
    ]) {
      mkdirSync(join(runsDir, 'zero-grpo', 'eval', label), { recursive: true });
      writeFileSync(join(runsDir, 'zero-grpo', 'eval', label, 'summary.json'), text);
    }
    await page.click('.tabs button[data-tab="evals"]');
    const custom = page.locator('.eval[data-run="zero-grpo"][data-label="custom"]');
    await custom.waitFor();
    assert.deepEqual(await custom.locator('tr', { hasText: 'L5' }).locator('th, td').allTextContents(), [
      'L5',
      '0.25',
      '4',
    ]);
    assert.match(await text(custom.locator('p.muted')), /accuracy: 0\.5/);
    const broken = page.locator('.eval[data-run="zero-grpo"][data-label="broken"] .warn-note');
    assert.match(await text(broken), /^summary\.json does not parse/);
    await page.waitForSelector('.eval[data-run="zero-ppo"][data-label="step-100"]');
    const final = page.locator('.eval[data-label="final"]');
    const cells = (row: Locator) => row.locator('th, td').allTextContents();
    // summary.json: scores (%) per benchmark and avg, then response statistics.
    const scores = final.locator('table').first();
    assert.deepEqual(await cells(scores.locator('thead tr')), ['%', 'pass@1', 'maj@4', 'pass@4']);
    assert.deepEqual(await cells(scores.locator('tr', { hasText: 'MATH500' })), [
      'MATH500',
      '62.4',
      '65.4',
      '72.4',
    ]);
    assert.deepEqual(await cells(scores.locator('tr', { hasText: 'avg' })), ['avg', '41.0', '44.0', '51.0']);
    const stats = final.locator('table').nth(1);
    assert.deepEqual(await cells(stats.locator('tr', { hasText: 'AIME24' })), [
      'AIME24',
      '30',
      '120',
      '723',
      '8.0',
      '25.0',
      '98.0',
    ]);
    // results.md, rendered from its markdown.
    assert.deepEqual((await cells(final.locator('details.results-md tbody tr').first())).slice(0, 3), [
      'zero-ppo final',
      '78.2',
      '62.4',
    ]);
    // Labels side by side on the primary metric.
    const compare = page.locator('.eval.compare[data-run="zero-ppo"] tbody tr');
    assert.deepEqual(await cells(compare.nth(1)), [
      'step-100',
      '62.6',
      '49.9',
      '17.7',
      '19.8',
      '10.6',
      '36.0',
      '32.8',
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-evals.png') });
    assert.deepEqual(pageErrors, []);
  });
});

describe('dashboard page with 100k points per curve', { timeout: 90_000 }, () => {
  let root: string;
  let dashboard: Dashboard;
  let context: BrowserContext;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'simplerl-dashboard-100k-'));
    const lines: string[] = [];
    for (let step = 0; step < 100_000; step++) {
      const x = step / 100_000;
      lines.push(
        `{"step":${step},"reward/mean":${(x + Math.sin(step / 50) * 0.1).toFixed(4)},"kl/mean":${(x * 0.02).toFixed(5)},"actor/entropy":${(1 - x * 0.5 + Math.cos(step / 7) * 0.05).toFixed(4)}}`,
      );
    }
    mkdirSync(join(root, 'long'));
    writeFileSync(join(root, 'long', 'metrics.jsonl'), `${lines.join('\n')}\n`);
    dashboard = await startDashboard({ runsDir: root, port: 0 });
    context = await launch(join(root, 'profile'));
  });
  after(async () => {
    await context?.close();
    await dashboard?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it(`draws 3 × 100k points in under ${MAX_DRAW_MS_100K} ms`, async () => {
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(dashboard.url);
    await page.waitForSelector('#render-stats[data-points="300000"]', { timeout: 30_000 });
    const loadMs = Date.now() - t0;
    const drawMs = Number(await attr(page, '#render-stats', 'data-ms'));
    // Redraw with another smoothing: what dragging the slider costs.
    const drawn = Number(await page.locator('body').getAttribute('data-drawn'));
    await page.locator('#smoothing').fill('0.9');
    await page.waitForFunction((n) => Number(document.body.dataset.drawn) > n, drawn);
    const redrawMs = Number(await attr(page, '#render-stats', 'data-ms'));
    console.log(
      `# dashboard 100k: first draw ${drawMs.toFixed(0)} ms, smoothing redraw ${redrawMs.toFixed(0)} ms, page load to drawn ${loadMs} ms (3 charts, 300,000 points)`,
    );
    assert.ok(drawMs < MAX_DRAW_MS_100K, `first draw took ${drawMs} ms`);
    assert.ok(redrawMs < MAX_DRAW_MS_100K, `redraw took ${redrawMs} ms`);
  });
});
