import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  BAD_METRICS,
  type ControllerState,
  cleanCheckpoints,
  createRunDir,
  defaultRunName,
  findLatestCheckpoint,
  MetricsWriter,
  pruneCheckpoints,
  RUN_DIR_ERROR,
  readMetrics,
  truncateMetrics,
  truncateRollouts,
  writeCheckpoint,
  writeRollouts,
} from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'simplerl-run-'));
after(() => rmSync(root, { recursive: true, force: true }));

function state(step: number): ControllerState {
  return {
    version: 1,
    step,
    num_optimizer_steps: step * 2,
    sampler: { epoch: 0, position: step },
    rng: { seed: 1, scheme: 'hash32-v1' },
    kl: { coef: 0.01 },
    problems: { count: 3, fingerprint: 'abc' },
    time: new Date().toISOString(),
  };
}

describe('run directory', () => {
  test('a fresh run folder holds config.yaml, rollouts/ and checkpoints/; a second create is refused', () => {
    const dir = join(root, 'a');
    const paths = createRunDir(dir, 'run:\n  seed: 1\n');
    assert.equal(readFileSync(paths.config, 'utf8'), 'run:\n  seed: 1\n');
    assert.ok(existsSync(paths.rollouts) && existsSync(paths.checkpoints));
    // A folder whose run never wrote a step (e.g. the engine failed to start) can be created again.
    new MetricsWriter(paths.metrics).close();
    createRunDir(dir, 'run:\n  seed: 2\n');
    const w = new MetricsWriter(paths.metrics);
    w.append({ step: 1, time: 't' });
    w.close();
    assert.throws(
      () => createRunDir(dir, ''),
      new RegExp(`${RUN_DIR_ERROR}: .* already holds a run. Fix: --resume`),
    );
  });

  test('default run names carry the config name and a UTC stamp', () => {
    assert.equal(
      defaultRunName('configs/zero.yaml', new Date('2026-01-25T09:38:12Z')),
      'zero-20260125-093812',
    );
  });

  test('metrics: rows appended, non-finite values refused, broken lines skipped and counted', () => {
    const file = join(root, 'metrics.jsonl');
    const w = new MetricsWriter(file);
    w.append({ step: 1, time: 't', 'reward/mean': 0.5 });
    w.append({ step: 2, time: 't', 'reward/mean': 0.25 });
    assert.throws(() => w.append({ step: 3, time: 't', 'reward/mean': Number.NaN }), new RegExp(BAD_METRICS));
    w.close();
    appendFileSync(file, '{"step": 3, "time": "t", "rew');
    const { rows, numSkipped } = readMetrics(file);
    assert.deepEqual(
      rows.map((r) => r['reward/mean']),
      [0.5, 0.25],
    );
    assert.equal(numSkipped, 1);
    assert.equal(truncateMetrics(file, 1), 1);
    assert.deepEqual(
      readMetrics(file).rows.map((r) => r.step),
      [1],
    );
  });

  test('rollouts of later steps are removed on resume', () => {
    const paths = createRunDir(join(root, 'r'), '');
    for (const s of [1, 2, 3]) writeRollouts(paths, s, []);
    assert.equal(truncateRollouts(paths, 1), 2);
    assert.deepEqual(readdirSync(paths.rollouts), ['step-000001.jsonl']);
  });
});

describe('checkpoints', () => {
  test('LATEST names the last complete checkpoint; a half-written one is ignored and cleaned', async () => {
    const run = join(root, 'ck');
    const dir = join(run, 'checkpoints');
    assert.equal(findLatestCheckpoint(run), null);
    await writeCheckpoint(dir, state(4), async (d) => writeFileSync(join(d, 'w.bin'), 'x'));
    await writeCheckpoint(dir, state(8), async (d) => writeFileSync(join(d, 'w.bin'), 'y'));
    // A kill in the middle of the weights of step 12: the temporary folder stays, LATEST does not move.
    await assert.rejects(
      writeCheckpoint(dir, state(12), async () => {
        throw new Error('killed');
      }),
    );
    const latest = findLatestCheckpoint(run);
    assert.equal(latest?.name, 'step-000008');
    assert.equal(latest?.controller.num_optimizer_steps, 16);
    assert.equal(readFileSync(join(latest!.dir, 'w.bin'), 'utf8'), 'y');
    assert.ok(readdirSync(dir).some((n) => n.includes('.tmp-')));
    assert.deepEqual(cleanCheckpoints(dir, 8).length, 1);
    assert.ok(!readdirSync(dir).some((n) => n.includes('.tmp-')));
  });

  test('without LATEST the highest complete folder wins; a folder without controller.json does not count', async () => {
    const run = join(root, 'ck2');
    const dir = join(run, 'checkpoints');
    await writeCheckpoint(dir, state(1), async () => {});
    await writeCheckpoint(dir, state(2), async () => {});
    rmSync(join(dir, 'LATEST'));
    mkdirSync(join(dir, 'step-000003'));
    assert.equal(findLatestCheckpoint(run)?.step, 2);
    writeFileSync(join(dir, 'LATEST'), 'step-000009\n');
    assert.equal(findLatestCheckpoint(run)?.step, 2);
  });

  test('pruning keeps the last k and never LATEST', async () => {
    const run = join(root, 'ck3');
    const dir = join(run, 'checkpoints');
    for (const s of [1, 2, 3, 4]) await writeCheckpoint(dir, state(s), async () => {});
    assert.deepEqual(pruneCheckpoints(dir, 2), ['step-000001', 'step-000002']);
    assert.equal(findLatestCheckpoint(run)?.step, 4);
  });
});
