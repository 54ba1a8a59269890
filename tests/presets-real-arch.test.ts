// configs/zero.yaml and configs/warmup.yaml as shipped, shrunk only by --set to CPU size, run 2 RL steps
// through the CLI on a random-weight Qwen2.5-0.5B-architecture model (fewer layers: see
// PRESET_NUM_LAYERS) with the real Qwen2.5 tokenizer and the shipped training set
// (data/math-level3to5.jsonl). Checks the prompt template, the stop ids, the reward path and the
// checkpoints on the real tokenizer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig, resolveConfig } from '../src/config/index.ts';
import { createGrader } from '../src/rl/reward.ts';
import { resolveStopIds } from '../src/rl/trainer.ts';
import { findLatestCheckpoint, readMetrics } from '../src/run/index.ts';
import { renderPrompt } from '../src/tokenizer/prompts.ts';
import { TextTokenizer } from '../src/tokenizer/tokenizer.ts';
import { makeQwen25ArchModel } from './fixtures/qwen25-arch.ts';
import {
  MATH_SAMPLE,
  MATH_SAMPLE_SFT,
  type RealTokenizers,
  realTokenizers,
} from './fixtures/real-tokenizers.ts';
import { REPO_ROOT, runCli, runPython } from './fixtures/train-setup.ts';

/** Layers of the test model (Qwen2.5-0.5B has 24; every other dimension is the real one). */
const PRESET_NUM_LAYERS = 2;

/** The only changes to the shipped presets: CPU size, a temporary run folder, the test model. */
function cpuSets(model: string, runs: string): string[] {
  return [
    `model.path=${model}`,
    `run.dir=${runs}`,
    'run.max_steps=2',
    'run.progress=false',
    'algo.n_samples=2',
    'algo.prompts_per_step=2',
    'algo.mini_batch_size=2',
    'rollout.max_new_tokens=16',
    'optim.micro_batch_tokens=1024',
    'engine.device=cpu',
    'engine.threads=1',
    'reward.threads=1',
  ];
}

