import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseThreads, measureBusyCores, pickThreads } from './threads.ts';

test('demo threads: free cores decide the thread count', () => {
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

test('demo threads: sampling the machine gives a sane reading', async () => {
  const busy = await measureBusyCores(50);
  assert.ok(Number.isFinite(busy) && busy >= 0);
  const choice = await pickThreads(undefined, 50);
  assert.ok(choice.threads >= 1 && choice.threads <= choice.numCores);
});
