import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdaptiveKL,
  BAD_KL_CONTROLLER_STATE,
  createKlController,
  dropUniformGroups,
  FixedKL,
  klControllerFromState,
  klPerToken,
  maskedMean,
  placeOutcomeRewards,
  rowMaskToTokens,
  UNKNOWN_KL_ESTIMATOR,
} from './kl.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('k1, k2, k3 by hand', () => {
  // logp = −1, ref = −1.5 → x = 0.5: k1 = 0.5, k2 = 0.5·0.25 = 0.125, k3 = e^−0.5 − 1 + 0.5 = 0.1065307
  // logp = −2, ref = −1   → x = −1:  k1 = −1,  k2 = 0.5,            k3 = e^1 − 1 − 1 = 0.7182818
  const logp = Float32Array.from([-1, -2]);
  const ref = Float32Array.from([-1.5, -1]);
  const k1 = klPerToken(logp, ref, 'k1');
  const k2 = klPerToken(logp, ref, 'k2');
  const k3 = klPerToken(logp, ref, 'k3');
  close(k1[0], 0.5);
  close(k1[1], -1);
  close(k2[0], 0.125);
  close(k2[1], 0.5);
  close(k3[0], 0.1065307);
  close(k3[1], 0.7182818);
  // k3 is clamped to 10 (verl low_var_kl): x = −20 → e^20 − 21 → 10
  assert.equal(klPerToken(Float32Array.from([-30]), Float32Array.from([-10]), 'k3')[0], 10);
  assert.deepEqual([...klPerToken(logp, ref, 'k1', Uint8Array.from([0, 1]))], [0, -1]);
  close(maskedMean(k1, Uint8Array.from([1, 1])), -0.25);
  assert.throws(
    () => klPerToken(logp, ref, 'k4'),
    (e: Error) => e.message.startsWith(UNKNOWN_KL_ESTIMATOR) && /k1, k2, k3/.test(e.message),
  );
});

test('placeOutcomeRewards: score on the last token, −coef·kl on every token', () => {
  // scores [1, −1]; responses of 2 and 3 tokens; kl [0.1, 0.2, 0, 0.4, −0.2]; coef 0.5
  //   response 0: [−0.05, −0.1 + 1]        = [−0.05, 0.9]
  //   response 1: [0, −0.2, 0.1 − 1]       = [0, −0.2, −0.9]
  const out = placeOutcomeRewards(
    Float32Array.from([1, -1]),
    Int32Array.from([0, 2, 5]),
    Float32Array.from([0.1, 0.2, 0, 0.4, -0.2]),
    0.5,
  );
  for (const [i, x] of [-0.05, 0.9, 0, -0.2, -0.9].entries()) close(out[i], x);
  assert.deepEqual([...placeOutcomeRewards(Float32Array.from([2]), Int32Array.from([0, 3]))], [0, 0, 2]);
  assert.throws(
    () => placeOutcomeRewards(Float32Array.from([1, 1]), Int32Array.from([0, 0, 1])),
    /response 0 is empty/,
  );
  assert.throws(
    () => placeOutcomeRewards(Float32Array.from([1]), Int32Array.from([0, 0, 1])),
    /scores\.length = 1/,
  );
});

test('dropUniformGroups keeps only groups with differing rewards', () => {
  const keep = dropUniformGroups(Float32Array.from([1, 1, 0, 0, -1, -1, -1, -1, 0.5, 0.5, 0.5, -0.5]), 4);
  assert.deepEqual([...keep], [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual([...rowMaskToTokens(Uint8Array.from([0, 1]), Int32Array.from([0, 2, 3]))], [0, 0, 1]);
  assert.throws(() => dropUniformGroups(Float32Array.from([1, 2, 3]), 2), /not a multiple of groupSize 2/);
});

test('AdaptiveKL follows Ziegler et al. by hand; state round-trips', () => {
  // coef 0.1, target 6, horizon 10000
  //   KL 9,   n 1000: e = clip(9/6 − 1 = 0.5) = 0.2    → 0.1 · (1 + 0.2·0.1)     = 0.102
  //   KL 3,   n 1000: e = clip(−0.5) = −0.2            → 0.102 · (1 − 0.02)      = 0.09996
  //   KL 6.6, n 5000: e = 0.1                          → 0.09996 · (1 + 0.05)    = 0.104958
  const kl = new AdaptiveKL(0.1, 6, 10000);
  kl.update(9, 1000);
  close(kl.coef, 0.102);
  kl.update(3, 1000);
  close(kl.coef, 0.09996);
  const resumed = klControllerFromState(JSON.parse(JSON.stringify(kl.state())));
  for (const c of [kl, resumed]) c.update(6.6, 5000);
  close(kl.coef, 0.104958);
  assert.equal(resumed.coef, kl.coef);
  kl.update(Number.NaN, 1000);
  close(kl.coef, 0.104958);
  assert.ok(AdaptiveKL.fromState(kl.state()) instanceof AdaptiveKL);
});

test('FixedKL never moves; factories and bad states', () => {
  const kl = new FixedKL(0.01);
  kl.update(100, 1000);
  assert.equal(kl.coef, 0.01);
  assert.deepEqual(FixedKL.fromState(kl.state()).state(), { type: 'fixed', coef: 0.01 });
  assert.ok(createKlController({ coef: 0.01 }) instanceof FixedKL);
  assert.ok(createKlController({ coef: 0.01, target: 6, horizon: 10 }) instanceof AdaptiveKL);
  assert.throws(
    () => klControllerFromState({ type: 'pid' } as never),
    (e: Error) => e.message.startsWith(BAD_KL_CONTROLLER_STATE),
  );
  assert.throws(() => FixedKL.fromState(new AdaptiveKL(1, 1, 1).state()), /expected type "fixed"/);
  assert.throws(() => new AdaptiveKL(0.1, 0, 1), /target must be > 0/);
});
