import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../util/random.ts';
import { REFERENCE_ESTIMATORS } from './estimators/reference.ts';
import {
  ADVANTAGE_ESTIMATOR_NAMES,
  type AdvantageInput,
  BAD_ADVANTAGE_INPUT,
  computeAdvantages,
  UNKNOWN_ESTIMATOR,
} from './estimators.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-5, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `${msg}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
}

describe('advantage estimators: hand-computed values', () => {
  test('gae without whitening', () => {
    // One response, r = [0, 0, 1], V = [0.5, 0.6, 0.7], γ = 1, λ = 0.5; V after the end = 0.
    //   t=2: δ = 1 + 0 − 0.7 = 0.3            A = 0.3
    //   t=1: δ = 0 + 0.7 − 0.6 = 0.1          A = 0.1 + 0.5·0.3  = 0.25
    //   t=0: δ = 0 + 0.6 − 0.5 = 0.1          A = 0.1 + 0.5·0.25 = 0.225
    //   returns = A + V = [0.725, 0.85, 1.0]
    const input: AdvantageInput = {
      tokenRewards: f32([0, 0, 1]),
      responseOffsets: i32([0, 3]),
      groupSize: 1,
      values: f32([0.5, 0.6, 0.7]),
      gamma: 1,
      lambda: 0.5,
      whiten: false,
    };
    const out = computeAdvantages('gae', input);
    assertClose(out.advantages, [0.225, 0.25, 0.3]);
    assertClose(out.returns, [0.725, 0.85, 1.0]);
    // Mask [1, 0, 1]: token 1 is skipped, so token 0 bootstraps from V_2.
    //   t=2: A = 0.3;  t=0: δ = 0 + 0.7 − 0.5 = 0.2, A = 0.2 + 0.5·0.3 = 0.35; return 0.35 + 0.5 = 0.85
    const masked = computeAdvantages('gae', { ...input, mask: Uint8Array.from([1, 0, 1]) });
    assertClose(masked.advantages, [0.35, 0, 0.3]);
    assertClose(masked.returns, [0.85, 0, 1.0]);
  });

  test('gae whitened over the batch', () => {
    // Same A = [0.225, 0.25, 0.3]: mean 0.258333, deviations (−4, −1, 5)/120, unbiased
    // std = sqrt((16 + 1 + 25)/2)/120 = sqrt(21)/120, so A_w = (−4, −1, 5)/sqrt(21).
    const out = computeAdvantages('gae', {
      tokenRewards: f32([0, 0, 1]),
      responseOffsets: i32([0, 3]),
      groupSize: 1,
      values: f32([0.5, 0.6, 0.7]),
      lambda: 0.5,
    });
    const s = Math.sqrt(21);
    assertClose(out.advantages, [-4 / s, -1 / s, 5 / s], 1e-4);
    assertClose(out.returns, [0.725, 0.85, 1.0]);
  });

  // Two prompts × 4 samples, one token each. Group 1 scores [1, −0.5, −1, 1]:
  //   μ = 0.5/4 = 0.125; deviations [0.875, −0.625, −1.125, 0.875];
  //   Σdev² = 0.765625 + 0.390625 + 1.265625 + 0.765625 = 3.1875; unbiased σ = sqrt(3.1875/3) = 1.0307764
  // Group 2 scores all 1: deviations 0, so every estimator gives 0.
  const groups: AdvantageInput = {
    tokenRewards: f32([1, -0.5, -1, 1, 1, 1, 1, 1]),
    responseOffsets: i32([0, 1, 2, 3, 4, 5, 6, 7, 8]),
    groupSize: 4,
  };
  const sigma = Math.sqrt(3.1875 / 3);

  test('grpo', () => {
    const expected = [0.875, -0.625, -1.125, 0.875].map((d) => d / (sigma + 1e-6));
    assertClose(expected, [0.848875, -0.606339, -1.09141, 0.848875], 1e-5, 'arithmetic');
    const out = computeAdvantages('grpo', groups);
    assertClose(out.advantages, [...expected, 0, 0, 0, 0]);
    assertClose(out.returns, [...expected, 0, 0, 0, 0]);
  });

  test('grpo-no-std', () => {
    assertClose(
      computeAdvantages('grpo-no-std', groups).advantages,
      [0.875, -0.625, -1.125, 0.875, 0, 0, 0, 0],
    );
  });

  test('rloo', () => {
    // A_i = s_i − mean of the other three: 1 − (−0.5 − 1 + 1)/3 = 7/6; −0.5 − (1 − 1 + 1)/3 = −5/6;
    // −1 − (1 − 0.5 + 1)/3 = −1.5; same as the first for the last.
    assertClose(computeAdvantages('rloo', groups).advantages, [7 / 6, -5 / 6, -1.5, 7 / 6, 0, 0, 0, 0]);
  });

  test('group estimators broadcast the sequence score (sum of token rewards) over tokens × mask', () => {
    // groupSize 2: response 0 = 2 tokens [−0.1, 1] (score 0.9), response 1 = 3 tokens [0, 0.2, −1] (−0.8).
    // grpo-no-std: μ = 0.05 → A = [0.85, −0.85]; token 1 of response 1 masked.
    const out = computeAdvantages('grpo-no-std', {
      tokenRewards: f32([-0.1, 1, 0, 0.2, -1]),
      responseOffsets: i32([0, 2, 5]),
      groupSize: 2,
      mask: Uint8Array.from([1, 1, 1, 0, 1]),
    });
    assertClose(out.advantages, [0.85, 0.85, -0.85, 0, -0.85]);
  });

  test('reinforce++', () => {
    // γ = 1: response 0 r = [0.1, 0, 1] → G = [1.1, 1, 1]; response 1 r = [0, −1] → G = [−1, −1].
    // mean = 1.1/5 = 0.22; deviations [0.88, 0.78, 0.78, −1.22, −1.22];
    // Σdev² = 0.7744 + 0.6084·2 + 1.4884·2 = 4.968; var = 4.968/4 = 1.242; σ = 1.1144505
    const input: AdvantageInput = {
      tokenRewards: f32([0.1, 0, 1, 0, -1]),
      responseOffsets: i32([0, 3, 5]),
      groupSize: 1,
    };
    const out = computeAdvantages('reinforce++', input);
    const s = Math.sqrt(1.242);
    assertClose(out.returns, [1.1, 1, 1, -1, -1]);
    assertClose(out.advantages, [0.88 / s, 0.78 / s, 0.78 / s, -1.22 / s, -1.22 / s], 1e-4);
    // γ = 0.5: G = [0.1 + 0.5·(0 + 0.5·1), 0 + 0.5·1, 1] = [0.35, 0.5, 1]; [0 + 0.5·(−1), −1] = [−0.5, −1]
    assertClose(computeAdvantages('reinforce++', { ...input, gamma: 0.5 }).returns, [0.35, 0.5, 1, -0.5, -1]);
  });
});

