// Symlink escapes (issue 16): a link inside a run that leads out of the runs folder is served as absent
// (404 for a run, empty for its files), never read; a link to a directory is no 500; no error reaches a
// client with its message or stack.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp, INTERNAL_ERROR } from './app.ts';
import { RunRegistry } from './runs.ts';
import { copyFixture } from './test-helpers.ts';

describe('dashboard confinement to the runs folder', () => {
  let runsDir: string;
  let outside: string;
  let app: ReturnType<typeof createApp>;
  const get = async (path: string) => {
    const res = await app.request(`http://127.0.0.1${path}`);
    return { status: res.status, text: await res.text() };
  };

  before(() => {
    runsDir = copyFixture();
    outside = join(dirname(runsDir), 'outside');
    mkdirSync(join(outside, 'eval', 'leak'), { recursive: true });
    const secret = '{"step":1,"response":"SECRET","reward":1}\n';
    writeFileSync(join(outside, 'secret.jsonl'), secret);
    writeFileSync(join(outside, 'metrics.jsonl'), '{"step":1,"x":1}\n{"step":2,"x":2}\n');
    writeFileSync(join(outside, 'eval', 'leak', 'summary.json'), '{"secret":"SECRET"}');
    // zero-ppo: a rollout file, metrics.jsonl and an eval summary linked out of the runs folder
    const ppo = join(runsDir, 'zero-ppo');
    symlinkSync(join(outside, 'secret.jsonl'), join(ppo, 'rollouts', 'step-999999.jsonl'));
    symlinkSync(outside, join(ppo, 'rollouts', 'step-999998.jsonl')); // a directory
    mkdirSync(join(ppo, 'eval', 'linked'), { recursive: true });
    symlinkSync(join(outside, 'eval', 'leak', 'summary.json'), join(ppo, 'eval', 'linked', 'summary.json'));
    symlinkSync(join(outside, 'eval', 'leak'), join(ppo, 'eval', 'dir-link'));
    rmSync(join(runsDir, 'zero-grpo', 'metrics.jsonl'));
    symlinkSync(join(outside, 'metrics.jsonl'), join(runsDir, 'zero-grpo', 'metrics.jsonl'));
    // a run folder that is itself a link out, and one whose rollouts/ folder is
    symlinkSync(outside, join(runsDir, 'linked-run'));
    mkdirSync(join(runsDir, 'rollouts-out'));
    writeFileSync(join(runsDir, 'rollouts-out', 'config.yaml'), 'run: {}\n');
    mkdirSync(join(outside, 'rollouts'));
    symlinkSync(join(outside, 'secret.jsonl'), join(outside, 'rollouts', 'step-000001.jsonl'));
    symlinkSync(join(outside, 'rollouts'), join(runsDir, 'rollouts-out', 'rollouts'));
    app = createApp({ registry: new RunRegistry(runsDir) });
  });
  after(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

  it('a rollout file linked out (file or directory) is not served', async () => {
    const r = await get('/api/runs/zero-ppo/rollouts?limit=500&step=999999');
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.text, /SECRET/);
    assert.equal(JSON.parse(r.text).total, 0);
    const all = await get('/api/runs/zero-ppo/rollouts?limit=500');
    assert.equal(all.status, 200, all.text);
    assert.doesNotMatch(all.text, /SECRET|999999|999998/);
  });

  it('metrics.jsonl linked out: no rows, no line count of the foreign file', async () => {
    const r = await get('/api/runs/zero-grpo/metrics');
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text);
    assert.equal(body.numRows, 0);
    assert.equal(body.numLines, 0);
    const runs = JSON.parse((await get('/api/runs')).text).runs;
    assert.deepEqual(
      runs.find((x: { name: string }) => x.name === 'zero-grpo'),
      { name: 'zero-grpo', numRows: 0, numMalformed: 0, lastStep: null, modified: null },
    );
  });

  it('an eval summary or label folder linked out is not served', async () => {
    const r = await get('/api/runs/zero-ppo/evals');
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.text, /SECRET|dir-link|"linked"/);
  });

  it('a run folder linked out is 404; a rollouts/ folder linked out is empty', async () => {
    assert.equal((await get('/api/runs/linked-run/metrics')).status, 404);
    const r = await get('/api/runs/rollouts-out/rollouts');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text).steps, []);
  });

  it('an unexpected error is a plain 500: no message, path or stack', async () => {
    const failing = createApp({ registry: new RunRegistry(runsDir) });
    failing.get('/api/boom', () => {
      throw new Error(`EISDIR: illegal operation on a directory, read ${outside}`);
    });
    const res = await failing.request('http://127.0.0.1/api/boom');
    const text = await res.text();
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(text), { error: INTERNAL_ERROR });
    assert.doesNotMatch(text, /EISDIR|outside|at /);
  });
});
