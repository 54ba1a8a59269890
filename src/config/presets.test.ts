import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, resolveConfig } from './index.ts';

const configs = join(import.meta.dirname, '..', '..', 'configs');

describe('config presets', () => {
  test('zero.yaml holds the v0 hyper-parameters and needs only model.path', () => {
    const file = join(configs, 'zero.yaml');
    assert.throws(() => resolveConfig(loadConfig(file), file), /model\.path is required/);
    const cfg = resolveConfig(loadConfig(file, { sets: ['model.path=/models/qwen'] }), file);
    assert.equal(cfg.algo.name, 'ppo');
    assert.equal(cfg.algo.estimator, 'gae');
    assert.deepEqual([cfg.algo.kl.coef, cfg.algo.kl.estimator, cfg.algo.kl.in], [0.01, 'k1', 'reward']);
    assert.deepEqual(
      [cfg.algo.prompts_per_step, cfg.algo.n_samples, cfg.algo.mini_batch_size],
      [1024, 8, 16],
    );
    assert.deepEqual([cfg.optim.actor_lr, cfg.optim.critic_lr, cfg.optim.min_lr_ratio], [5e-7, 9e-6, 0.1]);
    assert.equal(cfg.rollout.max_prompt_tokens + cfg.rollout.max_new_tokens, 4024);
    assert.equal(cfg.rollout.temperature, 0.6);
    assert.equal(cfg.run.save_every, 4);
  });

  test('warmup.yaml enables SFT before the same RL', () => {
    const file = join(configs, 'warmup.yaml');
    const cfg = resolveConfig(loadConfig(file, { sets: ['model.path=/m'] }), file);
    assert.equal(cfg.sft.enabled, true);
    assert.ok(cfg.sft.data);
    assert.equal(cfg.algo.name, 'ppo');
  });
});
