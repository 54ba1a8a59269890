import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAD_SAMPLER_STATE, epochPermutation, PromptSampler, type SamplerState } from './sampler.ts';

test('the same seed gives the same order; another seed another order', () => {
  const a = new PromptSampler(50, 7).next(120);
  assert.deepEqual(new PromptSampler(50, 7).next(120), a);
  assert.notDeepEqual(new PromptSampler(50, 8).next(120), a);
});

test('each epoch is a permutation, and epochs are shuffled differently', () => {
  const s = new PromptSampler(37, 1);
  const e0 = s.next(37);
  const e1 = s.next(37);
  assert.deepEqual(
    [...e0].sort((x, y) => x - y),
    [...Array(37).keys()],
  );
  assert.deepEqual(
    [...e1].sort((x, y) => x - y),
    [...Array(37).keys()],
  );
  assert.notDeepEqual(e0, e1);
  assert.deepEqual(e0, [...epochPermutation(37, 1, 0)]);
  assert.deepEqual(s.state(), { seed: 1, epoch: 1, position: 37, numItems: 37 });
  assert.equal(s.currentEpoch, 2);
});

test('no item lost or repeated across an epoch boundary and a resume (via JSON)', () => {
  const numItems = 23;
  for (const batch of [1, 4, 5, 23, 30]) {
    const reference = new PromptSampler(numItems, 42).next(batch * 12);
    const taken: number[] = [];
    let s = new PromptSampler(numItems, 42);
    for (let step = 0; step < 12; step++) {
      taken.push(...s.next(batch));
      if (step % 3 === 1) {
        const saved = JSON.parse(JSON.stringify(s.state())) as SamplerState;
        s = new PromptSampler(numItems, 42, saved); // simulated crash + resume
      }
    }
    assert.deepEqual(taken, reference, `batch ${batch}`);
    // every complete epoch of the stream is a permutation
    for (let e = 0; (e + 1) * numItems <= taken.length; e++) {
      const epoch = taken.slice(e * numItems, (e + 1) * numItems).sort((x, y) => x - y);
      assert.deepEqual(epoch, [...Array(numItems).keys()], `batch ${batch}, epoch ${e}`);
    }
  }
});

test('a state that does not fit is rejected', () => {
  const state = new PromptSampler(10, 3).state();
  assert.throws(
    () => new PromptSampler(11, 3, state),
    (e: Error) => e.message.startsWith(BAD_SAMPLER_STATE),
  );
  assert.throws(() => new PromptSampler(10, 4, state), /state\.seed 3 differs/);
  assert.throws(() => new PromptSampler(10, 3, { ...state, position: 11 }), /state\.position/);
  assert.throws(() => new PromptSampler(0, 3), /numItems must be a positive integer/);
});
