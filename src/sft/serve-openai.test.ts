// OpenAI's own `openai` client against `simplerl serve` (real engine, tiny model, real HTTP):
// chat completions rendered with the model's chat template, streaming on both endpoints, limits seen
// as API errors, and `distill` with a chat teacher.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { makeTinyModel } from '../../tests/fixtures/tiny-model.ts';
import { EngineClient } from '../engine/index.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { runDistill } from './distill.ts';
import type { GenerateBatcher } from './generate-batcher.ts';
import { createCompletionsApp, listen, REQUEST_TOO_LARGE, type ServeHandle } from './serve.ts';

const MESSAGES = [{ role: 'user' as const, content: 'Compute 1 + 2.' }];

describe('serve with the official openai client (real engine, tiny model)', () => {
  let dir: string;
  let engine: EngineClient;
  let tokenizer: TextTokenizer;
  let server: ServeHandle;
  let client: OpenAI;
  let batcher: GenerateBatcher;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-serve-openai-'));
    engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    await makeTinyModel(join(dir, 'model'), { engine, seed: 5 });
    await engine.load({ role: 'policy', path: join(dir, 'model'), dtype: 'float32' });
    tokenizer = await TextTokenizer.fromDir(join(dir, 'model'));
    const app = await createCompletionsApp({
      engine,
      tokenizer,
      modelName: 'tiny',
      maxModelLen: 256,
      limits: { maxRequestTokens: 4096 },
      onBatcher: (b) => {
        batcher = b;
      },
    });
    server = await listen(app, 0, '127.0.0.1');
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    await engine?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  test('chat: the chat template is applied (equal to completions on the rendered prompt)', async () => {
    const chat = await client.chat.completions.create({
      model: 'tiny',
      messages: MESSAGES,
      max_tokens: 12,
      temperature: 1,
      n: 2,
      seed: 9,
    });
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices.length, 2);
    const prompt = tokenizer.applyChatTemplate(MESSAGES, { addGenerationPrompt: true });
    assert.match(prompt, /<\|im_start\|>assistant\n$/);
    const plain = await client.completions.create({
      model: 'tiny',
      prompt,
      max_tokens: 12,
      temperature: 1,
      n: 2,
      seed: 9,
    });
    assert.deepEqual(
      chat.choices.map((c) => [c.message.role, c.message.content, c.finish_reason]),
      plain.choices.map((c) => ['assistant', c.text, c.finish_reason]),
    );
    assert.equal(chat.usage?.prompt_tokens, tokenizer.encode(prompt).length);
  });

  test('chat streams: the deltas add up to the whole answer, then usage and [DONE]', async () => {
    const args = { model: 'tiny', messages: MESSAGES, max_tokens: 12, temperature: 1, n: 2, seed: 4 };
    const whole = await client.chat.completions.create(args);
    const stream = await client.chat.completions.create({
      ...args,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const finish: (string | null)[] = [null, null];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let numChunks = 0;
    for await (const chunk of stream) {
      numChunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? '';
        finish[c.index] ??= c.finish_reason;
      }
      usage ??= chunk.usage;
    }
    assert.deepEqual(
      texts,
      whole.choices.map((c) => c.message.content),
    );
    assert.deepEqual(
      finish,
      whole.choices.map((c) => c.finish_reason),
    );
    assert.deepEqual(usage, whole.usage);
    assert.equal(numChunks, 2 * 3 + 1); // role, content, finish per choice; then usage
    // the helper that assembles a streamed chat completion reads our chunks too
    const final = await client.chat.completions.stream(args).finalChatCompletion();
    assert.equal(final.choices[0].message.content, whole.choices[0].message.content);
  });

  test('completions stream with several prompts: every choice arrives, equal to the whole answer', async () => {
    const args = {
      model: 'tiny',
      prompt: ['Compute 1 + 1.', 'Compute 2 + 3.'],
      max_tokens: 8,
      n: 2,
      seed: 1,
    };
    const whole = await client.completions.create(args);
    const texts = new Map<number, string>();
    for await (const chunk of await client.completions.create({ ...args, stream: true }))
      for (const c of chunk.choices) texts.set(c.index, (texts.get(c.index) ?? '') + c.text);
    assert.deepEqual(
      [...texts.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t),
      whole.choices.map((c) => c.text),
    );
  });

  test('a request over the work limit is an APIError 413 with the message', async () => {
    await assert.rejects(
      client.completions.create({ model: 'tiny', prompt: Array(100).fill('1'), max_tokens: 64 }),
      (err: unknown) =>
        err instanceof OpenAI.APIError && err.status === 413 && err.message.includes(REQUEST_TOO_LARGE),
    );
  });

  test('distill with a chat teacher: one chat request per problem, n samples each, all graded', async () => {
    const problems = [
      { id: 'a', problem: 'Compute 1 + 2.', answer: '3' },
      { id: 'b', problem: 'Compute 2 + 2.', answer: '4' },
      { id: 'c', problem: 'Compute 0 + 3.', answer: '3' },
    ];
    await writeFile(join(dir, 'problems.jsonl'), problems.map((p) => `${JSON.stringify(p)}\n`).join(''));
    const numCallsBefore = batcher.numEngineCalls;
    const stats = await runDistill({
      teacher: `${server.url}/v1/chat/completions`,
      teacherApi: 'chat',
      model: 'tiny',
      data: join(dir, 'problems.jsonl'),
      out: join(dir, 'sft.jsonl'),
      n: 2,
      temperature: 1,
      maxTokens: 8,
      batchSize: 2,
      concurrency: 1,
    });
    assert.equal(stats.numProblems, 3);
    assert.equal(stats.numSamples, 6);
    assert.ok(batcher.numEngineCalls > numCallsBefore);
  });
});