describe('advantage estimators: flat versions agree with the loop references (on CPU)', () => {
  for (const name of ADVANTAGE_ESTIMATOR_NAMES)
    test(name, () => {
      for (let seed = 0; seed < 40; seed++) {
        const rand = mulberry32(seed * 7919 + 1); // seeded, so the shapes and values are reproducible
        const groupSize = [1, 2, 4, 5, 8][seed % 5];
        const numGroups = 1 + Math.floor(rand() * 4);
        const lengths = Array.from(
          { length: groupSize * numGroups },
          () => Math.floor(rand() * 12) + (seed % 3 ? 1 : 0),
        );
        const offsets = [0];
        for (const len of lengths) offsets.push(offsets[offsets.length - 1] + len);
        const numTokens = offsets[offsets.length - 1];
        const tokenRewards = Float32Array.from({ length: numTokens }, () =>
          rand() < 0.3 ? rand() * 2 - 1 : 0,
        );
        const input: AdvantageInput = {
          tokenRewards,
          responseOffsets: Int32Array.from(offsets),
          groupSize,
          values: Float32Array.from({ length: numTokens }, () => rand() * 2 - 1),
          gamma: seed % 2 ? 1 : 0.5 + rand() * 0.5,
          lambda: rand(),
          mask:
            seed % 4 === 0
              ? undefined
              : Uint8Array.from({ length: numTokens }, () => (rand() < 0.85 ? 1 : 0)),
          whiten: seed % 3 !== 1,
        };
        const ours = computeAdvantages(name, input);
        const ref = REFERENCE_ESTIMATORS[name](input);
        assertClose(ours.advantages, [...ref.advantages], 1e-4, `${name} seed ${seed} advantages`);
        assertClose(ours.returns, [...ref.returns], 1e-4, `${name} seed ${seed} returns`);
      }
    });
});

