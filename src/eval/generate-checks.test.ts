// `simplerl eval --model` checks its settings before the engine starts (no engine is needed here: a stub
// that fails when used stands in for it), so a wrong flag does not cost a model load or a whole generation.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tinyModelConfig, writeTinyProblems } from '../../tests/fixtures/tiny-model.ts';
import type { EngineClient } from '../engine/index.ts';
import { CHECKPOINT_ERROR, writeManifest } from '../run/index.ts';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from '../tokenizer/build-tokenizer.ts';
import { generateAndScore, runPromptTemplate } from './generate.ts';
import { EVAL_ERROR } from './run-eval.ts';

describe('simplerl eval --model: settings checked before the engine is used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-eval-checks-'));
  const modelDir = join(dir, 'model');
  const bench = join(dir, 'tiny.jsonl');
  const engineUsed = new Proxy({} as EngineClient, {
    get: (_t, prop) => {
      if (prop === 'then') return undefined;
      throw new Error(`the engine was used (${String(prop)})`);
    },
  });
  const base = () => ({
    benchmarks: [`tiny=${bench}`],
    model: modelDir,
    promptTemplate: 'plain',
    maxTokens: 8,
    out: join(dir, 'out'),
    engine: engineUsed,
  });
  before(async () => {
    mkdirSync(modelDir);
    const tok = await buildTokenizerFiles(modelDir, tinyMathTokenizerSpec());
    writeFileSync(join(modelDir, 'config.json'), JSON.stringify(tinyModelConfig(tok.vocabSize)));
    writeTinyProblems(bench, 3);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a metric that needs more samples than --n', async () => {
    await assert.rejects(
      generateAndScore({ ...base(), metrics: ['pass@1', 'pass@4'], n: 2, temperature: 1 }),
      (err: Error) =>
        err.message.startsWith(EVAL_ERROR) &&
        /metric pass@4 needs 4 samples per problem but --n is 2/.test(err.message),
    );
  });

  it('a top-p outside (0, 1]', async () => {
    await assert.rejects(generateAndScore({ ...base(), topP: 2 }), /--top-p must be in \(0, 1\], got 2/);
    await assert.rejects(generateAndScore({ ...base(), topP: 0 }), /--top-p must be in \(0, 1\], got 0/);
  });

  it('a run folder given as --model names its latest checkpoint', async () => {
    const run = join(dir, 'run');
    mkdirSync(join(run, 'checkpoints'), { recursive: true });
    writeFileSync(join(run, 'checkpoints', 'LATEST'), 'step-000012\n');
    await assert.rejects(
      generateAndScore({ ...base(), model: run }),
      (err: Error) =>
        err.message.includes(`${run} is a run folder`) &&
        err.message.includes(`--model ${join(run, 'checkpoints', 'step-000012')}`),
    );
  });

  it("a run's checkpoint is evaluated with the run's prompt template unless --prompt-template is given", async () => {
    const run = join(dir, 'run-plain');
    const policy = join(run, 'checkpoints', 'step-000004', 'policy');
    mkdirSync(policy, { recursive: true });
    cpSync(modelDir, policy, { recursive: true });
    writeFileSync(join(run, 'config.yaml'), 'run:\n  name: run-plain\nmodel:\n  prompt_template: abel\n');
    assert.deepEqual(runPromptTemplate(policy), { template: 'abel', configFile: join(run, 'config.yaml') });
    assert.equal(runPromptTemplate(modelDir), undefined);
    const logs: string[] = [];
    await assert.rejects(
      generateAndScore({
        ...base(),
        model: join(run, 'checkpoints', 'step-000004'),
        promptTemplate: undefined,
        log: (l) => logs.push(l),
      }),
      /the engine was used/,
    );
    assert.ok(
      logs.some((l) => l.startsWith('prompt template "abel": the one the run trained with')),
      logs.join('\n'),
    );
    const given: string[] = [];
    await assert.rejects(
      generateAndScore({ ...base(), model: policy, promptTemplate: 'plain', log: (l) => given.push(l) }),
      /the engine was used/,
    );
    assert.ok(!given.some((l) => l.startsWith('prompt template')));
  });

  it("a run's checkpoint is verified against its manifest: a damaged one is refused, naming the file", async () => {
    const step = join(dir, 'run-damaged', 'checkpoints', 'step-000002');
    cpSync(modelDir, join(step, 'policy'), { recursive: true });
    await writeManifest(step);
    for (const model of [step, join(step, 'policy')])
      await assert.rejects(
        generateAndScore({ ...base(), model }),
        /the engine was used/,
        'verifies: goes on',
      );
    const config = join(step, 'policy', 'config.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace('"', ' '));
    for (const model of [step, join(step, 'policy')])
      await assert.rejects(
        generateAndScore({ ...base(), model }),
        (err: Error) =>
          err.message.startsWith(CHECKPOINT_ERROR) && err.message.includes(`${config}: sha256 differs`),
      );
  });
});
