import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countReflections,
  DEFAULT_REFLECTION_PHRASES,
  hasReflection,
  REFLECTION_ERROR,
  reflectionMetrics,
  V1_REFLECTION_PHRASES,
} from './reflection.ts';

describe('countReflections', () => {
  it('counts whole words only, case-insensitively (unlike the naive v1 substring count)', () => {
    // "awaits", "waiting", "nowait", "wait2" contain "wait" but are other words: 0 for wait.
    // "Wait" and "WAIT" are 2 matches.
    const text = 'Wait. He awaits, waiting; nowait wait2 WAIT!';
    const r = countReflections(text);
    assert.equal(r.byPhrase.wait, 2);
    assert.equal(r.total, 2);
  });

  it('treats accented letters as word characters', () => {
    assert.equal(countReflections('réwait éwait wait').byPhrase.wait, 1);
  });

  it('lets whitespace runs and hyphen variants match', () => {
    // try\n again (1) + Try  again (1) = 2; double-check, double check, doublecheck = 3;
    // re-evaluate, reevaluate = 2. Total 7.
    const r = countReflections(
      'try\n again. Try  again. double-check, double check, doublecheck. re-evaluate reevaluate',
    );
    assert.equal(r.byPhrase['try again'], 2);
    assert.equal(r.byPhrase['double-check'], 3);
    assert.equal(r.byPhrase['re-evaluate'], 2);
    assert.equal(r.total, 7);
  });

  it('does not double count a longer phrase that contains a shorter one', () => {
    // "Let me verify" is one match of "let me verify"; the later lone "verify" is one of "verify".
    const r = countReflections('Let me verify this. Then verify again. Let me check.');
    assert.equal(r.byPhrase['let me verify'], 1);
    assert.equal(r.byPhrase.verify, 1);
    assert.equal(r.byPhrase['let me check'], 1);
    assert.equal(r.total, 3);
  });

  it('supports custom phrases and a trailing * prefix wildcard', () => {
    // recheck* matches "rechecking" and "Recheck"; "hmm" matches once; "hmmm" is another word.
    const r = countReflections('Rechecking... Recheck. hmm hmmm', ['recheck*', 'hmm']);
    assert.deepEqual(r, { total: 3, byPhrase: { 'recheck*': 2, hmm: 1 } });
  });

  it('reports every phrase, zero when absent', () => {
    const r = countReflections('', V1_REFLECTION_PHRASES);
    assert.deepEqual(Object.keys(r.byPhrase), [...V1_REFLECTION_PHRASES]);
    assert.equal(r.total, 0);
  });

  it('escapes regex characters in phrases', () => {
    assert.equal(countReflections('a.b axb', ['a.b']).total, 1);
  });

  it('rejects empty and repeated phrase lists with a clear error', () => {
    assert.throws(() => countReflections('x', []), { message: `${REFLECTION_ERROR} the list is empty` });
    assert.throws(() => countReflections('x', ['wait', 'Wait']), /entry 1 \("Wait"\) is repeated/);
    assert.throws(() => countReflections('x', [' - ']), /has no letters/);
  });

  it('defaults include the v1 keywords and the issue-6 phrases', () => {
    for (const p of [...V1_REFLECTION_PHRASES, 'let me check', 're-evaluate', 'verify', 'double-check']) {
      assert.ok(DEFAULT_REFLECTION_PHRASES.includes(p), p);
    }
  });
});

describe('hasReflection', () => {
  it('is true only with a whole-word phrase, and stable across repeated calls', () => {
    assert.equal(hasReflection('awaits nothing'), false);
    assert.equal(hasReflection('Hmm, wait.'), true);
    assert.equal(hasReflection('Hmm, wait.'), true);
    assert.equal(hasReflection('alternatively', ['retry']), false);
  });
});

describe('reflectionMetrics', () => {
  it('gives the rate and the accuracy with and without a reflection', () => {
    const responses = ['4. Wait, 5.', '5', 'Let me verify: 3', '2'];
    const m = reflectionMetrics(responses, [true, true, false, false]);
    assert.deepEqual(m, {
      'reflection/rate': 0.5,
      'reflection/acc_with': 0.5,
      'reflection/acc_without': 0.5,
    });
    assert.deepEqual(reflectionMetrics(['7', '8'], [true, false]), {
      'reflection/rate': 0,
      'reflection/acc_without': 0.5,
    });
  });
});
