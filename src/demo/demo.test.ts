// End to end: a shortened demo (tiny base model, 2 RL steps per algorithm, a few eval problems) through
// the real engine, trainer and grader. It checks that every output exists and is well formed, not the
// accuracy: the measured runs in bench/RESULTS.md (## Demo) are about that.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DemoResult, formatTable, runDemo } from './run-demo.ts';

const TINY_BASE = {
  hiddenSize: 32,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 64,
  numDocs: 400,
  steps: 12,
  batchSize: 8,
};

function checkOutputs(demo: DemoResult, out: string): void {
  for (const file of [
    'demo.json',
    'plots.png',
    'plots.html',
    'curves.jsonl',
    'metrics.jsonl',
    'config.yaml',
  ]) {
    assert.ok(existsSync(join(out, file)), `${file} is written`);
  }
  const png = readFileSync(join(out, 'plots.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const html = readFileSync(join(out, 'plots.html'), 'utf8');
  assert.match(html, /uPlot/);
  assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script');
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(metrics.length, 2);
  assert.equal(demo.curves.length, 2);
  for (const c of demo.curves) {
    assert.ok(Number.isFinite(c.reward) && c.selfCheckRate >= 0 && c.selfCheckRate <= 1);
  }
  assert.equal(demo.before.length, 4);
  assert.equal(demo.after.length, 4);
  for (const s of [...demo.before, ...demo.after]) {
    assert.ok(s.acc >= 0 && s.acc <= 1 && s.formatRate >= 0 && s.formatRate <= 1, JSON.stringify(s));
    assert.ok(s.meanLen > 0);
    assert.equal(s.numProblems, 6);
  }
  for (const label of ['base-test-greedy', 'rl-hard-sampled']) {
    const rows = readFileSync(join(out, 'eval', label, 'per_problem.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(rows.length, 6);
    assert.equal(typeof JSON.parse(rows[0]!).response, 'string');
  }
  const table = formatTable(demo);
  assert.equal(table.split('\n').length, 6);
  assert.match(table, /test \| greedy/);
  const saved = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8')) as DemoResult;
  assert.ok(saved.times.total > 0);
}

test('simplerl demo: a shortened run end to end (both algorithms, cached base model)', {
  timeout: 240_000,
}, async () => {
  const runs = await mkdtemp(join(tmpdir(), 'demo-e2e-'));
  try {
    const common = {
      seed: 1,
      steps: 2,
      runsDir: runs,
      shippedDir: null,
      threads: 1,
      base: TINY_BASE,
      numTrain: 64,
      numTest: 6,
      numHard: 6,
      progress: false,
      log: () => {},
      sets: [
        'algo.prompts_per_step=4',
        'algo.mini_batch_size=4',
        'algo.n_samples=4',
        'rollout.max_new_tokens=24',
      ],
    };
    const grpo = await runDemo({ ...common, out: join(runs, 'demo'), algo: 'grpo' });
    assert.equal(grpo.pretrain.source, 'pretrained');
    assert.equal(grpo.algo, 'grpo');
    checkOutputs(grpo, join(runs, 'demo'));
    // the second demo reuses the base model and replaces its own earlier output folder
    const ppo = await runDemo({ ...common, out: join(runs, 'demo'), algo: 'ppo' });
    assert.equal(ppo.pretrain.source, 'cache');
    assert.equal(ppo.pretrain.path, grpo.pretrain.path);
    assert.equal(ppo.algo, 'ppo');
    checkOutputs(ppo, join(runs, 'demo'));
    assert.ok(existsSync(join(runs, 'demo', 'checkpoints')));
  } finally {
    await rm(runs, { recursive: true, force: true });
  }
});
