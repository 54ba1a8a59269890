// The planner against the engine: a PPO step of a small model on CPU (fp32, one process), its peak
// memory per phase measured above the process's baseline (engine/tests/peak_memory.py says how), and
// the planner's estimate of each phase within 25% of it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultPython, ENGINE_DIR } from '../engine/client.ts';
import { type MemoryLine, modelShapeFromHf, planMemory } from './memory.ts';

const MODEL = {
  model_type: 'qwen2',
  vocab_size: 4096,
  hidden_size: 256,
  intermediate_size: 1024,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 1024,
};
const STEP = { prompts: 4, n: 4, prompt_len: 32, max_new_tokens: 128, micro_batch_tokens: 1280 };
const TOLERANCE = 0.25;

test('the estimate of each phase is within 25% of the peak measured on CPU', {
  skip: process.platform !== 'linux' && 'the measurement reads /proc (VmHWM, clear_refs)',
  timeout: 180000,
}, () => {
  const out = execFileSync(
    defaultPython(),
    [join(ENGINE_DIR, 'tests', 'peak_memory.py'), JSON.stringify({ config: MODEL, ...STEP })],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } },
  );
  const measured = JSON.parse(out.trim().split('\n').at(-1) as string) as {
    generation: number;
    training: number;
  };
  const plan = planMemory(modelShapeFromHf(MODEL), {
    numRanks: 1,
    device: 'cpu',
    computeBytes: 4,
    algo: 'ppo',
    withRef: true,
    promptsPerStep: STEP.prompts,
    numSamples: STEP.n,
    maxPromptTokens: STEP.prompt_len,
    maxNewTokens: STEP.max_new_tokens,
    microBatchTokens: STEP.micro_batch_tokens,
    gradCheckpointing: false,
    offloadOptimizer: false,
    deviceBytes: 64e9,
  });
  const sum = (lines: MemoryLine[]) => lines.reduce((a, l) => a + l.bytes, 0);
  const estimate = {
    generation: sum(plan.resident) + sum(plan.generation),
    training: sum(plan.resident) + sum(plan.training),
  };
  for (const phase of ['generation', 'training'] as const) {
    const error = estimate[phase] / measured[phase] - 1;
    assert.ok(
      Math.abs(error) <= TOLERANCE,
      `${phase}: estimate ${estimate[phase]} B, measured ${measured[phase]} B (${(100 * error).toFixed(1)}%)`,
    );
  }
  // both phases matter here: neither is just the resident weights and moments
  assert.ok(measured.training > 2 * sum(plan.resident) && measured.generation > sum(plan.resident));
});
