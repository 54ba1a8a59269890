// Divergence (issue 16): a learning rate of 1e9 makes the step's losses / gradient norms non-finite; the
// run stops at that step with the diverged message and exit code 1, writes no metrics row or
// checkpoint for it, and the checkpoint from before the step stays the run's last one (and verifies).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STEP_DIVERGED, TRAIN_ERROR } from '../src/rl/divergence.ts';
import { findLatestCheckpoint, readMetrics, verifyManifest } from '../src/run/index.ts';
import { makeTinySetup, runCli, writeTinyConfigFile } from './fixtures/train-setup.ts';

describe('a diverged step stops the run (PPO, lr 1e9)', () => {
  let dir: string;
  let configFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-diverge-'));
    const setup = await makeTinySetup(dir, 8);
    configFile = writeTinyConfigFile(dir, setup, 'ppo', (yaml) =>
      yaml.replace('save_every: 2', 'save_every: 1'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('optim.actor_lr=1e9: stops at step 1 with the diverged message, exit 1, nothing written for it', async () => {
    const r = await runCli(['train', configFile, '--name', 'actor', '--set', 'optim.actor_lr=1e9']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${TRAIN_ERROR}: step 1 ${STEP_DIVERGED}: .*actor/grad_norm=NaN`));
    const runDir = join(dir, 'runs', 'actor');
    assert.equal(readMetrics(join(runDir, 'metrics.jsonl')).rows.length, 0);
    assert.equal(findLatestCheckpoint(runDir), null);
  });

  test('optim.critic_lr=1e9 on resume: stops at step 2; the step-1 checkpoint stays LATEST and verifies', async () => {
    const first = await runCli(['train', configFile, '--name', 'critic', '--set', 'run.max_steps=1']);
    assert.equal(first.code, 0, first.stderr);
    const runDir = join(dir, 'runs', 'critic');
    const r = await runCli([
      'train',
      '--resume',
      runDir,
      '--set',
      'run.max_steps=3',
      '--set',
      'optim.critic_lr=1e9',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`step 2 ${STEP_DIVERGED}: .*critic/grad_norm=(Infinity|NaN)`));
    const latest = findLatestCheckpoint(runDir);
    assert.equal(latest?.step, 1);
    assert.ok(r.stderr.includes(`The last complete checkpoint is ${latest.dir}`), r.stderr);
    assert.equal(await verifyManifest(latest.dir), null);
    assert.ok(!existsSync(join(runDir, 'checkpoints', 'step-000002')));
    assert.deepEqual(
      readMetrics(join(runDir, 'metrics.jsonl')).rows.map((row) => row.step),
      [1],
    );
  });
});
