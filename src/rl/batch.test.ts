import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildBatch, maskedMean, perSampleSum, selectSamples } from './batch.ts';
import { samplingSeed, shuffled } from './seeds.ts';

describe('rollout batch', () => {
  // Two prompts [1,2] and [3], n = 2 samples each: responses [10], [11,12], [13], [14,15,16].
  const batch = buildBatch(
    [Int32Array.of(1, 2), Int32Array.of(3)],
    2,
    Int32Array.of(10, 11, 12, 13, 14, 15, 16),
    Int32Array.of(0, 1, 3, 4, 7),
  );

  test('sequences are prompt + response, prompt-major', () => {
    assert.deepEqual(Array.from(batch.ids), [1, 2, 10, 1, 2, 11, 12, 3, 13, 3, 14, 15, 16]);
    assert.deepEqual(Array.from(batch.offsets), [0, 3, 7, 9, 13]);
    assert.deepEqual(Array.from(batch.promptLens), [2, 2, 1, 1]);
  });

  test('a sub-batch carries its samples and their per-token arrays', () => {
    const adv = Float32Array.of(0, 1, 2, 3, 4, 5, 6);
    const mask = Uint8Array.of(1, 1, 0, 1, 1, 1, 1);
    const sub = selectSamples(batch, { adv, mask }, [3, 1]);
    assert.deepEqual(Array.from(sub.batch.ids), [3, 14, 15, 16, 1, 2, 11, 12]);
    assert.deepEqual(Array.from(sub.batch.offsets), [0, 4, 8]);
    assert.deepEqual(Array.from(sub.batch.promptLens), [1, 2]);
    assert.deepEqual(Array.from(sub.batch.responseOffsets), [0, 3, 5]);
    assert.deepEqual(Array.from(sub.arrays.adv), [4, 5, 6, 1, 2]);
    assert.ok(sub.arrays.mask instanceof Uint8Array);
    assert.deepEqual(Array.from(sub.arrays.mask), [1, 1, 1, 1, 0]);
  });

  test('a wrong number of responses is refused', () => {
    assert.throws(
      () => buildBatch([Int32Array.of(1)], 2, Int32Array.of(5), Int32Array.of(0, 1)),
      /1 responses for 1 prompts × n=2/,
    );
  });

  test('per-sample sums and masked means', () => {
    const v = Float32Array.of(1, 2, 3, 4, 5, 6, 7);
    const mask = Uint8Array.of(1, 0, 1, 1, 1, 1, 0);
    assert.deepEqual(Array.from(perSampleSum(v, batch.responseOffsets, mask)), [1, 3, 4, 11]);
    assert.equal(maskedMean(v, mask), (1 + 3 + 4 + 5 + 6) / 5);
  });
});

describe('controller seeds', () => {
  test('sampling seeds depend only on (run seed, step, prompt index) and fit 31 bits', () => {
    assert.equal(samplingSeed(1, 5, 3), samplingSeed(1, 5, 3));
    const seen = new Set<number>();
    for (let step = 1; step <= 20; step++) for (let j = 0; j < 50; j++) seen.add(samplingSeed(7, step, j));
    assert.equal(seen.size, 1000);
    for (const s of seen) assert.ok(s >= 0 && s < 2 ** 31);
    assert.notEqual(samplingSeed(1, 5, 3), samplingSeed(2, 5, 3));
  });

  test('mini-batch order is a deterministic permutation', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const a = shuffled(items, 3, 4, 0);
    assert.deepEqual(a, shuffled(items, 3, 4, 0));
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      items,
    );
    assert.notDeepEqual(a, shuffled(items, 3, 4, 1));
  });
});
