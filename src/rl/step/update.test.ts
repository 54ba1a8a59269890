// The engine loss and its arguments as the update phase sends them (names the engine registers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, resolveConfig } from '../../config/index.ts';
import type { StepContext } from './types.ts';
import { lossArgs, policyLossName } from './update.ts';

function ctxOf(algo: string): StepContext {
  const sets = ['model.path=/m', 'data.train=/d'];
  return { cfg: resolveConfig(parseConfig(`algo: ${algo}\n`, 'c.yaml', { sets }), 'c.yaml') } as StepContext;
}

test('gspo sends its own clip range and no dual clip; grpo its clip-higher and dual clip', () => {
  const gspo = ctxOf('{recipe: gspo}');
  assert.equal(policyLossName(gspo), 'gspo');
  assert.deepEqual(lossArgs(gspo, 0, 'seq-mean-token-mean'), {
    clip_eps: 3e-4,
    clip_eps_high: 4e-4,
    kl_coef: 0,
    kl_estimator: 'k3',
    entropy_coef: 0,
    agg: 'seq-mean-token-mean',
  });
  const dapo = ctxOf('{recipe: dapo, dual_clip: 3}');
  assert.equal(policyLossName(dapo), 'grpo');
  assert.deepEqual(lossArgs(dapo, 0.5, 'token-mean'), {
    clip_eps: 0.2,
    clip_eps_high: 0.28,
    dual_clip: 3,
    kl_coef: 0.5,
    kl_estimator: 'k3',
    entropy_coef: 0,
    agg: 'token-mean',
  });
});
