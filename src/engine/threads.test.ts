import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUSY_NOTICE,
  chooseThreads,
  measureBusyCores,
  noticeBusy,
  pickThreads,
  type ThreadChoice,
} from './threads.ts';

test('engine threads: free cores decide the thread count', () => {
  assert.equal(chooseThreads(0, 2).threads, 2);
  assert.equal(chooseThreads(0, 2).isBusy, false);
  assert.equal(chooseThreads(0.3, 2).threads, 2);
  const busy = chooseThreads(1.1, 2);
  assert.equal(busy.threads, 1);
  assert.equal(busy.isBusy, true);
  assert.match(busy.message, /machine busy/);
  assert.equal(chooseThreads(5, 2).threads, 1, 'never fewer than one');
  assert.equal(chooseThreads(2.2, 16).threads, 14);
  assert.equal(chooseThreads(1.5, 2, 2).threads, 2, 'an explicit request wins');
});

test('engine threads: sampling the machine gives a sane reading', async () => {
  const busy = await measureBusyCores(50);
  assert.ok(Number.isFinite(busy) && busy >= 0);
  const choice = await pickThreads(undefined, 50);
  assert.ok(choice.threads >= 1 && choice.threads <= choice.numCores);
});

test('an engine started without threads runs with the count picked from the free cores', async () => {
  const { EngineClient } = await import('./client.ts');
  let choice: ThreadChoice | undefined;
  const engine = await EngineClient.start({
    device: 'cpu',
    onThreads: (c) => {
      choice = c;
    },
  });
  try {
    assert.ok(choice !== undefined, 'onThreads was called');
    assert.equal((await engine.hello()).threads, choice.threads);
  } finally {
    await engine.shutdown();
  }
});

test('the busy notice is said only when the machine is busy', () => {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => lines.push(s) > 0) as typeof process.stderr.write;
  try {
    noticeBusy(chooseThreads(0, 2));
    noticeBusy(chooseThreads(1.5, 2));
  } finally {
    process.stderr.write = write;
  }
  assert.equal(lines.length, 1);
  assert.ok(lines[0].startsWith(`${BUSY_NOTICE} machine busy: 1.5 of 2 cores busy`), lines[0]);
});
