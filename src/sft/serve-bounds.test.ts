// `simplerl serve` is bounded (issue 16's probe): a body over the limit and a million-prompt request
// are refused with 413 while a small request is answered; a large request shares the engine
// round-robin with a small one; a client that goes away cancels its queued work; a full queue gives 429.
// Real engine, tiny model, real HTTP server on a free port.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTinyModel } from '../../tests/fixtures/tiny-model.ts';
import { EngineClient } from '../engine/index.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import type { GenerateBatcher } from './generate-batcher.ts';
import {
  createCompletionsApp,
  DEFAULT_SERVE_LIMITS,
  type GenerateBackend,
  listen,
  QUEUE_FULL,
  REQUEST_TOO_LARGE,
  type ServeHandle,
  type ServeLimits,
} from './serve.ts';

const SMALL = { prompt: 'Compute 1 + 2.', max_tokens: 4, temperature: 0 };

describe('serve: bounded (real engine, tiny model)', () => {
  let dir: string;
  let engine: EngineClient;
  let tokenizer: TextTokenizer;
  const servers: ServeHandle[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simplerl-serve-bounds-'));
    engine = await EngineClient.start({ device: 'cpu', threads: 1 });
    await makeTinyModel(join(dir, 'model'), { engine, seed: 3 });
    await engine.load({ role: 'policy', path: join(dir, 'model'), dtype: 'float32' });
    tokenizer = await TextTokenizer.fromDir(join(dir, 'model'));
  });
  after(async () => {
    for (const s of servers) await s.close();
    await engine?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  /** A server over the engine; `delayMs` slows each engine call so that timing never decides a test. */
  async function start(limits: Partial<ServeLimits> = {}, delayMs = 0) {
    let batcher: GenerateBatcher | undefined;
    const backend: GenerateBackend = {
      generate: async (p, a) => {
        await sleep(delayMs);
        return engine.generate(p, a);
      },
    };
    const app = await createCompletionsApp({
      engine: backend,
      tokenizer,
      modelName: 'tiny',
      limits,
      onBatcher: (b) => {
        batcher = b;
      },
    });
    const handle = await listen(app, 0, '127.0.0.1');
    servers.push(handle);
    const post = (body: unknown, signal?: AbortSignal) =>
      fetch(`${handle.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal,
      });
    return { post, batcher: batcher as GenerateBatcher };
  }

  async function expectError(res: Response, status: number, prefix: string): Promise<string> {
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: { message: string; code: number; type: string } };
    assert.equal(body.error.code, status);
    assert.ok(body.error.message.startsWith(prefix), body.error.message);
    return body.error.message;
  }

  test('a million prompts: 413 (body limit by default, work limit past it); a small request is answered meanwhile', async () => {
    const { post } = await start();
    const million = JSON.stringify({ prompt: Array(1_000_000).fill('1 + 1'), max_tokens: 16 });
    assert.ok(million.length > DEFAULT_SERVE_LIMITS.maxBodyBytes);
    const [big, small] = await Promise.all([post(million), post(SMALL)]);
    await expectError(big, 413, REQUEST_TOO_LARGE);
    assert.equal(small.status, 200);
    // with a body limit that lets it in, the work limit refuses it before any prompt is encoded
    const roomy = await start({ maxBodyBytes: 64 * 2 ** 20 });
    const started = Date.now();
    const [big2, small2] = await Promise.all([roomy.post(million), roomy.post(SMALL)]);
    const message = await expectError(big2, 413, REQUEST_TOO_LARGE);
    assert.match(message, /1000000 prompts × n 1 × max_tokens 16 = 16000000 tokens/);
    assert.equal(small2.status, 200);
    assert.ok(Date.now() - started < 30_000); // generous: "within seconds", never a timed race
    assert.equal(roomy.batcher.numEngineCalls, 1); // only the small request reached the engine
  });

  test('a large request shares the engine round-robin: a later small one finishes first', async () => {
    const { post, batcher } = await start({ maxBatchRows: 4 }, 50);
    const large = post({ prompt: Array(40).fill('Compute 2 + 2.'), max_tokens: 4, temperature: 0 });
    let isLargeDone = false;
    void large.then(() => {
      isLargeDone = true;
    });
    while (batcher.numEngineCalls === 0) await sleep(5);
    const small = await post(SMALL);
    const numCallsAtSmall = batcher.numEngineCalls;
    assert.equal(small.status, 200);
    assert.equal(isLargeDone, false);
    assert.ok(numCallsAtSmall <= 3, `small answered after ${numCallsAtSmall} engine calls`);
    const res = await large;
    const body = (await res.json()) as { choices: { index: number }[] };
    assert.deepEqual(
      body.choices.map((c) => c.index),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(batcher.numEngineCalls, 11); // 40 prompts in batches of 4, one of them shared with SMALL
  });

  test('a client that disconnects: its queued prompts are dropped, the engine stops being called', async () => {
    const { post, batcher } = await start({ maxBatchRows: 2 }, 50);
    const ac = new AbortController();
    const large = post({ prompt: Array(40).fill('Compute 3 + 1.'), max_tokens: 4 }, ac.signal);
    while (batcher.numEngineCalls === 0) await sleep(5);
    ac.abort();
    await assert.rejects(large);
    for (let i = 0; i < 200 && batcher.numQueuedTokens > 0; i++) await sleep(10);
    assert.equal(batcher.numQueuedTokens, 0);
    const numCalls = batcher.numEngineCalls;
    assert.ok(numCalls <= 3, `${numCalls} engine calls after the client left`);
    assert.ok(batcher.numCancelledPrompts >= 34, `${batcher.numCancelledPrompts} prompts dropped`);
    await sleep(200);
    assert.equal(batcher.numEngineCalls, numCalls); // nothing more ran for it
  });

  test('a streaming client that disconnects after the first chunk cancels the rest', async () => {
    const { post, batcher } = await start({ maxBatchRows: 2 }, 50);
    const ac = new AbortController();
    const res = await post(
      { prompt: Array(40).fill('Compute 3 + 1.'), max_tokens: 4, stream: true },
      ac.signal,
    );
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^data: \{"id":"cmpl-/);
    ac.abort();
    for (let i = 0; i < 200 && batcher.numQueuedTokens > 0; i++) await sleep(10);
    assert.equal(batcher.numQueuedTokens, 0);
    assert.ok(batcher.numEngineCalls <= 4, `${batcher.numEngineCalls} engine calls`);
    assert.ok(batcher.numCancelledPrompts >= 32, `${batcher.numCancelledPrompts} prompts dropped`);
  });

  test('a full queue answers 429 with a clear message; the queue then drains', async () => {
    const { post, batcher } = await start({ maxQueuedTokens: 100, maxBatchRows: 2 }, 50);
    const first = post({ prompt: Array(20).fill('Compute 1 + 1.'), max_tokens: 4 }); // 80 tokens
    while (batcher.numEngineCalls === 0) await sleep(5);
    await expectError(await post({ ...SMALL, n: 2, max_tokens: 16 }), 429, QUEUE_FULL);
    assert.equal((await first).status, 200);
    assert.equal((await post(SMALL)).status, 200);
  });
});
