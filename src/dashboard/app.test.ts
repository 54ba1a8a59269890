import assert from 'node:assert/strict';
import { appendFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MALFORMED_JSON } from '../run/metrics.ts';
import { createApp, FOREIGN_HOST, RUN_NOT_FOUND } from './app.ts';
import { EVAL_SUMMARY_UNREADABLE } from './evals.ts';
import { isLoopbackHost, REMOTE_HOST_REFUSED } from './host.ts';
import { BAD_FILTER } from './rollouts.ts';
import { RUNS_DIR_MISSING, RunRegistry } from './runs.ts';
import { type Dashboard, startDashboard } from './serve.ts';
import { copyFixture, FIXTURE_RUNS, snapshotTree, sseReader, WAIT_ROLLOUT_IDS } from './test-helpers.ts';

describe('dashboard API (fetch against 127.0.0.1)', () => {
  let runsDir: string;
  let dashboard: Dashboard;
  let before_: Record<string, string>;
  const get = async (path: string) => {
    const res = await fetch(new URL(path, dashboard.url));
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    runsDir = copyFixture();
    before_ = snapshotTree(runsDir);
    dashboard = await startDashboard({ runsDir, port: 0, pollMs: 50 });
  });
  after(async () => {
    await dashboard?.close();
    rmSync(dirname(runsDir), { recursive: true, force: true });
  });

  it('lists the runs with their row and malformed-line counts', async () => {
    const { body } = await get('/api/runs');
    assert.equal(body.root, runsDir);
    assert.deepEqual(
      body.runs.map((r: { name: string; numRows: number; numMalformed: number; lastStep: number }) => [
        r.name,
        r.numRows,
        r.numMalformed,
        r.lastStep,
      ]),
      [
        ['zero-grpo', 150, 0, 149],
        ['zero-ppo', 200, 1, 199],
      ],
    );
  });

  it('serves metrics as columns, from a row on', async () => {
    const { body } = await get('/api/runs/zero-ppo/metrics');
    assert.equal(body.steps.length, 200);
    assert.equal(body.steps[57], 57);
    assert.ok(body.columns['critic/vf_loss']);
    assert.equal(body.columns['val/math500/acc'].filter((v: number | null) => v !== null).length, 10);
    assert.deepEqual(body.malformed, [{ line: 59, reason: MALFORMED_JSON }]);
    const grpo = (await get('/api/runs/zero-grpo/metrics?from=140')).body;
    assert.equal(grpo.from, 140);
    assert.deepEqual(grpo.steps, [140, 141, 142, 143, 144, 145, 146, 147, 148, 149]);
    assert.equal(grpo.columns['critic/vf_loss'], undefined);
  });

  it('filters rollouts by phrase, correctness, truncation, reward and step', async () => {
    const wait = (await get('/api/runs/zero-ppo/rollouts?phrase=WAIT')).body;
    assert.deepEqual(
      wait.rollouts.map((r: { prompt_id: string }) => r.prompt_id),
      WAIT_ROLLOUT_IDS,
    );
    assert.deepEqual(wait.steps, [50, 100, 150]);
    const truncated = (await get('/api/runs/zero-ppo/rollouts?truncated=true')).body;
    assert.equal(truncated.total, 3);
    assert.ok(
      truncated.rollouts.every(
        (r: { finished: boolean; extracted: null }) => !r.finished && r.extracted === null,
      ),
    );
    const wrongAt100 = (await get('/api/runs/zero-ppo/rollouts?step=100&correct=false&truncated=false')).body;
    assert.deepEqual(
      wrongAt100.rollouts.map((r: { prompt_id: string }) => r.prompt_id),
      ['p2-s100-2', 'p3-s100-7'],
    );
    const low = (await get('/api/runs/zero-ppo/rollouts?maxReward=-0.5&minReward=-0.5')).body;
    assert.equal(low.total, 7); // 4 at step 50, 2 at 100, 1 at 150
    const page = (await get('/api/runs/zero-ppo/rollouts?offset=20&limit=3')).body;
    assert.equal(page.total, 24);
    assert.deepEqual(
      page.rollouts.map((r: { prompt_id: string }) => r.prompt_id),
      ['p0-s150-4', 'p1-s150-5', 'p2-s150-6'],
    );
  });

  it('answers a bad filter and an unknown run with their errors', async () => {
    const bad = await get('/api/runs/zero-ppo/rollouts?correct=maybe');
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error.startsWith(BAD_FILTER));
    const missing = await get('/api/runs/nope/metrics');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, `${RUN_NOT_FOUND}: nope`);
    assert.equal((await get('/api/runs/..%2F..%2Fetc/evals')).status, 404);
  });

  it('reads eval summaries and tables', async () => {
    const { evals } = (await get('/api/runs/zero-ppo/evals')).body;
    assert.deepEqual(
      evals.map((e: { label: string }) => e.label),
      ['final', 'step-100'],
    );
    assert.equal(evals[0].summary.benchmarks.math500.scores['pass@1'], 0.624);
    assert.equal(evals[0].summary.primaryMetric, 'pass@1');
    assert.match(evals[0].resultsMd, /\| zero-ppo final \| 78\.2 \| 62\.4 \|/);
    assert.equal(evals[0].error, null);
    assert.deepEqual((await get('/api/runs/zero-grpo/evals')).body, { evals: [] });
  });

  it('streams appended metric rows live and skips a malformed appended line', async () => {
    const res = await fetch(new URL('/api/runs/zero-grpo/metrics/stream?from=150', dashboard.url));
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = sseReader(res);
    try {
      const first = JSON.parse((await events.next()).data);
      assert.deepEqual([first.from, first.steps.length, first.numRows], [150, 0, 150]);
      const path = join(runsDir, 'zero-grpo', 'metrics.jsonl');
      appendFileSync(path, '{"step":150,"reward/mean":0.9}\n{"step":151,');
      const second = JSON.parse((await events.next()).data);
      assert.deepEqual([second.from, second.steps, second.columns['reward/mean']], [150, [150], [0.9]]);
      appendFileSync(path, '"reward/mean":1}\n{oops}\n');
      const third = JSON.parse((await events.next()).data);
      assert.deepEqual([third.steps, third.numMalformed], [[151], 1]);
    } finally {
      events.cancel();
    }
  });

  it('serves the page and the uPlot bundle from node_modules', async () => {
    const page = await fetch(dashboard.url);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const uplot = await fetch(new URL('/static/uPlot.iife.min.js', dashboard.url));
    assert.equal(uplot.status, 200);
    assert.match(await uplot.text(), /uPlot/);
    const module = await fetch(new URL('/static/series.js', dashboard.url));
    assert.equal(module.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await module.text(), /export function smooth/);
    for (const path of [
      '/static/..%2Fapp.ts',
      '/static/%2E%2E/serve.ts',
      '/static/missing.js',
      '/static/app.ts',
    ]) {
      assert.equal((await fetch(new URL(path, dashboard.url))).status, 404, path);
    }
  });

  it('never writes to a run', async () => {
    await get('/api/runs');
    const after_ = snapshotTree(runsDir);
    // The live-stream test appended to zero-grpo itself; everything else is byte-identical.
    delete before_['zero-grpo/metrics.jsonl'];
    delete after_['zero-grpo/metrics.jsonl'];
    assert.deepEqual(after_, before_);
  });
});

