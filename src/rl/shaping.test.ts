// The 2025 shapings against per-token loop references (shapes × seeds) and hand-computed values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../util/random.ts';
import { mismatchStats, overlongPenalty, tisWeights, weightAdvantages } from './shaping.ts';

/** Reference: -factor / buffer for each token position that falls in the last `buffer` positions. */
function overlongLoop(numTokens: number, maxTokens: number, buffer: number, factor: number): number {
  let p = 0;
  for (let pos = 1; pos <= numTokens; pos++) if (pos > maxTokens - buffer) p -= factor / buffer;
  return p;
}

/** PPO clipped surrogate of one token, with branches (dual clip c when A < 0). */
function surrogate(adv: number, ratio: number, eps: number, epsHigh: number, c: number | null): number {
  const unclipped = -adv * ratio;
  const clipped = -adv * Math.min(Math.max(ratio, 1 - eps), 1 + epsHigh);
  let l = Math.max(unclipped, clipped);
  if (c !== null && adv < 0 && l > -adv * c) l = -adv * c;
  return l;
}

describe('overlong reward shaping (DAPO)', () => {
  test('hand-computed values: 0 before the buffer, linear inside, -factor at the limit', () => {
    assert.equal(overlongPenalty(80, 100, 20, 1), 0);
    assert.equal(overlongPenalty(90, 100, 20, 1), -0.5);
    assert.equal(overlongPenalty(100, 100, 20, 1), -1);
    assert.equal(overlongPenalty(95, 100, 20, 0.5), -0.375);
    assert.equal(overlongPenalty(1, 100, 100, 1), -0.01);
  });
  test('matches the per-token loop over lengths, limits, buffers and seeds', () => {
    for (let seed = 0; seed < 5; seed++) {
      const rand = mulberry32(seed);
      for (let k = 0; k < 200; k++) {
        const maxTokens = 1 + Math.floor(rand() * 300);
        const buffer = 1 + Math.floor(rand() * maxTokens);
        const len = Math.floor(rand() * (maxTokens + 1));
        const factor = rand() * 2;
        const want = overlongLoop(len, maxTokens, buffer, factor);
        assert.ok(
          Math.abs(overlongPenalty(len, maxTokens, buffer, factor) - want) < 1e-9,
          `${len}/${maxTokens}/${buffer}`,
        );
      }
    }
  });
});

describe('truncated importance sampling', () => {
  test('hand-computed weights: the ratio, capped', () => {
    const w = tisWeights(
      Float32Array.of(Math.log(0.5), Math.log(0.9), 0),
      Float32Array.of(Math.log(0.25), Math.log(0.9), -5),
      2,
    );
    assert.ok(Math.abs(w[0] - 2) < 1e-6 && Math.abs(w[1] - 1) < 1e-6);
    assert.equal(w[2], 2); // e^5 capped
  });
  test('advantages × w equal the loop of w × surrogate over shapes, seeds, clips and dual clip', () => {
    for (let seed = 0; seed < 6; seed++) {
      const rand = mulberry32(100 + seed);
      const T = 1 + Math.floor(rand() * 64);
      const adv = Float32Array.from({ length: T }, () => (rand() - 0.5) * 4);
      const ratio = Array.from({ length: T }, () => Math.exp((rand() - 0.5) * 2));
      const trainer = Float32Array.from({ length: T }, () => -rand() * 3);
      const gen = Float32Array.from(trainer, (x) => x + (rand() - 0.5) * 1.5);
      const cap = 1 + rand() * 2;
      const dual = seed % 2 === 0 ? 3 : null;
      const w = tisWeights(trainer, gen, cap);
      const weighted = weightAdvantages(adv, w);
      for (let t = 0; t < T; t++) {
        const want =
          Math.min(Math.exp(trainer[t] - gen[t]), cap) * surrogate(adv[t], ratio[t], 0.2, 0.28, dual);
        const got = surrogate(weighted[t], ratio[t], 0.2, 0.28, dual);
        assert.ok(Math.abs(got - want) < 1e-5 * (1 + Math.abs(want)), `token ${t}: ${got} vs ${want}`);
      }
    }
  });
  test('mismatch statistics over the masked tokens', () => {
    const m = mismatchStats(
      Float32Array.of(-1, -2, -3, -4),
      Float32Array.of(-1.5, -2, -1, -4.25),
      Uint8Array.of(1, 1, 0, 1),
    );
    assert.equal(m.max, 0.5);
    assert.ok(Math.abs(m.mean - 0.25) < 1e-9);
    assert.deepEqual(mismatchStats(new Float32Array(2), new Float32Array(2), new Uint8Array(2)), {
      max: 0,
      mean: 0,
    });
  });
});
