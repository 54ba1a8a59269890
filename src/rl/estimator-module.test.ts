// A user's TypeScript module registers an estimator (algo.estimator_module), as the README shows.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig, resolveConfig } from '../config/index.ts';
import {
  advantageEstimatorNames,
  computeAdvantages,
  getAdvantageEstimator,
  loadEstimatorModule,
  registerAdvantageEstimator,
} from './estimators.ts';

const MODULE = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'median-estimator.ts');

describe('user estimator modules', () => {
  test('the README example registers grpo-median; its advantages are hand-checkable', async () => {
    assert.deepEqual(await loadEstimatorModule(MODULE), ['grpo-median']);
    assert.deepEqual(await loadEstimatorModule(MODULE), ['grpo-median']); // loading again is a no-op
    assert.ok(advantageEstimatorNames().includes('grpo-median'));
    // two groups of 3; one token per response except response 1 (2 tokens, reward on its last)
    const out = computeAdvantages('grpo-median', {
      tokenRewards: Float32Array.of(1, 0, -1, 0.5, 1, 1, 1),
      responseOffsets: Int32Array.of(0, 1, 3, 4, 5, 6, 7),
      groupSize: 3,
    });
    // group 0 scores 1, -1, 0.5 → median 0.5; group 1 all 1 → 0
    assert.deepEqual(Array.from(out.advantages), [0.5, -1.5, -1.5, 0, 0, 0, 0]);
  });
  test('names are checked: a duplicate is refused, an unknown one lists the valid names', () => {
    assert.throws(
      () => registerAdvantageEstimator('grpo', getAdvantageEstimator('grpo')),
      /already registered/,
    );
    assert.throws(
      () => getAdvantageEstimator('nope'),
      /valid names are gae, grpo, grpo-no-std, rloo, reinforce\+\+/,
    );
  });
  test('the config accepts a module-registered name only with algo.estimator_module', () => {
    const text = (extra: string) => `algo: {name: grpo, estimator: grpo-median${extra}}\n`;
    const sets = ['model.path=/m', 'data.train=/d'];
    assert.throws(
      () => resolveConfig(parseConfig(text(''), 'c.yaml', { sets }), 'c.yaml'),
      /unknown advantage estimator/,
    );
    const cfg = resolveConfig(
      parseConfig(text(`, estimator_module: ${MODULE}`), 'c.yaml', { sets }),
      'c.yaml',
    );
    assert.equal(cfg.algo.estimator, 'grpo-median');
  });
});
