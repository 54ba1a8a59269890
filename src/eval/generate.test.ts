// End-to-end eval of a tiny random checkpoint through the real engine on CPU.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTinyModel, tinyProblems, writeTinyProblems } from '../../tests/fixtures/tiny-model.ts';
import { runCli } from '../../tests/fixtures/train-setup.ts';
import { EngineClient, toRagged } from '../engine/index.ts';
import { renderPrompt } from '../tokenizer/prompts.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { CONTEXT_TOO_LONG, generateAndScore } from './generate.ts';
import { scoreResponses } from './run-eval.ts';

describe('simplerl eval --model (tiny checkpoint, real engine, CPU)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-eval-e2e-'));
  const modelDir = join(dir, 'run', 'checkpoints', 'step-000002', 'policy');
  const bench = writeTinyProblems(join(dir, 'tiny.jsonl'), 5);
  let engine: EngineClient;

  before(async () => {
    engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    // A random tiny model, then SFT through the engine so that it answers "So \boxed{A}" + eos, with the
    // right A for p0..p2 and A + 1 (wrong) for p3, p4: its greedy verdicts are known in advance.
    const base = join(dir, 'base');
    await makeTinyModel(base, { engine, seed: 3, maxPositions: 128 });
    const tok = await TextTokenizer.fromDir(base);
    await engine.load({ role: 'policy', path: base, dtype: 'float32', optim: { lr: 1e-2 } });
    const seqs = tinyProblems(5).map((p, i) => {
      const answer = i < 3 ? p.answer : String(Number(p.answer) + 1);
      const prompt = tok.encode(renderPrompt('plain', p.problem));
      return { prompt, all: [...prompt, ...tok.encode(`So \\boxed{${answer}}`), tok.eosTokenIds[0]] };
    });
    const batch = {
      ...toRagged(seqs.map((s) => s.all)),
      promptLens: Int32Array.from(seqs.map((s) => s.prompt.length)),
    };
    let loss = Number.POSITIVE_INFINITY;
    for (let step = 0; step < 100; step++)
      ({ loss } = await engine.train(batch, { role: 'policy', loss: 'sft' }));
    assert.ok(loss < 0.01, `SFT did not memorise the 5 answers (loss ${loss})`);
    await engine.save({ role: 'policy', path: modelDir });
    for (const f of ['tokenizer.json', 'tokenizer_config.json'])
      copyFileSync(join(base, f), join(modelDir, f));
  });
  after(async () => {
    await engine?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({
    model: join(dir, 'run', 'checkpoints', 'step-000002'), // a checkpoint folder: weights in policy/
    benchmarks: [`tiny=${bench}`],
    promptTemplate: 'plain',
    maxTokens: 12,
    graderThreads: 1,
    engine,
  });

  it('greedy: hand-checked verdicts, metrics and a reproducible eval folder', async () => {
    const out = join(dir, 'eval-greedy');
    const { summary, problems } = await generateAndScore({ ...base(), out });
    // Hand-checked: p0..p2 answered right, p3 (gold 39) and p4 (gold 9) answered 40 and 10.
    assert.deepEqual(
      problems.map((p) => [
        p.id,
        p.gold,
        p.samples[0].response,
        p.samples[0].extracted,
        p.samples[0].correct,
      ]),
      [
        ['p0', '3', 'So \\boxed{3}', '3', true],
        ['p1', '15', 'So \\boxed{15}', '15', true],
        ['p2', '27', 'So \\boxed{27}', '27', true],
        ['p3', '39', 'So \\boxed{40}', '40', false],
        ['p4', '9', 'So \\boxed{10}', '10', false],
      ],
    );
    // Every response ended with eos (removed from the text, counted in num_tokens):
    // "So", " ", "\boxed{", digits, "}", eos = 6 tokens for a 1-digit answer, 7 for 2 digits.
    assert.deepEqual(
      problems.map((p) => [p.samples[0].finished, p.samples[0].numTokens]),
      [
        [true, 6],
        [true, 7],
        [true, 7],
        [true, 7],
        [true, 7],
      ],
    );
    // pass@1 = 3 / 5; mean tokens (6 + 4 * 7) / 5 = 6.8; all boxed, none truncated.
    assert.equal(summary.benchmarks.tiny.scores['pass@1'], 0.6);
    assert.equal(summary.average['pass@1'], 0.6);
    assert.equal(summary.benchmarks.tiny.stats.meanTokens, 6.8);
    assert.equal(summary.benchmarks.tiny.stats.boxedRate, 1);
    assert.equal(summary.benchmarks.tiny.stats.truncationRate, 0);
    assert.deepEqual(summary.metrics, ['pass@1']);
    // Settings and versions recorded for reproducibility.
    assert.equal(summary.mode, 'generate');
    assert.equal(summary.settings.temperature, 0);
    assert.equal(summary.settings.max_tokens, 12);
    assert.equal(summary.settings.prompt_template, 'plain');
    assert.equal(summary.settings.model, modelDir);
    assert.match(String(summary.versions.torch), /^\d+\.\d+/);
    assert.equal(typeof summary.versions.engine, 'string');
    assert.equal(summary.versions.device, 'cpu');
    const onDisk = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(onDisk.settings.max_tokens, 12);
    assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| model \| tiny \| avg \|/);

    // Greedy decoding is deterministic: a second run (another batch size) gives the same responses.
    const again = await generateAndScore({ ...base(), out: join(dir, 'eval-greedy-2'), batchSize: 2 });
    assert.deepEqual(
      again.problems.map((p) => p.samples[0].response),
      problems.map((p) => p.samples[0].response),
    );
    // Scoring the written responses.jsonl gives the same verdicts.
    const rescored = await scoreResponses({
      benchmarks: [`tiny=${bench}`],
      responses: join(out, 'responses.jsonl'),
      out: join(dir, 'eval-rescored'),
      graderThreads: 1,
    });
    assert.deepEqual(
      rescored.problems.map((p) => p.samples[0].correct),
      problems.map((p) => p.samples[0].correct),
    );
    assert.deepEqual(
      rescored.summary.benchmarks.tiny.stats.meanTokens,
      summary.benchmarks.tiny.stats.meanTokens,
    );
  });

  it('the CLI (its own engine) gives the same greedy responses', async () => {
    const out = join(dir, 'eval-cli');
    const r = await runCli([
      'eval',
      '--model',
      join(dir, 'run', 'checkpoints', 'step-000002'),
      '--benchmarks',
      `tiny=${bench}`,
      '--prompt-template',
      'plain',
      '--max-tokens',
      '12',
      '--device',
      'cpu',
      '--threads',
      '1',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).response);
    assert.deepEqual(lines(join(out, 'responses.jsonl')), lines(join(dir, 'eval-greedy', 'responses.jsonl')));
    assert.match(r.stdout, /\| model \| tiny \| avg \|\n\|---\|---\|---\|\n\| step-000002 \|/);
  });

  it('sampling: n samples per problem and the @n metrics', async () => {
    const { summary, problems } = await generateAndScore({
      ...base(),
      out: join(dir, 'eval-sampled'),
      n: 3,
      temperature: 1,
      seed: 7,
      limit: 2,
    });
    assert.equal(problems.length, 2);
    assert.ok(problems.every((p) => p.samples.length === 3));
    assert.deepEqual(summary.metrics, ['pass@1', 'pass@2', 'pass@3', 'avg@3', 'maj@3']);
    assert.equal(summary.benchmarks.tiny.stats.count, 6);
  });

  it('fails before generating when prompt + max tokens exceed the context', async () => {
    // max_position_embeddings is 128; 200 new tokens cannot fit.
    await assert.rejects(
      generateAndScore({ ...base(), out: join(dir, 'eval-long'), maxTokens: 200 }),
      (err: Error) =>
        err.message.startsWith(`${CONTEXT_TOO_LONG}: tiny problem "p0" has a `) &&
        /\+ --max-tokens 200 > max_position_embeddings 128 /.test(err.message),
    );
    await assert.rejects(
      generateAndScore({ ...base(), out: join(dir, 'eval-bad'), n: 2 }),
      /n=2 samples with temperature 0 are 2 copies of the greedy answer/,
    );
  });
});
