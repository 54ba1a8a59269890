// End to end on CPU through the real engine: 3 PPO steps and 3 GRPO steps on a tiny random Qwen2
// checkpoint made by the test write metrics, rollouts and checkpoints that transformers loads.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, resolveConfig } from '../src/config/index.ts';
import { runTraining } from '../src/rl/trainer.ts';
import { findLatestCheckpoint, type MetricsRow, readMetrics } from '../src/run/index.ts';
import { TextTokenizer } from '../src/tokenizer/tokenizer.ts';
import {
  makeTinySetup,
  runPython,
  type TinySetup,
  TRANSFORMERS_LOAD_CHECK,
  tinyConfig,
  tinyConfigYaml,
} from './fixtures/train-setup.ts';

const REQUIRED_KEYS = [
  'reward/mean',
  'acc/train',
  'format/rate',
  'response_len/mean',
  'response_len/max',
  'response_len/clip_rate',
  'reflection/rate',
  'kl/mean',
  'kl/coef',
  'actor/pg_loss',
  'actor/entropy',
  'actor/clip_frac',
  'actor/grad_norm',
  'actor/lr',
  'perf/tokens_per_s',
  'time/generate_s',
  'time/reward_s',
  'time/forward_s',
  'time/train_s',
  'time/step_s',
];
const CRITIC_KEYS = ['critic/vf_loss', 'critic/grad_norm', 'critic/lr'];

