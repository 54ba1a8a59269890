// Checks of runTraining that fail before any engine starts (no engine needed).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configToYaml, parseConfig, resolveConfig } from '../config/index.ts';
import { type ControllerState, writeCheckpoint } from '../run/index.ts';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from '../tokenizer/build-tokenizer.ts';
import { RESUME_ERROR, runTraining, TRAIN_ERROR } from './trainer.ts';

const dir = mkdtempSync(join(tmpdir(), 'simplerl-trainer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function setup(sets: string[] = []) {
  const model = join(dir, 'model');
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, 'config.json'), JSON.stringify({ max_position_embeddings: 512 }));
  await buildTokenizerFiles(model, tinyMathTokenizerSpec());
  const train = join(dir, 'train.jsonl');
  writeFileSync(
    train,
    '{"id": "a", "problem": "Compute 1 + 2.", "answer": "3"}\n{"id": "b", "problem": "Compute 2 + 2.", "answer": "4"}\n',
  );
  const text = `model:\n  path: ${model}\n  prompt_template: plain\ndata:\n  train: ${train}\nrollout:\n  max_new_tokens: 8\n  max_prompt_tokens: 64\nalgo:\n  prompts_per_step: 2\n  mini_batch_size: 1\nrun:\n  progress: false\n`;
  return resolveConfig(parseConfig(text, 'c.yaml', { sets }), 'c.yaml');
}

describe('runTraining: checks before the engine starts', () => {
  test('resume refuses training data that changed since the checkpoint', async () => {
    const cfg = await setup();
    const runDir = join(dir, 'runs', 'changed');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'config.yaml'), configToYaml(cfg));
    const state: ControllerState = {
      version: 1,
      step: 1,
      num_optimizer_steps: 2,
      sampler: { seed: 0, epoch: 0, position: 2, numItems: 2 },
      rng: { seed: 0, scheme: 'hash32-v1' },
      kl: { type: 'fixed', coef: 0.01 },
      problems: { count: 2, fingerprint: 'deadbeef' },
      time: '',
    };
    await writeCheckpoint(join(runDir, 'checkpoints'), state, async () => {});
    await assert.rejects(
      runTraining(cfg, { runDir, resume: true, log: () => {} }),
      new RegExp(`${RESUME_ERROR} .*changed: the training prompts differ from those the run started with`),
    );
    await assert.rejects(
      runTraining(cfg, { runDir: join(dir, 'runs', 'none'), resume: true, log: () => {} }),
      /not a run folder \(no config\.yaml\)/,
    );
  });

  test('a stop token missing from the tokenizer is named', async () => {
    const cfg = await setup(['rollout.stop=["<|eot_id|>"]']);
    await assert.rejects(
      runTraining(cfg, { runDir: join(dir, 'runs', 'stop'), log: () => {} }),
      new RegExp(`${TRAIN_ERROR}: rollout\\.stop token "<\\|eot_id\\|>" is not in the tokenizer of .*model`),
    );
  });
});
