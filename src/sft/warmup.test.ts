// End to end on CPU through the real engine, a real `simplerl serve` process and the real verifier:
// sft teaches a tiny random model one answer, serve exposes it, distill keeps only verified samples.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { makeTinyModel } from '../../tests/fixtures/tiny-model.ts';
import { REPO_ROOT, runCli } from '../../tests/fixtures/train-setup.ts';
import { SERVE_READY_LINE } from '../cli/commands/serve.ts';
import { EngineClient } from '../engine/index.ts';
import { Grader } from '../reward/index.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { DISTILL_RESUME_MISMATCH, type DistillOptions, runDistill, type SftRecord } from './distill.ts';
import { GenerateBatcher } from './generate-batcher.ts';
import { runSft, SFT_MARKER, type SftResult } from './sft.ts';

const RESPONSE = 'So the answer is \\boxed{3}.';

function startServe(modelDir: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'simplerl.mjs'),
      'serve',
      modelDir,
      '--port',
      '0',
      '--device',
      'cpu',
      '--threads',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
      const m = new RegExp(`${SERVE_READY_LINE} (\\S+)`).exec(stdout);
      if (m) resolve({ child, url: m[1], stderr: () => stderr });
    });
    child.once('exit', (code) =>
      reject(new Error(`serve exited with ${code} before it was ready:\n${stderr}`)),
    );
  });
}

