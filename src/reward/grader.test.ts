import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CUSTOM_REWARD_ERROR } from './grader.ts';
import { Grader, TIMEOUT_REASON, verify } from './index.ts';

const CUSTOM = join(import.meta.dirname, '..', '..', 'tests', 'verifier', 'fixtures', 'custom-reward.ts');

describe('Grader (worker pool)', () => {
  let grader: Grader;
  before(async () => {
    grader = await Grader.create({ threads: 1, timeoutMs: 2000 });
  });
  after(() => grader.close());

  it('grades a batch in order, like verify in-thread', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      gold: `${i}`,
      response: `so \\boxed{${i % 3 === 0 ? i + 1 : i}}`,
    }));
    const graded = await grader.grade(items);
    assert.equal(graded.length, 40);
    graded.forEach((g, i) => {
      const v = verify(items[i].gold, items[i].response);
      assert.equal(g.correct, v.correct);
      assert.equal(g.extracted, v.extracted);
      assert.equal(g.reward, v.correct ? 1 : -0.5);
    });
  });

  it('grades an empty batch', async () => assert.deepEqual(await grader.grade([]), []));
});

describe('Grader with a custom reward and a time budget', () => {
  let grader: Grader;
  before(async () => {
    grader = await Grader.create({ threads: 1, timeoutMs: 400, customReward: CUSTOM, extract: 'any' });
  });
  after(() => grader.close());

  it('uses the custom reward', async () => {
    const [a, b] = await grader.grade([
      { gold: '1', response: '\\boxed{1}' },
      { gold: '1', response: '\\boxed{2}' },
    ]);
    assert.equal(a.reward, 2 - 9 / 1000);
    assert.equal(b.reward, -2 - 9 / 1000);
  });

  it('terminates a stuck worker, answers timeout for that item only, and keeps working', async () => {
    const items = [
      { gold: '1', response: '\\boxed{1}' },
      { gold: 'hang', response: '\\boxed{1}' },
      { gold: '3', response: '\\boxed{3}' },
    ];
    const t0 = performance.now();
    const graded = await grader.grade(items);
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(graded[1].reason, TIMEOUT_REASON);
    assert.equal(graded[1].correct, false);
    assert.equal(graded[1].reward, -0.5); // formatted but not correct
    assert.equal(graded[0].correct, true);
    assert.equal(graded[2].correct, true);
    const again = await grader.grade([{ gold: '2', response: '\\boxed{2}' }]);
    assert.equal(again[0].correct, true);
  });
});

describe('Grader when a worker dies', () => {
  it('answers error for that item and keeps grading', async () => {
    const grader = await Grader.create({ threads: 1, timeoutMs: 2000, customReward: CUSTOM });
    try {
      const graded = await grader.grade([
        { gold: '1', response: '\\boxed{1}' },
        { gold: 'crash', response: '\\boxed{1}' },
        { gold: '2', response: '\\boxed{2}' },
      ]);
      assert.match(graded[1].reason, /^error: /);
      assert.equal(graded[1].correct, false);
      assert.equal(graded[0].correct, true);
      assert.equal(graded[2].correct, true);
    } finally {
      await grader.close();
    }
  });
});

describe('Grader.create', () => {
  it('rejects a bad time budget and bad rules', async () => {
    await assert.rejects(Grader.create({ timeoutMs: 0 }), /timeoutMs/);
    await assert.rejects(Grader.create({ rules: { wrong: Number.POSITIVE_INFINITY } }), /wrong/);
  });
  it('refuses to grade after close', async () => {
    const g = await Grader.create({ threads: 1 });
    await g.close();
    await assert.rejects(g.grade([{ gold: '1', response: '1' }]), /after close/);
  });
  it('a custom reward that is missing or does not load is named (not "[object Object]")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simplerl-custom-reward-'));
    try {
      const missing = join(dir, 'nope.ts');
      await assert.rejects(
        Grader.create({ threads: 1, customReward: missing }),
        (err: Error) => err.message === `${CUSTOM_REWARD_ERROR} ${missing}: file not found`,
      );
      const broken = join(dir, 'broken.mjs');
      writeFileSync(broken, 'import { nothing } from "./not-there.mjs";\nexport default () => 1;\n');
      await assert.rejects(
        Grader.create({ threads: 1, customReward: broken }),
        (err: Error) =>
          err instanceof Error && err.message.startsWith(`${CUSTOM_REWARD_ERROR} ${broken}: cannot load: `),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