describe('e2e: train on CPU through the real engine', () => {
  let dir: string;
  let setup: TinySetup;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-e2e-'));
    setup = await makeTinySetup(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const algo of ['ppo', 'grpo'] as const) {
    test(`3 ${algo} steps write metrics, rollouts and a checkpoint transformers loads`, async () => {
      const runDir = join(dir, 'runs', algo);
      const cfg = tinyConfig(
        tinyConfigYaml({ model: setup.model.dir, train: setup.train, runDir: join(dir, 'runs'), algo }),
        // A random model never boxes: every reward is -1 and every group advantage 0, so GRPO's policy
        // moves only through the entropy bonus (PPO's through the critic's baseline).
        // GRPO also validates in training: greedy on 4 held-out problems at steps 2 and 3.
        algo === 'grpo'
          ? [
              'algo.entropy_coef=0.01',
              'algo.loss_norm=constant',
              `data.val=${setup.val}`,
              'eval.every=2',
              'eval.temperature=0',
            ]
          : [],
      );
      const seen: MetricsRow[] = [];
      const result = await runTraining(cfg, { runDir, onStep: (m) => seen.push(m), log: () => {} });
      assert.equal(result.step, 3);
      assert.equal(result.aborted, false);

      // metrics.jsonl: one row per step with the run layout's keys, all finite
      const { rows, numSkipped } = readMetrics(join(runDir, 'metrics.jsonl'));
      assert.equal(numSkipped, 0);
      assert.deepEqual(
        rows.map((r) => r.step),
        [1, 2, 3],
      );
      assert.deepEqual(rows, seen);
      for (const row of rows) {
        for (const k of [...REQUIRED_KEYS, ...(algo === 'ppo' ? CRITIC_KEYS : [])]) {
          assert.equal(typeof row[k], 'number', `step ${row.step}: ${k} missing`);
          assert.ok(Number.isFinite(row[k] as number), `${k} not finite`);
        }
        if (algo === 'grpo') {
          assert.equal(row['critic/vf_loss'], undefined);
          const hasVal = row.step >= 2;
          for (const k of ['acc', 'format_rate', 'response_len', 'reflection_rate']) {
            assert.equal(
              typeof row[`val/val/${k}`],
              hasVal ? 'number' : 'undefined',
              `step ${row.step} val/val/${k}`,
            );
          }
        }
        assert.ok((row['response_len/max'] as number) <= 8);
        assert.ok(Number(row['time/step_s']) > 0);
      }
      // KL: ppo puts 0.01 in the reward; grpo 0.001 in the loss. After the first update the policy moved.
      assert.equal(rows[0]['kl/coef'], algo === 'ppo' ? 0.01 : 0.001);
      assert.ok(Math.abs(rows[0]['kl/mean'] as number) < 1e-5, 'policy = ref before the first update');
      assert.ok(Math.abs(rows[2]['kl/mean'] as number) > 1e-6, 'the policy moved away from the reference');
      // lr: warm-up 0, constant cosine start
      assert.ok((rows[0]['actor/lr'] as number) > 0);

      // rollouts: every sample of each step (log_rollouts: null), 4 prompts × 2 samples
      const files = readdirSync(join(runDir, 'rollouts')).sort();
      assert.deepEqual(files, ['step-000001.jsonl', 'step-000002.jsonl', 'step-000003.jsonl']);
      const lines = readFileSync(join(runDir, 'rollouts', files[0]), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(lines.length, 8);
      for (const l of lines) {
        for (const k of [
          'step',
          'prompt_id',
          'prompt',
          'response',
          'gold',
          'extracted',
          'correct',
          'reward',
          'finished',
          'num_tokens',
        ]) {
          assert.ok(k in l, `rollout key ${k}`);
        }
        assert.ok([1, -0.5, -1].includes(l.reward), `reward ${l.reward} from the original table`);
      }
      assert.equal(lines[0].prompt_id, lines[1].prompt_id, 'samples of one prompt are adjacent');

      // checkpoints: step 2 (save_every) and step 3 (the end); LATEST names step 3
      const latest = findLatestCheckpoint(runDir);
      assert.equal(latest?.name, 'step-000003');
      assert.ok(existsSync(join(runDir, 'checkpoints', 'step-000002', 'controller.json')));
      assert.equal(readFileSync(join(runDir, 'checkpoints', 'LATEST'), 'utf8').trim(), 'step-000003');
      assert.equal(latest.controller.step, 3);
      assert.equal(latest.controller.num_optimizer_steps, 6, '3 steps × 2 mini-batches');
      assert.ok(existsSync(join(latest.dir, 'policy', 'optimizer.pt')));
      assert.equal(existsSync(join(latest.dir, 'critic')), algo === 'ppo');

      // the resolved config reloads to the same config
      const again = resolveConfig(loadConfig(join(runDir, 'config.yaml')), 'config.yaml');
      assert.deepEqual(again.algo, cfg.algo);

      // transformers loads the policy checkpoint (weights + tokenizer) and computes finite logits
      const text = 'Compute 3 + 4.';
      const info = JSON.parse(runPython(TRANSFORMERS_LOAD_CHECK, [join(latest.dir, 'policy'), text]));
      assert.equal(info.arch, 'Qwen2ForCausalLM');
      assert.equal(info.finite, true);
      assert.equal(info.vocab, setup.model.config.vocab_size);
      const tok = await TextTokenizer.fromDir(join(latest.dir, 'policy'));
      assert.deepEqual(info.ids, tok.encode(text));
    });
  }

  test('drop_uniform_groups: all-equal groups leave the update; the policy does not move', async () => {
    // A random model never boxes, so every group is uniform (-1 × n) and every group is dropped.
    const runDir = join(dir, 'runs', 'drop');
    const cfg = tinyConfig(
      tinyConfigYaml({ model: setup.model.dir, train: setup.train, runDir: join(dir, 'runs'), algo: 'grpo' }),
      ['algo.drop_uniform_groups=true', 'algo.entropy_coef=0.01', 'run.max_steps=2', 'run.save_every=0'],
    );
    await runTraining(cfg, { runDir, log: () => {} });
    const { rows } = readMetrics(join(runDir, 'metrics.jsonl'));
    assert.deepEqual(
      rows.map((r) => [r.step, r['train/groups_kept'], r['actor/pg_loss']]),
      [
        [1, 0, undefined],
        [2, 0, undefined],
      ],
    );
    assert.equal(rows[1]['kl/mean'], 0, 'no update: policy = reference');
    assert.equal(findLatestCheckpoint(runDir)?.controller.num_optimizer_steps, 0);
  });
});
