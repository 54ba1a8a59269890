import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loraParams, targetParams } from './lora.ts';
import { countParams, modelShapeFromHf, type PlanSettings, planMemory } from './memory.ts';

const QWEN25_05B = modelShapeFromHf(
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', 'bench', 'plan', 'qwen2.5-0.5b.json'), 'utf8'),
  ),
);
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const LORA = { rank: 64, targetModules: ALL, dropout: 0 };
const STEP: PlanSettings = {
  numRanks: 1,
  device: 'cuda',
  computeBytes: 2,
  algo: 'ppo',
  withRef: true,
  promptsPerStep: 64,
  numSamples: 8,
  maxPromptTokens: 512,
  maxNewTokens: 1024,
  microBatchTokens: 8192,
  gradCheckpointing: true,
  offloadOptimizer: false,
  deviceBytes: 80e9,
};
const bytesOf = (lines: { name: string; bytes: number }[], name: string) =>
  lines.find((l) => l.name === name)?.bytes;

describe('memory plan with LoRA', () => {
  test("adapter parameters are PEFT's count (peft 0.21.2 print of Qwen2.5-0.5B, r = 64, all 7 projections)", () => {
    assert.equal(loraParams(QWEN25_05B, LORA), 35_192_832);
    assert.equal(
      loraParams(QWEN25_05B, { ...LORA, rank: 8, targetModules: ['q_proj', 'v_proj'] }),
      24 * 8 * (896 + 896 + 896 + 128),
    );
  });

  test('no optimiser state or gradients for the base, no reference copy, a merged copy while generating', () => {
    const full = planMemory(QWEN25_05B, STEP);
    const lora = planMemory(QWEN25_05B, { ...STEP, lora: LORA });
    const P = countParams(QWEN25_05B);
    const names = (ls: { name: string }[]) => ls.map((l) => l.name);
    assert.ok(!names(lora.resident).some((n) => n.endsWith('AdamW moments')));
    assert.equal(bytesOf(lora.resident, 'reference weights'), 0);
    assert.equal(bytesOf(lora.resident, 'policy base weights (frozen)'), 2 * P);
    assert.equal(bytesOf(lora.resident, 'policy adapters + AdamW'), 12 * 35_192_832);
    assert.equal(bytesOf(lora.training, 'gradients (adapters)'), 4 * (35_192_832 + 896));
    assert.equal(bytesOf(lora.generation, 'merged target weights'), 2 * targetParams(QWEN25_05B, LORA));
    assert.equal(bytesOf(full.resident, 'policy AdamW moments'), 8 * P);
    // weights + moments + reference of two roles (16 B + 2 B per param) against 2 B base + 12 B per adapter param
    assert.ok(lora.peakBytes < full.peakBytes - 10 * P, `${lora.peakBytes} vs ${full.peakBytes}`);
    assert.equal(lora.numParams, full.numParams);
  });

  test('under N ranks the frozen base and the adapters shard; no merged copy (the generation copy merges)', () => {
    const lora = planMemory(QWEN25_05B, { ...STEP, numRanks: 4, lora: LORA });
    assert.equal(bytesOf(lora.resident, 'policy base weights (frozen)'), (2 * countParams(QWEN25_05B)) / 4);
    assert.equal(bytesOf(lora.generation, 'merged target weights'), undefined);
    assert.throws(
      () => planMemory(QWEN25_05B, { ...STEP, lora: { ...LORA, targetModules: ['qkv'] } }),
      /qkv is not one of q_proj/,
    );
  });
});