const CHECKPOINT_CHECK = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
policy, critic = sys.argv[1], sys.argv[2]
model = AutoModelForCausalLM.from_pretrained(policy, dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(policy)
ids = tok.encode("<|im_start|>hello<|im_end|>")
chat = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
with torch.no_grad():
    logits = model(torch.tensor([ids])).logits
out = {"arch": type(model).__name__, "layers": model.config.num_hidden_layers, "vocab": logits.shape[-1],
       "finite": bool(torch.isfinite(logits).all()), "ids": ids, "eos": tok.eos_token_id, "chat": chat}
if critic != "-":
    value = AutoModelForSequenceClassification.from_pretrained(critic, dtype=torch.float32)
    out["critic"] = type(value).__name__
print(json.dumps(out))
`;

interface RolloutRow {
  prompt: string;
  response: string;
  extracted: string | null;
  reward: number;
  finished: boolean;
  num_tokens: number;
}

function readRollouts(runDir: string, step: number): RolloutRow[] {
  const file = join(runDir, 'rollouts', `step-${String(step).padStart(6, '0')}.jsonl`);
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RolloutRow);
}

/** A finished run of a preset: 2 metrics rows, rollouts in the preset's prompt, a loadable checkpoint. */
function checkRun(runDir: string, modelDir: string, tok: TextTokenizer, isPpo: boolean): void {
  const rows = readMetrics(join(runDir, 'metrics.jsonl')).rows;
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2],
  );
  for (const row of readRollouts(runDir, 1)) {
    assert.ok(row.prompt.startsWith(renderPrompt('qwen25-math-cot', '').split('<|im_start|>user')[0]));
    const promptIds = tok.encode(row.prompt);
    assert.equal(promptIds[0], 151644);
    assert.deepEqual(promptIds.slice(-3), [151644, 77091, 198], 'ends with <|im_start|>assistant\\n');
    assert.ok(row.num_tokens >= 1 && row.num_tokens <= 16);
    if (!row.finished) assert.equal(row.num_tokens, 16);
    // original preset, strict format: a response without a box is -1, a wrong boxed one -0.5.
    if (row.extracted === null) assert.equal(row.reward, -1);
    else assert.ok([1, -0.5, -1].includes(row.reward));
  }
  const ckpt = findLatestCheckpoint(runDir);
  assert.equal(ckpt?.step, 2);
  const policy = join(ckpt!.dir, 'policy');
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja'])
    assert.ok(readFileSync(join(policy, f)).equals(readFileSync(join(modelDir, f))), `${f} copied`);
  const py = JSON.parse(runPython(CHECKPOINT_CHECK, [policy, isPpo ? join(ckpt!.dir, 'critic') : '-']));
  assert.equal(py.arch, 'Qwen2ForCausalLM');
  assert.equal(py.layers, PRESET_NUM_LAYERS);
  assert.equal(py.vocab, 151936);
  assert.equal(py.finite, true);
  assert.deepEqual(py.ids, [151644, 14990, 151645]);
  assert.equal(py.eos, 151643);
  assert.ok(py.chat.startsWith('<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.'), py.chat);
  if (isPpo) assert.equal(py.critic, 'Qwen2ForSequenceClassification');
}

const fixtures = realTokenizers();
const skip = typeof fixtures === 'string' ? fixtures : false;

// The two CLI runs are independent (own run names) and mostly wait on their engines: run side by side.
describe('the presets on a random Qwen2.5-0.5B-architecture model with the real tokenizer', {
  skip,
  concurrency: true,
}, () => {
  let dir: string;
  let model: string;
  let tok: TextTokenizer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simplerl-presets-real-'));
    model = join(dir, 'qwen25-arch');
    await makeQwen25ArchModel(model, (fixtures as RealTokenizers).qwen25, PRESET_NUM_LAYERS);
    tok = await TextTokenizer.fromDir(model);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('zero.yaml: the stop strings resolve to 151645 and 151643; gold solutions earn +1 through the real tokenizer', async () => {
    const cfg = resolveConfig(
      parseConfig(readFileSync(join(REPO_ROOT, 'configs', 'zero.yaml'), 'utf8'), 'configs/zero.yaml', {
        sets: cpuSets(model, join(dir, 'runs')),
      }),
      'configs/zero.yaml',
    );
    assert.deepEqual(tok.eosTokenIds, [151643], 'the base tokenizer stops at <|endoftext|> only');
    assert.deepEqual(
      resolveStopIds(cfg, tok).sort((a, b) => a - b),
      [151643, 151645],
    );
    // MATH's own solutions, encoded and decoded by the real tokenizer, graded by the preset's reward.
    const rows = readFileSync(MATH_SAMPLE_SFT, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { problem: string; response: string });
    const golds = readFileSync(MATH_SAMPLE, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { answer: string }).answer);
    const grader = await createGrader(cfg);
    try {
      const graded = await grader.grade(
        rows.map((r, i) => ({
          gold: golds[i],
          response: tok.decode(tok.encode(r.response)),
          finished: true,
        })),
      );
      assert.equal(graded.filter((g) => g.correct).length, rows.length);
    } finally {
      await grader.close();
    }
  });

  test('zero.yaml runs 2 PPO steps; the checkpoint (policy + critic) loads in transformers', async () => {
    const r = await runCli(
      [
        'train',
        'configs/zero.yaml',
        ...cpuSets(model, join(dir, 'runs')).flatMap((s) => ['--set', s]),
        '--name',
        'zero',
      ],
      {
        timeoutMs: 1_200_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    checkRun(join(dir, 'runs', 'zero'), model, tok, true);
  });

  test('warmup.yaml: SFT on real MATH solutions, then 2 PPO steps from it', async () => {
    const sets = [
      ...cpuSets(model, join(dir, 'runs')),
      `sft.data=${MATH_SAMPLE_SFT}`,
      'sft.epochs=1',
      'sft.batch_size=3',
      'sft.max_tokens=160', // the shortest of the 24 (prompt + solution 100-335 tokens): the 151,936-row output layer is costly on CPU
    ];
    const r = await runCli(
      ['train', 'configs/warmup.yaml', ...sets.flatMap((s) => ['--set', s]), '--name', 'warm'],
      {
        timeoutMs: 1_200_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const runDir = join(dir, 'runs', 'warm');
    const sftLoss = readFileSync(join(runDir, 'sft', 'sft_metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss as number);
    const done = /SFT done: (\d+) examples, (\d+) steps/.exec(r.stderr);
    assert.ok(done, r.stderr);
    const [numExamples, numSteps] = [Number(done[1]), Number(done[2])];
    assert.ok(numExamples > 0 && numExamples < 24, `sft.max_tokens kept ${numExamples} of 24`);
    assert.equal(numSteps, Math.ceil(numExamples / 3));
    assert.equal(sftLoss.length, numSteps);
    assert.ok(sftLoss.every(Number.isFinite));
    assert.ok(
      readFileSync(join(runDir, 'sft', 'tokenizer.json')).equals(readFileSync(join(model, 'tokenizer.json'))),
    );
    checkRun(runDir, model, tok, true);
  });
});
