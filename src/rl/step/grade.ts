// Phase 2, grade: the reward grader's verdict on every response.
import type { Graded, Rollout, StepContext } from './types.ts';

export async function gradeRollout(ctx: StepContext, r: Rollout): Promise<Graded> {
  const grades = await ctx.grader.grade(
    r.samples.map((s) => ({ gold: s.item.answer, response: s.text, finished: s.finished })),
  );
  return { grades, scores: Float32Array.from(grades, (g) => g.reward) };
}

/** Whether the n rewards of group g are all equal (no group-relative signal). */
export function isUniformGroup(scores: Float32Array, n: number, g: number): boolean {
  for (let j = 1; j < n; j++) if (scores[g * n + j] !== scores[g * n]) return false;
  return true;
}

/** Groups (prompt indices) that take part in the update; all of them unless uniform ones are dropped. */
export function keptGroups(
  scores: Float32Array,
  n: number,
  numPrompts: number,
  dropUniform: boolean,
): number[] {
  const out: number[] = [];
  for (let g = 0; g < numPrompts; g++) if (!dropUniform || !isUniformGroup(scores, n, g)) out.push(g);
  return out;
}

export function selectGraded(gr: Graded, n: number, groups: number[]): Graded {
  const idx = groups.flatMap((g) => Array.from({ length: n }, (_, j) => g * n + j));
  return { grades: idx.map((i) => gr.grades[i]), scores: Float32Array.from(idx, (i) => gr.scores[i]) };
}

export function concatGraded(a: Graded, b: Graded): Graded {
  const scores = new Float32Array(a.scores.length + b.scores.length);
  scores.set(a.scores);
  scores.set(b.scores, a.scores.length);
  return { grades: [...a.grades, ...b.grades], scores };
}
