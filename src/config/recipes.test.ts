// Named recipes, the presets in configs/, and the registry's one source of names.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LOSS_AGGS } from '../rl/loss-aggs.ts';
import { LOSS_AGG_NAMES, RECIPE_NAMES } from '../rl/names.ts';
import { loadConfig, parseConfig, resolveConfig } from './index.ts';
import { RECIPES } from './recipes.ts';

const configs = join(import.meta.dirname, '..', '..', 'configs');
const resolved = (text: string, sets: string[] = []) =>
  resolveConfig(parseConfig(text, 'c.yaml', { sets: ['model.path=/m', 'data.train=/d', ...sets] }), 'c.yaml');

describe('algo.recipe', () => {
  test('dapo: clip-higher, dynamic sampling, overlong buffer = 20% of the limit, no KL', () => {
    const a = resolved('rollout: {max_new_tokens: 200}\nalgo: {recipe: dapo}\n').algo;
    assert.deepEqual([a.name, a.estimator, a.clip, a.clip_high], ['grpo', 'grpo', 0.2, 0.28]);
    assert.deepEqual(
      [a.dynamic_sampling, a.max_sampling_rounds, a.overlong_buffer, a.overlong_penalty],
      [true, 10, 40, 1],
    );
    assert.deepEqual([a.loss_agg, a.kl.coef], ['token-mean', 0]);
  });
  test('dr-grpo and gspo', () => {
    const d = resolved('algo: {recipe: dr-grpo}\n').algo;
    assert.deepEqual(
      [d.name, d.estimator, d.loss_agg, d.kl.coef],
      ['grpo', 'grpo-no-std', 'seq-mean-token-sum-norm', 0],
    );
    const g = resolved('algo: {recipe: gspo}\n').algo;
    assert.deepEqual(
      [g.policy_loss, g.gspo_clip, g.gspo_clip_high, g.loss_agg],
      ['gspo', 3e-4, 4e-4, 'seq-mean-token-mean'],
    );
  });
  test('keys named in the file or by --set win over the recipe', () => {
    const a = resolved('algo: {recipe: dapo, clip_high: 0.3, kl: {estimator: k1}}\n', [
      'algo.max_sampling_rounds=2',
    ]).algo;
    assert.deepEqual([a.clip_high, a.max_sampling_rounds, a.kl.estimator, a.kl.coef], [0.3, 2, 'k1', 0]);
  });
  test('an unknown recipe or estimator lists the valid names', () => {
    assert.throws(
      () => resolved('algo: {recipe: dappo}\n'),
      /algo\.recipe[\s\S]*dr-grpo[\s\S]*dapo[\s\S]*gspo/,
    );
    assert.throws(
      () => resolved('algo: {name: grpo, estimator: grp}\n'),
      /unknown advantage estimator; valid names are gae, grpo, grpo-no-std, rloo, reinforce\+\+/,
    );
  });
  test('every recipe name has a recipe and every aggregation name an implementation', () => {
    assert.deepEqual(Object.keys(RECIPES).sort(), [...RECIPE_NAMES].sort());
    assert.deepEqual(Object.keys(LOSS_AGGS).sort(), [...LOSS_AGG_NAMES].sort());
  });
  test('seq-mean-token-sum-norm divides by rollout.max_new_tokens only (verl agg_loss)', () => {
    const cfg = resolved('rollout: {max_new_tokens: 176}\nalgo: {loss_agg: seq-mean-token-sum-norm}\n');
    assert.deepEqual(
      [LOSS_AGGS['seq-mean-token-sum-norm'].engineAgg, LOSS_AGGS['seq-mean-token-sum-norm'].lossNorm(cfg)],
      ['seq-mean-token-sum', 176],
    );
    const c = resolved(
      'rollout: {max_new_tokens: 176}\nalgo: {loss_norm: constant, prompts_per_step: 16, mini_batch_size: 4, n_samples: 8}\n',
    );
    assert.equal(LOSS_AGGS['token-mean'].lossNorm(c), 4 * 8 * 176); // Dr. GRPO constant: differs by 32 sequences
  });
});

describe('configs/*.yaml', () => {
  test('every preset loads and resolves with model.path and data.train given', () => {
    for (const f of readdirSync(configs).filter((x) => x.endsWith('.yaml'))) {
      const file = join(configs, f);
      const cfg = resolveConfig(loadConfig(file, { sets: ['model.path=/m', 'data.train=/d'] }), file);
      assert.ok(cfg.algo.name, f);
    }
  });
  test('demo.yaml resolves under every recipe (simplerl demo --algo NAME)', () => {
    const file = join(configs, 'demo.yaml');
    for (const recipe of RECIPE_NAMES) {
      const sets = ['model.path=/m', 'data.train=/d', `algo.recipe=${recipe}`];
      const c = resolveConfig(loadConfig(file, { sets }), file);
      assert.equal(c.algo.recipe, recipe);
      assert.equal(c.algo.kl.coef, 0);
    }
  });
  test('zoo.yaml holds the SimpleRL-Zoo values', () => {
    const file = join(configs, 'zoo.yaml');
    const c = resolveConfig(loadConfig(file, { sets: ['model.path=/m', 'data.train=/d'] }), file);
    assert.deepEqual([c.algo.name, c.algo.estimator, c.reward.preset], ['grpo', 'grpo', 'zoo']);
    assert.deepEqual(
      [c.algo.kl.coef, c.algo.kl.estimator, c.algo.kl.in, c.algo.entropy_coef],
      [1e-4, 'k3', 'loss', 1e-3],
    );
    assert.deepEqual([c.rollout.temperature, c.algo.mask_truncated], [1, true]);
  });
  test('dapo.yaml holds the DAPO paper settings', () => {
    const file = join(configs, 'dapo.yaml');
    const c = resolveConfig(loadConfig(file, { sets: ['model.path=/m', 'data.train=/d'] }), file);
    assert.deepEqual(
      [c.algo.recipe, c.algo.clip_high, c.algo.overlong_buffer, c.rollout.max_new_tokens],
      ['dapo', 0.28, 4096, 20480],
    );
    assert.deepEqual([c.algo.prompts_per_step, c.algo.n_samples, c.algo.mini_batch_size], [512, 16, 32]);
  });
  test('zero.yaml with algo.name=grpo and algo.estimator=grpo (the README line) resolves', () => {
    const file = join(configs, 'zero.yaml');
    const c = resolveConfig(
      loadConfig(file, { sets: ['model.path=/m', 'algo.name=grpo', 'algo.estimator=grpo'] }),
      file,
    );
    assert.equal(c.algo.estimator, 'grpo');
  });
});
