// `simplerl serve` on a port that is taken fails at once with a message that says so (before the engine
// starts and loads the model, which takes minutes for a real checkpoint).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tinyModelConfig } from '../../tests/fixtures/tiny-model.ts';
import { runCli } from '../../tests/fixtures/train-setup.ts';
import { CHECKPOINT_ERROR, writeManifest } from '../run/index.ts';
import { buildTokenizerFiles, tinyMathTokenizerSpec } from '../tokenizer/build-tokenizer.ts';
import { TextTokenizer } from '../tokenizer/tokenizer.ts';
import { REMOTE_HOST_REFUSED } from '../util/net.ts';
import type { GenerateBackend } from './generate-batcher.ts';
import { createCompletionsApp, NOT_SERVED, PORT_IN_USE, serveModel } from './serve.ts';

describe('simplerl serve on a busy port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-serve-port-'));
  // config.json and tokenizer but no weights: loading it would fail, so a port error proves no load was tried.
  const modelDir = join(dir, 'model');
  let busy: Server;
  let port: number;
  before(async () => {
    mkdirSync(modelDir);
    const tok = await buildTokenizerFiles(modelDir, tinyMathTokenizerSpec());
    writeFileSync(join(modelDir, 'config.json'), JSON.stringify(tinyModelConfig(tok.vocabSize)));
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    port = (busy.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((r) => busy.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects before the engine starts, naming host and port', async () => {
    const logs: string[] = [];
    await assert.rejects(
      serveModel({
        modelDir,
        port,
        host: '127.0.0.1',
        device: 'cpu',
        threads: 1,
        onLog: (l) => logs.push(l),
      }),
      (err: Error) =>
        err.message.startsWith(`${PORT_IN_USE}: 127.0.0.1:${port} is taken`) && /--port 0/.test(err.message),
    );
    assert.deepEqual(logs, []); // no engine output: it never started
  });

  it('refuses a run checkpoint whose files differ from its manifest, naming the file', async () => {
    const step = join(dir, 'run', 'checkpoints', 'step-000003');
    cpSync(modelDir, join(step, 'policy'), { recursive: true });
    await writeManifest(step);
    const config = join(step, 'policy', 'config.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace('"', ' '));
    await assert.rejects(
      serveModel({ modelDir: join(step, 'policy'), port, host: '127.0.0.1', device: 'cpu' }),
      (err: Error) =>
        err.message.startsWith(CHECKPOINT_ERROR) && err.message.includes(`${config}: sha256 differs`),
    );
  });

  it('the CLI prints the message without a stack trace; exit code 1', async () => {
    const r = await runCli(['serve', modelDir, '--port', String(port), '--device', 'cpu']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^simplerl: ${PORT_IN_USE}: 127\\.0\\.0\\.1:${port} is taken`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe('simplerl serve: unknown routes', () => {
  it('answer 404 as an OpenAI-style JSON error that lists the routes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplerl-serve-404-'));
    try {
      const tok = await buildTokenizerFiles(dir, tinyMathTokenizerSpec());
      const app = await createCompletionsApp({
        engine: {} as GenerateBackend,
        tokenizer: await TextTokenizer.fromDir(dir),
        modelName: 'm',
        maxModelLen: tok.vocabSize,
      });
      const res = await app.request('/v1/embeddings', { method: 'POST', body: '{}' });
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const body = (await res.json()) as { error: { message: string; code: number } };
      assert.equal(body.error.code, 404);
      assert.ok(body.error.message.startsWith(`${NOT_SERVED}: POST /v1/embeddings;`), body.error.message);
      assert.match(body.error.message, /POST \/v1\/completions, POST \/v1\/chat\/completions/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('simplerl serve on a non-loopback host', () => {
  it('refuses without --allow-remote, before loading anything', async () => {
    const r = await runCli(['serve', '/nonexistent-model-dir', '--host', '0.0.0.0']);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(REMOTE_HOST_REFUSED), r.stderr);
  });
});