describe('advantage estimator errors', () => {
  test('an unknown name lists the valid names', () => {
    assert.throws(
      () => computeAdvantages('ppo', { tokenRewards: f32([]), responseOffsets: i32([0]), groupSize: 1 }),
      (e: Error) =>
        e.message.startsWith(UNKNOWN_ESTIMATOR) &&
        ADVANTAGE_ESTIMATOR_NAMES.every((n) => e.message.includes(n)),
    );
  });

  test('bad shapes name the field', () => {
    const base: AdvantageInput = {
      tokenRewards: f32([0, 1, 0]),
      responseOffsets: i32([0, 1, 3]),
      groupSize: 2,
    };
    const cases: [string, AdvantageInput, RegExp][] = [
      ['gae', base, /values are required/],
      ['gae', { ...base, values: f32([0]) }, /values\.length = 1, expected 3/],
      ['grpo', { ...base, groupSize: 3 }, /2 responses are not a multiple of groupSize 3/],
      [
        'grpo',
        { ...base, responseOffsets: i32([0, 1, 2]) },
        /responseOffsets\[R\] = 2 must equal tokenRewards\.length = 3/,
      ],
      ['rloo', { ...base, responseOffsets: i32([0, 2, 1, 3]) }, /must not decrease/],
      ['reinforce++', { ...base, gamma: 1.5 }, /gamma must be in \[0, 1\]/],
      ['grpo', { ...base, tokenRewards: f32([0, Number.NaN, 0]) }, /tokenRewards\[1\] is not finite/],
      ['rloo', { ...base, mask: Uint8Array.from([1]) }, /mask\.length = 1/],
    ];
    for (const [name, input, re] of cases)
      assert.throws(
        () => computeAdvantages(name, input),
        (e: Error) => e.message.startsWith(BAD_ADVANTAGE_INPUT) && re.test(e.message),
        `${name} ${re}`,
      );
  });
});

describe('advantage estimators: conformance (every estimator, on CPU)', () => {
  // 3 prompts × 4 samples with responses of 1-5 tokens, an outcome on the last token and a small KL
  // term on every token; token 1 of every response with ≥ 2 tokens is masked.
  const groupSize = 4;
  const lengths = [3, 1, 5, 2, 4, 4, 1, 3, 2, 5, 3, 1];
  const offsets = [0];
  for (const len of lengths) offsets.push(offsets[offsets.length - 1] + len);
  const numTokens = offsets[offsets.length - 1];
  const tokenRewards = new Float32Array(numTokens);
  const mask = new Uint8Array(numTokens).fill(1);
  for (let b = 0; b < lengths.length; b++) {
    for (let t = offsets[b]; t < offsets[b + 1]; t++) tokenRewards[t] = -0.01 * ((t * 7) % 5);
    tokenRewards[offsets[b + 1] - 1] += [1, -0.5, -1][(b * 5) % 3];
    if (lengths[b] >= 2) mask[offsets[b] + 1] = 0;
  }
  const input: AdvantageInput = {
    tokenRewards,
    responseOffsets: Int32Array.from(offsets),
    groupSize,
    values: Float32Array.from({ length: numTokens }, (_, t) => Math.sin(t)),
    mask,
  };
  const shift = (x: AdvantageInput, c: number): AdvantageInput => {
    const r = Float32Array.from(x.tokenRewards);
    for (let b = 0; b + 1 < x.responseOffsets.length; b++) r[x.responseOffsets[b + 1] - 1] += c;
    return { ...x, tokenRewards: r };
  };

  for (const name of ADVANTAGE_ESTIMATOR_NAMES) {
    test(`${name}: shapes, finite values, zero on masked tokens, deterministic, input untouched`, () => {
      const before = Float32Array.from(input.tokenRewards);
      const out = computeAdvantages(name, input);
      assert.equal(out.advantages.length, numTokens);
      assert.equal(out.returns.length, numTokens);
      for (let t = 0; t < numTokens; t++) {
        assert.ok(Number.isFinite(out.advantages[t]) && Number.isFinite(out.returns[t]), `token ${t}`);
        if (!mask[t]) assert.equal(out.advantages[t], 0, `masked token ${t}`);
      }
      assert.deepEqual(computeAdvantages(name, input), out);
      assert.deepEqual(input.tokenRewards, before);
    });

    // The group and whitened estimators only compare responses, so adding the same constant to every
    // outcome changes nothing. GAE bootstraps from absolute critic values, so it is not invariant.
    test(`${name}: a constant added to every outcome leaves the advantages unchanged`, {
      skip: name === 'gae' ? 'GAE compares rewards with absolute critic values' : false,
    }, () => {
      const a = computeAdvantages(name, input).advantages;
      const b = computeAdvantages(name, shift(input, 3)).advantages;
      assertClose(b, [...a], 1e-4, name);
    });

    test(`${name}: a better outcome never gets a smaller advantage within its group`, {
      skip: name === 'gae' ? 'GAE advantages depend on the critic too' : false,
    }, () => {
      // single-token responses, so the per-token advantage is the response's advantage
      const scores = [0.2, 1, -1, 0.5, 0, 0, 3, -2];
      const out = computeAdvantages(name, {
        tokenRewards: Float32Array.from(scores),
        responseOffsets: Int32Array.from(scores.map((_, i) => i).concat(scores.length)),
        groupSize: 4,
      });
      for (let g = 0; g < scores.length; g += 4)
        for (let i = g; i < g + 4; i++)
          for (let j = g; j < g + 4; j++)
            if (scores[i] > scores[j])
              assert.ok(out.advantages[i] > out.advantages[j], `${name} ${i} vs ${j}`);
    });
  }
});