describe('warm-up: sft → serve → distill (real engine on CPU)', () => {
  let dir: string;
  let sft: SftResult;
  let server: { child: ChildProcess; url: string; stderr: () => string };
  let engine: EngineClient;
  const modelName = 'tiny-sft';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-warmup-'));
    engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    await makeTinyModel(join(dir, 'base'), { engine, seed: 1 });
    // 16 prompts, one answer: the fine-tuned model answers \boxed{3} to every prompt.
    const lines = Array.from({ length: 16 }, (_, i) =>
      JSON.stringify({
        prompt: `Compute ${i % 4} + ${(i * 3) % 5}.\n`,
        response: RESPONSE,
        problem_id: `t${i}`,
      }),
    );
    await writeFile(join(dir, 'sft.jsonl'), `${lines.join('\n')}\n`);
    sft = await runSft({
      model: join(dir, 'base'),
      data: join(dir, 'sft.jsonl'),
      out: join(dir, modelName),
      engine,
      epochs: 20,
      lr: 1e-2,
      batchSize: 8,
      warmupRatio: 0.05,
      minLrRatio: 0.1,
    });
    server = await startServe(join(dir, modelName));
  });

  after(async () => {
    await engine?.shutdown();
    if (server?.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('sft: response-only loss falls and the output folder is a complete checkpoint', async () => {
    assert.equal(sft.numExamples, 16);
    assert.equal(sft.numSteps, 40); // 20 epochs × 16 examples / 8 per step
    const first = sft.metrics[0].loss;
    const last = sft.metrics.at(-1)?.loss ?? Number.NaN;
    assert.ok(last < 0.05 * first, `loss ${first} → ${last}`);
    // 10 response tokens per example (9 + the end token) × 8 sequences
    assert.equal(sft.metrics[0].numTokens, 80);
    const tok = await TextTokenizer.fromDir(sft.out);
    assert.equal(tok.vocabSize, 66);
    const logged = (await readFile(join(sft.out, 'sft_metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(logged.length, 40);
    assert.ok(existsSync(join(sft.out, SFT_MARKER))); // a later sft with this --out may replace it
  });

  test('serve: /v1/models, completions with ids and logprobs, request errors', async () => {
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      models.data.map((m) => m.id),
      [modelName],
    );
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post({
      model: modelName,
      prompt: ['Compute 1 + 2.\n', 'Compute 3 + 4.\n'],
      max_tokens: 16,
      temperature: 0,
      logprobs: 1,
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      choices: {
        index: number;
        text: string;
        finish_reason: string;
        logprobs: { token_logprobs: number[] };
      }[];
      usage: { completion_tokens: number };
    };
    assert.deepEqual(
      body.choices.map((c) => [c.index, c.text, c.finish_reason]),
      [
        [0, RESPONSE, 'stop'],
        [1, RESPONSE, 'stop'],
      ],
    );
    // 9 text tokens + the end token per choice; the end token is not in the text
    assert.equal(body.usage.completion_tokens, 20);
    assert.equal(body.choices[0].logprobs.token_logprobs.length, 9);
    // a stop string cuts the text
    const cut = (await (
      await post({ prompt: 'Compute 1 + 2.\n', max_tokens: 16, temperature: 0, stop: [' is'] })
    ).json()) as {
      choices: { text: string; finish_reason: string }[];
    };
    assert.deepEqual(cut.choices[0], { ...cut.choices[0], text: 'So the answer', finish_reason: 'stop' });
    // max_tokens reached
    const short = (await (await post({ prompt: [[5, 6]], max_tokens: 2, temperature: 0 })).json()) as {
      choices: { text: string; finish_reason: string }[];
    };
    assert.equal(short.choices[0].finish_reason, 'length');
    // errors
    const wrongModel = await post({ model: 'gpt-4', prompt: 'x' });
    assert.equal(wrongModel.status, 404);
    assert.match(((await wrongModel.json()) as { error: { message: string } }).error.message, /tiny-sft/);
    const badN = await post({ prompt: 'x', n: 0 });
    assert.equal(badN.status, 400);
    assert.equal(((await badN.json()) as { error: { param: string } }).error.param, 'n');
    const tooLong = await post({ prompt: 'x', max_tokens: 100000 });
    assert.match(
      ((await tooLong.json()) as { error: { message: string } }).error.message,
      /exceeds the model's context of 512/,
    );
    // streaming: server-sent events ending with [DONE] (the openai client reads them in serve-openai.test.ts)
    const streamed = await post({ prompt: 'x', stream: true, max_tokens: 2 });
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.match(await streamed.text(), /data: \[DONE\]\n\n$/);
  });

  test('the openai client streams a chat completion from the `simplerl serve` process', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });
    const args = {
      model: modelName,
      messages: [{ role: 'user' as const, content: 'Compute 1 + 2.' }],
      max_tokens: 16,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(args);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...args, stream: true }))
      text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, whole.choices[0].message.content);
    assert.ok(text.length > 0);
  });

  test('the batcher merges waiting jobs without changing any sample', async () => {
    const tok = await TextTokenizer.fromDir(sft.out);
    const args = { n: 2, temperature: 1.5, topP: 1, maxNewTokens: 6, stopIds: tok.eosTokenIds };
    const jobs: [number[][], number[]][] = [
      [[tok.encode('Compute 1 + 2.\n')], [11]],
      [
        [tok.encode('Compute 2 + 2.\n'), tok.encode('So')],
        [12, 13],
      ],
      [[tok.encode('Compute 3 + 2.\n')], [14]],
    ];
    const merged = new GenerateBatcher(engine);
    const together = await Promise.all(jobs.map(([p, s]) => merged.submit(p, s, args)));
    assert.equal(merged.numEngineCalls, 2); // the first job alone, then the two that waited
    const single = new GenerateBatcher(engine);
    const alone = [];
    for (const [p, s] of jobs) alone.push(await single.submit(p, s, args));
    assert.equal(single.numEngineCalls, 3);
    for (let j = 0; j < jobs.length; j++) {
      assert.deepEqual([...together[j].ids], [...alone[j].ids], `job ${j}`);
      assert.deepEqual([...together[j].offsets], [...alone[j].offsets], `job ${j}`);
      assert.deepEqual(together[j].finish, alone[j].finish);
      assert.equal(together[j].offsets.length, jobs[j][0].length * 2 + 1);
    }
    // different sampling arguments are not merged
    const mixed = new GenerateBatcher(engine);
    await Promise.all([
      mixed.submit(jobs[0][0], jobs[0][1], args),
      mixed.submit(jobs[1][0], jobs[1][1], args),
      mixed.submit(jobs[2][0], jobs[2][1], { ...args, temperature: 0 }),
    ]);
    assert.equal(mixed.numEngineCalls, 3);
  });

  test('distill keeps exactly the verified samples (greedy teacher)', async () => {
    // The teacher always answers 3: p0 and p2 (gold 3) are solved, p1 (gold 5) and p3 (gold 4) are not.
    const problems = [
      { id: 'p0', problem: 'Compute 1 + 2.', answer: '3' },
      { id: 'p1', problem: 'Compute 2 + 3.', answer: '5' },
      { id: 'p2', problem: 'Compute 0 + 3.', answer: '3' },
      { id: 'p3', problem: 'Compute 2 + 2.', answer: '4' },
      { id: 'p4', problem: 'Compute 4 + 0.', answer: '\\frac{6}{2}' },
    ];
    await writeFile(join(dir, 'problems.jsonl'), problems.map((p) => `${JSON.stringify(p)}\n`).join(''));
    const out = join(dir, 'distilled.jsonl');
    const stats = await runDistill({
      teacher: server.url,
      model: modelName,
      data: join(dir, 'problems.jsonl'),
      out,
      n: 2,
      temperature: 0,
      maxTokens: 16,
      promptTemplate: '{input}\n',
      sftPromptTemplate: 'Q: {input}',
      batchSize: 2,
      concurrency: 2,
    });
    assert.equal(stats.numSamples, 10);
    assert.equal(stats.numCorrect, 6);
    assert.equal(stats.numKept, 6);
    assert.equal(stats.numProblemsSolved, 3);
    const records = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SftRecord);
    assert.deepEqual(records.map((r) => r.problem_id).sort(), ['p0', 'p0', 'p2', 'p2', 'p4', 'p4']);
    for (const r of records) {
      assert.equal(r.response, RESPONSE);
      // the teacher saw `{input}\n`; the SFT data carries the student's prompt
      assert.equal(r.prompt, `Q: ${problems.find((p) => p.id === r.problem_id)?.problem}`);
    }
  });

  test('distill with a chat teacher: the server renders the chat template, verified samples kept', async () => {
    const out = join(dir, 'distilled-chat.jsonl');
    const stats = await runDistill({
      teacher: server.url,
      teacherApi: 'chat',
      model: modelName,
      data: join(dir, 'problems.jsonl'),
      out,
      n: 2,
      temperature: 0,
      maxTokens: 16,
      promptTemplate: '{input}\n',
      batchSize: 2,
      concurrency: 2,
    });
    assert.equal(stats.numSamples, 10);
    const records = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SftRecord);
    assert.equal(records.length, stats.numKept);
    assert.ok(stats.numKept >= 1, JSON.stringify(stats));
    for (const r of records) {
      assert.ok(['p0', 'p2', 'p4'].includes(r.problem_id), r.problem_id);
      assert.equal(r.prompt, `${r.problem}\n`); // the user message as sent
    }
  });

  test('distill with sampling: every kept line verifies, counts add up', async () => {
    const problems = Array.from({ length: 6 }, (_, i) => ({
      id: `q${i}`,
      problem: `Compute ${i} + 1.`,
      answer: String(i % 3 === 0 ? 3 : i),
    }));
    await writeFile(join(dir, 'sampled.jsonl'), problems.map((p) => `${JSON.stringify(p)}\n`).join(''));
    const out = join(dir, 'sampled-out.jsonl');
    const distill = (path: string, extra: Partial<DistillOptions> = {}) =>
      runDistill({
        teacher: `${server.url}/v1`,
        model: modelName,
        data: join(dir, 'sampled.jsonl'),
        out: path,
        n: 3,
        temperature: 1,
        maxTokens: 12,
        promptTemplate: '{input}\n',
        batchSize: 2,
        concurrency: 2,
        seed: 7,
        maxPerProblem: 2,
        ...extra,
      });
    const stats = await distill(out);
    // the same seed gives the same file, whatever order the concurrent requests finish in
    await distill(join(dir, 'sampled-again.jsonl'));
    assert.equal(await readFile(join(dir, 'sampled-again.jsonl'), 'utf8'), await readFile(out, 'utf8'));
    assert.equal(stats.numSamples, 18);
    assert.ok(
      stats.numKept >= 1 && stats.numKept <= stats.numCorrect && stats.numKept <= 2 * 6,
      JSON.stringify(stats),
    );
    const records = (await readFile(out, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SftRecord);
    assert.equal(records.length, stats.numKept);
    // interrupted after the first batch, then resumed: the same file and counts as one go
    const resumed = join(dir, 'sampled-resumed.jsonl');
    const ac = new AbortController();
    await assert.rejects(
      distill(resumed, { signal: ac.signal, onProgress: () => ac.abort() }),
      /distill: aborted \(resume to continue\)/,
    );
    assert.ok(existsSync(`${resumed}.partial`) && existsSync(`${resumed}.partial.json`));
    await assert.rejects(
      distill(resumed, { resume: true, n: 2 }),
      (e: Error) => e.message.startsWith(DISTILL_RESUME_MISMATCH) && /n was 3, now 2/.test(e.message),
    );
    const again = await distill(resumed, { resume: true });
    assert.equal(await readFile(resumed, 'utf8'), await readFile(out, 'utf8'));
    assert.deepEqual({ ...again, seconds: 0 }, { ...stats, seconds: 0 });
    assert.ok(!existsSync(`${resumed}.partial.json`));
    const grader = await Grader.create({ threads: 1 });
    try {
      const graded = await grader.grade(
        records.map((r) => ({
          gold: problems.find((p) => p.id === r.problem_id)?.answer ?? '',
          response: r.response,
        })),
      );
      assert.ok(graded.every((g) => g.correct));
    } finally {
      await grader.close();
    }
  });

  test('the distill and sft commands (CLI) run end to end', async () => {
    const out = join(dir, 'cli-distilled.jsonl');
    const distill = await runCli([
      'distill',
      '--teacher',
      server.url,
      '--model',
      modelName,
      '--data',
      join(dir, 'problems.jsonl'),
      '--out',
      out,
      '--n',
      '2',
      '--temperature',
      '0',
      '--max-tokens',
      '16',
      '--prompt-template',
      '{input}\n',
      '--limit',
      '2',
    ]);
    assert.equal(distill.code, 0, distill.stderr);
    const stats = JSON.parse(distill.stdout) as { numSamples: number; numKept: number };
    assert.deepEqual([stats.numSamples, stats.numKept], [4, 2]); // p0 solved twice, p1 not
    const sftArgs = ['sft', '--model', join(dir, 'base'), '--data', out, '--out', join(dir, 'cli-sft')];
    const sftRun = await runCli([
      ...sftArgs,
      '--batch-size',
      '2',
      '--lr',
      '1e-3',
      '--max-steps',
      '1',
      '--device',
      'cpu',
      '--threads',
      '1',
    ]);
    assert.equal(sftRun.code, 0, sftRun.stderr);
    assert.match(sftRun.stderr, /sft step 1\/1 epoch 1\.00 loss \d/);
    assert.equal((JSON.parse(sftRun.stdout) as { numSteps: number }).numSteps, 1);
    const bad = await runCli([...sftArgs, '--epochs', '-1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected a number > 0, got -1/);
  });

  test('serve stops cleanly on SIGTERM (engine shut down, exit code 0)', async () => {
    const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15000);
    assert.equal(await exited, 0, server.stderr());
    clearTimeout(timer);
  });

  test('an unreachable teacher is a clear error', async () => {
    await assert.rejects(
      runDistill({
        teacher: 'http://127.0.0.1:9',
        model: 'x',
        data: join(dir, 'problems.jsonl'),
        out: join(dir, 'none.jsonl'),
        limit: 1,
        retries: 0,
      }),
      /completions request failed: POST http:\/\/127\.0\.0\.1:9\/v1\/completions/,
    );
  });
});
