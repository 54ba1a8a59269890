// Dynamic sampling's bookkeeping: which groups are mixed, and rollouts cut and joined by group.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PromptItem } from '../prompt-set.ts';
import { concatGraded, keptGroups, selectGraded } from './grade.ts';
import { concatRollouts, selectGroups } from './rollout.ts';
import type { Rollout } from './types.ts';

/** A rollout of `lens.length / n` prompts with response j of length lens[j] and token ids tagging it. */
function fakeRollout(tag: number, n: number, lens: number[]): Rollout {
  const numPrompts = lens.length / n;
  const picked = Array.from(
    { length: numPrompts },
    (_, g) => ({ id: `p${tag}-${g}` }) as unknown as PromptItem,
  );
  const offsets = [0];
  for (const l of lens) offsets.push(offsets[offsets.length - 1] + l);
  const genIds = Int32Array.from({ length: offsets[offsets.length - 1] }, (_, t) => tag * 1000 + t);
  return {
    picked,
    promptIds: picked.map((_, g) => Int32Array.of(tag, g)),
    genIds,
    genOffsets: Int32Array.from(offsets),
    genLogprobs: Float32Array.from(genIds, (x) => -x / 1e4),
    samples: lens.map((l, s) => ({
      promptIndex: Math.floor(s / n),
      item: picked[Math.floor(s / n)],
      text: `${tag}:${s}`,
      numTokens: l,
      finished: true,
    })),
  };
}

describe('dynamic sampling bookkeeping', () => {
  test('mixed groups: hand-computed', () => {
    const scores = Float32Array.of(1, 1, 0, 1, -1, -1, 0.5, 0);
    assert.deepEqual(keptGroups(scores, 2, 4, true), [1, 3]);
    assert.deepEqual(keptGroups(scores, 2, 4, false), [0, 1, 2, 3]);
  });
  test('concat then select equals a per-sample loop over shapes and seeds', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const n = 1 + (seed % 3);
      const lensA = Array.from({ length: n * (1 + (seed % 4)) }, (_, i) => (i * seed) % 5);
      const lensB = Array.from({ length: n * 2 }, (_, i) => 1 + ((i + seed) % 3));
      const a = fakeRollout(1, n, lensA);
      const b = fakeRollout(2, n, lensB);
      const all = concatRollouts(a, b);
      const numGroups = all.picked.length;
      const groups = Array.from({ length: numGroups }, (_, g) => g).filter((g) => (g + seed) % 2 === 0);
      const sel = selectGroups(all, n, groups);
      // reference: the samples of the chosen groups, token by token, from the source rollouts
      const src = [...lensA.map((_, s) => [a, s] as const), ...lensB.map((_, s) => [b, s] as const)];
      const wantIds: number[] = [];
      const wantLp: number[] = [];
      const wantText: string[] = [];
      for (const g of groups)
        for (let j = 0; j < n; j++) {
          const [r, s] = src[g * n + j];
          for (let t = r.genOffsets[s]; t < r.genOffsets[s + 1]; t++) {
            wantIds.push(r.genIds[t]);
            wantLp.push(r.genLogprobs[t]);
          }
          wantText.push(r.samples[s].text);
        }
      assert.deepEqual(Array.from(sel.genIds), wantIds);
      assert.deepEqual(Array.from(sel.genLogprobs), Array.from(Float32Array.from(wantLp)));
      assert.deepEqual(
        sel.samples.map((s) => s.text),
        wantText,
      );
      assert.deepEqual(
        sel.samples.map((s) => s.promptIndex),
        wantText.map((_, i) => Math.floor(i / n)),
      );
      assert.equal(sel.genOffsets[sel.genOffsets.length - 1], wantIds.length);
      assert.deepEqual(
        sel.picked.map((p) => p.id),
        groups.map((g) => all.picked[g].id),
      );
      const graded = concatGraded(
        { grades: [], scores: Float32Array.from(lensA) },
        { grades: [], scores: Float32Array.from(lensB) },
      );
      assert.deepEqual(
        Array.from(
          selectGraded({ ...graded, grades: Array.from(graded.scores, () => ({}) as never) }, n, groups)
            .scores,
        ),
        groups.flatMap((g) => Array.from({ length: n }, (_, j) => graded.scores[g * n + j])),
      );
    }
  });
});
