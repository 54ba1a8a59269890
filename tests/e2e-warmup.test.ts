// Warm-up mode end to end on CPU: SFT on verified solutions into <run>/sft/, then PPO from it (the SFT
// model is also the reference and the critic's start). Also: an aborted run stops with a checkpoint
// and a resume in the same process finishes it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineClient } from '../src/engine/index.ts';
import { runTraining } from '../src/rl/trainer.ts';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { tinyProblems } from './fixtures/tiny-model.ts';
import { makeTinySetup, type TinySetup, tinyConfig, tinyConfigYaml } from './fixtures/train-setup.ts';

describe('e2e: warm-up SFT then RL; abort and resume', () => {
  let dir: string;
  let setup: TinySetup;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-warmup-'));
    setup = await makeTinySetup(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('sft.enabled trains <run>/sft first and starts RL (policy, ref, critic) from it', async () => {
    const sftData = join(dir, 'sft.jsonl');
    writeFileSync(
      sftData,
      tinyProblems(12)
        .map(
          (p) =>
            `${JSON.stringify({ problem: p.problem, response: `The answer is \\boxed{${p.answer}}.` })}\n`,
        )
        .join(''),
    );
    const runDir = join(dir, 'runs', 'warm');
    const cfg = tinyConfig(
      tinyConfigYaml({ model: setup.model.dir, train: setup.train, runDir: join(dir, 'runs'), algo: 'ppo' }),
      [
        'sft.enabled=true',
        `sft.data=${sftData}`,
        'sft.epochs=8',
        'sft.lr=1e-2',
        'rollout.max_new_tokens=12',
        'sft.batch_size=4',
        'run.max_steps=1',
      ],
    );
    const logs: string[] = [];
    const res = await runTraining(cfg, { runDir, log: (l) => logs.push(l) });
    assert.equal(res.step, 1);
    assert.ok(existsSync(join(runDir, 'sft', 'config.json')), 'the SFT model is a Hugging Face folder');
    assert.ok(!existsSync(join(runDir, 'sft.tmp')));
    const sftLoss = readFileSync(join(runDir, 'sft', 'sft_metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss as number);
    assert.equal(sftLoss.length, 24, '8 epochs × 12 examples / batch 4');
    assert.ok(
      sftLoss[sftLoss.length - 1] < sftLoss[0] * 0.5,
      `SFT loss fell: ${sftLoss[0]} → ${sftLoss.at(-1)}`,
    );
    assert.ok(logs.some((l) => l.includes('warm-up SFT')));
    const [row] = readMetrics(join(runDir, 'metrics.jsonl')).rows;
    // The reference is the SFT model: KL is 0 before the first RL update (it would not be against the base).
    assert.ok(Math.abs(row['kl/mean'] as number) < 1e-5, `kl/mean ${row['kl/mean']}`);
    // RL samples from the SFT model: its phrase shows up (a random model writes it with p ≈ 0.02 here).
    const responses = readFileSync(join(runDir, 'rollouts', 'step-000001.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).response as string);
    assert.ok(
      responses.some((r) => r.includes('The answer')),
      responses.join(' | '),
    );
  });

  test('abort stops after the step with a checkpoint; resume finishes the run', async (t) => {
    const runDir = join(dir, 'runs', 'abort');
    const cfg = tinyConfig(
      tinyConfigYaml({ model: setup.model.dir, train: setup.train, runDir: join(dir, 'runs'), algo: 'grpo' }),
      ['run.save_every=0'],
    );
    const ac = new AbortController();
    // One engine for both runs (hooks.engine): the trainer loads its roles afresh and leaves it running.
    const engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    t.after(() => engine.shutdown());
    const first = await runTraining(cfg, {
      runDir,
      signal: ac.signal,
      log: () => {},
      onStep: () => ac.abort(),
      engine,
    });
    assert.equal(first.aborted, true);
    assert.equal(first.step, 1);
    assert.equal(findLatestCheckpoint(runDir)?.step, 1, 'a checkpoint at the step where it stopped');
    const second = await runTraining(cfg, { runDir, resume: true, log: () => {}, engine });
    assert.equal(second.step, 3);
    assert.equal(second.aborted, false);
    // Resuming a finished run does nothing (and needs no engine).
    const third = await runTraining(cfg, { runDir, resume: true, log: () => {} });
    assert.deepEqual([third.step, third.lastCheckpoint?.step, third.lastMetrics], [3, 3, null]);
    assert.deepEqual(
      readMetrics(join(runDir, 'metrics.jsonl')).rows.map((r) => r.step),
      [1, 2, 3],
    );
  });
});
