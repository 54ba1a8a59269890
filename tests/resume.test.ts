// Resume after SIGKILL: the controller (`node bin/simplerl.mjs train ...`, a child process) is killed in
// the middle of a run, `--resume` continues it, and the run reaches the same final step with exactly
// the data order (prompt ids per step) and samples of an uninterrupted run.
// Also: SIGINT stops the run after its step with a checkpoint and exit code 130 (scripts must not go on).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_INTERRUPTED } from '../src/cli/commands/train.ts';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { makeTinySetup, runCli, type TinySetup, tinyConfigYaml } from './fixtures/train-setup.ts';

interface Rollout {
  step: number;
  prompt_id: string;
  response: string;
}

function rolloutsByStep(runDir: string): Map<number, Rollout[]> {
  const out = new Map<number, Rollout[]>();
  for (const f of readdirSync(join(runDir, 'rollouts')).sort()) {
    const rows = readFileSync(join(runDir, 'rollouts', f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rollout);
    out.set(rows[0].step, rows);
  }
  return out;
}

/** Prompt ids of a step in order, one per prompt (its n samples are adjacent). */
function promptIds(rows: Rollout[], n: number): string[] {
  return rows.filter((_, i) => i % n === 0).map((r) => r.prompt_id);
}

describe('resume after SIGKILL of the controller', () => {
  let dir: string;
  let setup: TinySetup;
  let configFile: string;
  const STEPS = 6;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-resume-'));
    // 10 problems, 4 prompts per step: epochs end in the middle of steps 3 and 5.
    setup = await makeTinySetup(dir, 10);
    configFile = join(dir, 'cfg.yaml');
    writeFileSync(
      configFile,
      tinyConfigYaml({
        model: setup.model.dir,
        train: setup.train,
        runDir: join(dir, 'runs'),
        algo: 'ppo',
      }).replace('max_steps: 3', `max_steps: ${STEPS}`),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('same final step, no lost or repeated data position, same samples', async () => {
    // An uninterrupted run (the reference) and a run killed after step 3 (its last checkpoint: step 2).
    const full = await runCli(['train', configFile, '--name', 'full']);
    assert.equal(full.code, 0, full.stderr);
    const killedDir = join(dir, 'runs', 'killed');
    let pid = 0;
    let killedAt = 0;
    const watcher = setInterval(() => {
      const { rows } = readMetrics(join(killedDir, 'metrics.jsonl'));
      if (rows.length >= 3 && pid !== 0 && killedAt === 0) {
        killedAt = rows.length;
        process.kill(pid, 'SIGKILL');
      }
    }, 20);
    const killed = await runCli(['train', configFile, '--name', 'killed'], {
      onSpawn: (p) => {
        pid = p;
      },
    });
    clearInterval(watcher);
    assert.equal(killed.signal, 'SIGKILL', `the controller was not killed: ${killed.stderr}`);
    assert.ok(killedAt >= 3 && killedAt < STEPS, `killed after ${killedAt} steps`);
    const before = findLatestCheckpoint(killedDir);
    assert.ok(before !== null && before.step < STEPS, 'a checkpoint before the end');

    const resumed = await runCli(['train', '--resume', killedDir]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming .* after step ${before.step}`));

    // Same final step; every step's metrics exactly once.
    const out = JSON.parse(resumed.stdout.trim().split('\n').pop()!);
    assert.equal(out.step, STEPS);
    assert.equal(findLatestCheckpoint(killedDir)?.step, STEPS);
    const { rows } = readMetrics(join(killedDir, 'metrics.jsonl'));
    assert.deepEqual(
      rows.map((r) => r.step),
      Array.from({ length: STEPS }, (_, i) => i + 1),
    );

    // Same data order (prompt ids per step) and the same samples as the uninterrupted run.
    const a = rolloutsByStep(join(dir, 'runs', 'full'));
    const b = rolloutsByStep(killedDir);
    assert.equal(b.size, STEPS);
    const seen: string[] = [];
    for (let step = 1; step <= STEPS; step++) {
      assert.deepEqual(promptIds(b.get(step)!, 2), promptIds(a.get(step)!, 2), `prompt ids of step ${step}`);
      seen.push(...promptIds(b.get(step)!, 2));
    }
    // 24 prompts over 10 problems: every problem in each epoch exactly once (no loss, no repeat).
    for (let e = 0; e < 2; e++) {
      assert.equal(new Set(seen.slice(e * 10, (e + 1) * 10)).size, 10, `epoch ${e}`);
    }
    for (let step = before.step + 1; step <= STEPS; step++) {
      assert.deepEqual(
        b.get(step)!.map((r) => r.response),
        a.get(step)!.map((r) => r.response),
        `responses of step ${step} (sampling seeds and weights restored)`,
      );
    }
    assert.ok(!existsSync(join(killedDir, 'checkpoints', `step-00000${before.step}.tmp`)));
  });

  test('SIGINT stops after the step with a checkpoint and exit code 130; --resume finishes with 0', async () => {
    const runDir = join(dir, 'runs', 'interrupted');
    let pid = 0;
    let signalled = false;
    const watcher = setInterval(() => {
      if (pid !== 0 && !signalled && readMetrics(join(runDir, 'metrics.jsonl')).rows.length >= 2) {
        signalled = true;
        process.kill(pid, 'SIGINT');
      }
    }, 20);
    const stopped = await runCli(
      ['train', configFile, '--name', 'interrupted', '--set', 'run.max_steps=200'],
      {
        onSpawn: (p) => {
          pid = p;
        },
      },
    );
    clearInterval(watcher);
    assert.equal(stopped.code, EXIT_INTERRUPTED, stopped.stderr);
    const out = JSON.parse(stopped.stdout.trim().split('\n').pop()!);
    assert.equal(out.aborted, true);
    assert.ok(out.step >= 2 && out.step < 200, `stopped at ${out.step}`);
    assert.equal(findLatestCheckpoint(runDir)?.step, out.step); // a checkpoint of the step it stopped at
    const resumed = await runCli(['train', '--resume', runDir, '--set', `run.max_steps=${out.step + 1}`]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout.trim().split('\n').pop()!).aborted, false);
  });
});

// Dynamic sampling (DAPO) draws a varying number of prompts per step: a kill and --resume must still
// give the same prompts at every step (the sampler's saved position covers every extra round).
describe('resume after SIGKILL under dynamic sampling', () => {
  let dir: string;
  let configFile: string;
  const STEPS = 4;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-resume-ds-'));
    const setup = await makeTinySetup(dir, 10);
    // A reward that splits groups at random-looking places (parity of the response length), so that
    // some groups are mixed and some uniform: rounds vary from step to step.
    const reward = join(dir, 'parity-reward.mjs');
    writeFileSync(reward, 'export default ({ response }) => String(response).length % 2;\n');
    configFile = join(dir, 'cfg.yaml');
    const yaml = tinyConfigYaml({
      model: setup.model.dir,
      train: setup.train,
      runDir: join(dir, 'runs'),
      algo: 'grpo',
    })
      .replace('max_steps: 3', `max_steps: ${STEPS}`)
      .replace(
        '  mini_batch_size: 2\n',
        '  mini_batch_size: 2\n  dynamic_sampling: true\n  max_sampling_rounds: 3\n',
      )
      .replace('reward:\n', `reward:\n  custom: ${reward}\n`);
    writeFileSync(configFile, yaml);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('same prompts drawn at every step, same samples after the checkpoint', async () => {
    const full = await runCli(['train', configFile, '--name', 'full']);
    assert.equal(full.code, 0, full.stderr);
    const killedDir = join(dir, 'runs', 'killed');
    let pid = 0;
    const watcher = setInterval(() => {
      if (pid !== 0 && readMetrics(join(killedDir, 'metrics.jsonl')).rows.length >= 3) {
        process.kill(pid, 'SIGKILL');
        pid = 0;
      }
    }, 20);
    const killed = await runCli(['train', configFile, '--name', 'killed'], { onSpawn: (p) => (pid = p) });
    clearInterval(watcher);
    assert.equal(killed.signal, 'SIGKILL', `the controller was not killed: ${killed.stderr}`);
    const resumed = await runCli(['train', '--resume', killedDir]);
    assert.equal(resumed.code, 0, resumed.stderr);

    const drawn = (d: string) =>
      readMetrics(join(d, 'metrics.jsonl')).rows.map((r) => r['sampling/prompts_drawn']);
    const fullDir = join(dir, 'runs', 'full');
    assert.deepEqual(drawn(killedDir), drawn(fullDir));
    assert.ok(
      drawn(fullDir).some((x) => (x as number) > 4),
      `some step drew an extra round: ${drawn(fullDir)}`,
    );
    const a = rolloutsByStep(fullDir);
    const b = rolloutsByStep(killedDir);
    for (let step = 1; step <= STEPS; step++) {
      assert.deepEqual(promptIds(b.get(step)!, 2), promptIds(a.get(step)!, 2), `prompt ids of step ${step}`);
      if (step > 2)
        assert.deepEqual(
          b.get(step)!.map((r) => r.response),
          a.get(step)!.map((r) => r.response),
        );
    }
  });
});
