// The completions client says why a request could not be sent (fetch itself only says "fetch failed").
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { COMPLETIONS_HTTP_ERROR, TeacherClient, teacherBaseUrl } from './completions-client.ts';

describe('completions client', () => {
  it('a teacher that is not listening: "connection refused", with the URL', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    const url = `http://127.0.0.1:${port}/v1/completions`;
    const client = new TeacherClient(`http://127.0.0.1:${port}`, { retries: 0 });
    await assert.rejects(
      client.complete({ model: 'm', prompt: ['x'], n: 1, temperature: 0, top_p: 1, max_tokens: 1 }),
      (err: Error) =>
        err.message.startsWith(`${COMPLETIONS_HTTP_ERROR}: POST ${url}: `) &&
        /connection refused \(is the server running at that address\?\)/.test(err.message),
    );
  });

  it('takes the server root, /v1 or an endpoint URL as the teacher', () => {
    for (const t of [
      'http://h:8',
      'http://h:8/',
      'http://h:8/v1',
      'http://h:8/v1/completions',
      'http://h:8/v1/chat/completions',
    ])
      assert.equal(teacherBaseUrl(t), 'http://h:8/v1', t);
    assert.throws(() => teacherBaseUrl('h:8'), /must start with http/);
  });
});