describe('live metrics stream', () => {
  it('stops polling the file once the client has gone', async () => {
    const registry = new RunRegistry(FIXTURE_RUNS);
    const run = (await registry.get('zero-grpo'))!;
    let numRefreshes = 0;
    const refresh = run.metrics.refresh.bind(run.metrics);
    run.metrics.refresh = () => {
      numRefreshes++;
      return refresh();
    };
    const shutdown = new AbortController(); // ends the loop even if the client's going were missed
    const app = createApp({ registry, pollMs: 10, signal: shutdown.signal });
    const events = sseReader(await app.request('/api/runs/zero-grpo/metrics/stream'));
    try {
      assert.equal(JSON.parse((await events.next()).data).numRows, 150);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.ok(numRefreshes >= 2, `polled ${numRefreshes} times`);
      events.cancel();
      await new Promise((resolve) => setTimeout(resolve, 30));
      const numAfterCancel = numRefreshes;
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.equal(numRefreshes, numAfterCancel);
    } finally {
      shutdown.abort();
    }
  });
});

describe('dashboard host and start-up checks', () => {
  it('tells loopback hosts from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '192.168.1.4', 'example.com', '128.0.0.1', '127.0.0.1.nip.io'])
      assert.ok(!isLoopbackHost(host), host);
  });

  it('answers only requests addressed to a loopback name (DNS rebinding)', async () => {
    const app = createApp({ registry: new RunRegistry(FIXTURE_RUNS) });
    assert.equal((await app.request('http://127.0.0.1:6060/api/runs')).status, 200);
    assert.equal((await app.request('http://[::1]:6060/api/runs')).status, 200);
    const foreign = await app.request('http://attacker.example:6060/api/runs');
    assert.equal(foreign.status, 403);
    assert.ok(((await foreign.json()) as { error: string }).error.startsWith(FOREIGN_HOST));
    const remote = createApp({ registry: new RunRegistry(FIXTURE_RUNS), isLoopbackOnly: false });
    assert.equal((await remote.request('http://dashboard.lan:6060/api/runs')).status, 200);
  });

  it('takes one run directory as well as a directory of runs', async () => {
    const runs = await new RunRegistry(join(FIXTURE_RUNS, 'zero-ppo')).list();
    assert.deepEqual(
      runs.map((r) => [r.name, r.numRows]),
      [['zero-ppo', 200]],
    );
  });

  it('refuses a non-loopback host without allowRemote, before binding', async () => {
    await assert.rejects(startDashboard({ runsDir: '.', host: '0.0.0.0', port: 0 }), (err: Error) =>
      err.message.startsWith(REMOTE_HOST_REFUSED),
    );
  });

  it('names a missing runs directory', async () => {
    await assert.rejects(startDashboard({ runsDir: '/nonexistent/runs', port: 0 }), (err: Error) =>
      err.message.startsWith(RUNS_DIR_MISSING),
    );
  });

  it('reports a broken summary.json on its label', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { readEvals } = await import('./evals.ts');
    const dir = mkdtempSync(join(tmpdir(), 'simplerl-evals-'));
    try {
      mkdirSync(join(dir, 'x'));
      writeFileSync(join(dir, 'x', 'summary.json'), '{');
      const [result] = await readEvals(dir);
      assert.equal(result.label, 'x');
      assert.ok(result.error?.startsWith(EVAL_SUMMARY_UNREADABLE));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
