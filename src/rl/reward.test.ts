import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../config/index.ts';
import { ORIGINAL_REWARD_RULES, ZOO_REWARD_RULES } from '../reward/index.ts';
import { rewardRulesOf } from './reward.ts';

describe('reward table from the config', () => {
  test('presets map to the verifier tables', () => {
    assert.deepEqual(rewardRulesOf(parseConfig('', 'c.yaml').reward), ORIGINAL_REWARD_RULES);
    assert.deepEqual(
      rewardRulesOf(parseConfig('reward:\n  preset: zoo\n', 'c.yaml').reward),
      ZOO_REWARD_RULES,
    );
  });

  test('non-null rules override single entries (the v0 substring format rule)', () => {
    const cfg = parseConfig('reward:\n  rules:\n    format: original\n    wrong: -0.25\n', 'c.yaml');
    assert.deepEqual(rewardRulesOf(cfg.reward), {
      ...ORIGINAL_REWARD_RULES,
      format: 'original',
      wrong: -0.25,
    });
  });
});
