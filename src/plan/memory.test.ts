import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countCriticParams, countParams, modelShapeFromHf, type PlanSettings, planMemory } from './memory.ts';

// Published parameter counts of the Qwen2.5 family (model cards), from their config.json fields.
const QWEN25_05B = {
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
};
const QWEN25_7B = {
  model_type: 'qwen2',
  vocab_size: 152064,
  hidden_size: 3584,
  intermediate_size: 18944,
  num_hidden_layers: 28,
  num_attention_heads: 28,
  num_key_value_heads: 4,
  tie_word_embeddings: false,
};

const SETTINGS: PlanSettings = {
  numRanks: 1,
  device: 'cuda',
  computeBytes: 2,
  algo: 'ppo',
  withRef: true,
  promptsPerStep: 1024,
  numSamples: 8,
  maxPromptTokens: 1024,
  maxNewTokens: 3000,
  microBatchTokens: 8192,
  gradCheckpointing: true,
  offloadOptimizer: false,
  deviceBytes: 80e9,
};

describe('memory planner', () => {
  it('counts Qwen2.5-0.5B parameters exactly (494,032,768: tied embeddings, qkv bias)', () => {
    // embed 151936·896 = 136,134,656; layer = q 896²+896 + k,v 2·(896·128+128) + o 896² + mlp 3·896·4864 + norms 2·896
    // = 14,912,384; × 24 = 357,897,216; + final norm 896.
    assert.equal(countParams(modelShapeFromHf(QWEN25_05B)), 494_032_768);
  });

  it('counts Qwen2.5-7B parameters exactly (7,615,616,512: untied lm_head)', () => {
    assert.equal(countParams(modelShapeFromHf(QWEN25_7B)), 7_615_616_512);
  });

  it('critic = backbone without lm_head + a hidden→1 head', () => {
    const m = modelShapeFromHf(QWEN25_7B);
    assert.equal(countCriticParams(m), countParams(m) - 152064 * 3584 + 3584);
  });

  it('training state is 16 B per parameter divided by the ranks', () => {
    const m = modelShapeFromHf(QWEN25_05B);
    const one = planMemory(m, { ...SETTINGS, algo: 'grpo', withRef: false });
    const four = planMemory(m, { ...SETTINGS, algo: 'grpo', withRef: false, numRanks: 4 });
    const state = (p: typeof one) =>
      [...p.resident, ...p.training]
        .filter((l) => l.name.startsWith('policy') || l.name.startsWith('gradients'))
        .reduce((a, l) => a + l.bytes, 0);
    assert.equal(state(one), 16 * 494_032_768);
    assert.equal(state(four), (16 * 494_032_768) / 4);
  });

  it('the 7B PPO recipe on one 80 GB GPU does not fit and says which knob to turn', () => {
    const plan = planMemory(modelShapeFromHf(QWEN25_7B), SETTINGS);
    assert.equal(plan.fits, false);
    assert.ok(plan.advice.some((a) => a.includes('engine.nproc')));
  });

  it('a field missing from config.json is named', () => {
    assert.throws(
      () => modelShapeFromHf({ vocab_size: 10 }, 'm/config.json'),
      /m\/config\.json: hidden_size/,
    );
  });
});
