// The planner's generation figure follows the engine's waves: the sizing rule against the fixture the
// engine's pytest reads too (tests/fixtures/generation-waves.json), the plan's KV-cache line against
// that rule, and the shipped 7B presets on 8 × 80 GB (README) reported as fitting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../engine/client.ts';
import {
  CPU_CACHE_BYTES,
  CUDA_CACHE_SHARE_OF_FREE,
  enginePromptsPerWave,
  type MemoryPlan,
  modelShapeFromHf,
  planMemory,
} from './memory.ts';

interface WaveCase {
  name: string;
  num_layers: number;
  num_kv_heads: number;
  head_dim: number;
  seq_len: number;
  item_bytes: number;
  n: number;
  budget_bytes: number;
  max_rows_per_wave: number | null;
  prompts_per_wave: number;
}
const FIXTURE = join(REPO_ROOT, 'tests', 'fixtures', 'generation-waves.json');
const CASES = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cases: WaveCase[] }).cases;

const QWEN25_7B = {
  vocab_size: 152064,
  hidden_size: 3584,
  intermediate_size: 18944,
  num_hidden_layers: 28,
  num_attention_heads: 28,
  num_key_value_heads: 4,
  tie_word_embeddings: false,
  max_position_embeddings: 4096,
};

const kvLine = (plan: MemoryPlan) => plan.generation.find((l) => l.name === 'KV cache')?.bytes;

describe('generation waves: planner = engine', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = enginePromptsPerWave({
        numLayers: c.num_layers,
        numKvHeads: c.num_kv_heads,
        headDim: c.head_dim,
        seqLen: c.seq_len,
        itemBytes: c.item_bytes,
        numSamples: c.n,
        budgetBytes: c.budget_bytes,
        maxRowsPerWave: c.max_rows_per_wave,
      });
      assert.equal(got, c.prompts_per_wave);
    });
  }

  it("the CPU plan's KV cache is one wave of the fixture's CPU case", () => {
    const c = CASES.find((x) => x.budget_bytes === CPU_CACHE_BYTES) as WaveCase;
    const m = modelShapeFromHf({
      vocab_size: 4096,
      hidden_size: c.num_kv_heads * c.head_dim * 2,
      intermediate_size: 1024,
      num_hidden_layers: c.num_layers,
      num_attention_heads: 4,
      num_key_value_heads: c.num_kv_heads,
    });
    assert.equal(m.headDim, c.head_dim);
    const plan = planMemory(m, {
      numRanks: 1,
      device: 'cpu',
      computeBytes: c.item_bytes as 4,
      algo: 'grpo',
      withRef: false,
      promptsPerStep: 4000,
      numSamples: c.n,
      maxPromptTokens: 32,
      maxNewTokens: c.seq_len - 32,
      microBatchTokens: 1024,
      gradCheckpointing: false,
      offloadOptimizer: false,
      deviceBytes: 64e9,
    });
    assert.equal(plan.waves.promptsPerWave, c.prompts_per_wave);
    assert.equal(plan.waves.numWaves, Math.ceil(4000 / c.prompts_per_wave));
    const rowBytes = 2 * c.num_layers * c.num_kv_heads * c.head_dim * c.seq_len * c.item_bytes;
    assert.equal(kvLine(plan), c.prompts_per_wave * c.n * rowBytes);
  });
});

describe('the shipped 7B presets on 8 × 80 GB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-plan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(QWEN25_7B));
  const plan = (preset: string, ...sets: string[]) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'simplerl.mjs'),
          'plan',
          join(REPO_ROOT, 'configs', preset),
          '--json',
          ...['model.path', dir, 'engine.nproc', '8', ...sets].flatMap((v, i, a) =>
            i % 2 ? [] : ['--set', `${v}=${a[i + 1]}`],
          ),
        ],
        { encoding: 'utf8' },
      ),
    ) as MemoryPlan;

  for (const preset of ['zero.yaml', 'warmup.yaml']) {
    it(`${preset} fits, generating in the waves the engine would run`, () => {
      const p = plan(preset);
      assert.equal(p.fits, true, `peak ${p.peakBytes} (${p.peakPhase})`);
      const resident = p.resident.reduce((a, l) => a + l.bytes, 0);
      assert.equal(p.waves.kvBudgetBytes, Math.floor(CUDA_CACHE_SHARE_OF_FREE * (80e9 - resident)));
      const m = modelShapeFromHf(QWEN25_7B);
      const engine = enginePromptsPerWave({
        numLayers: m.numLayers,
        numKvHeads: m.numKvHeads,
        headDim: m.headDim,
        seqLen: 1024 + 3000,
        itemBytes: 2,
        numSamples: 8,
        budgetBytes: p.waves.kvBudgetBytes,
        maxRowsPerWave: null,
      });
      assert.equal(p.waves.promptsPerWave, engine);
      assert.equal(kvLine(p), engine * 8 * 4024 * 28 * 2 * 4 * 128 * 2);
    });
  }

  it('rollout.max_rows_per_wave caps the wave (whole prompts)', () => {
    const p = plan('zero.yaml', 'rollout.max_rows_per_wave', '60');
    assert.deepEqual([p.waves.promptsPerWave, p.waves.rowsPerWave, p.waves.numWaves], [7, 56, 19]);
  });
});
