// Public API of the math verifier and the rule reward.
//
//   verify(gold, response, { extract: 'boxed' | 'any' })  → { correct, extracted, reason }   (sync, never throws)
//   extractAnswer(text, mode), answersEquivalent(a, b)     (maj@k grouping of extracted answers)
//   const grader = await Grader.create({ extract, rules, threads, timeoutMs, customReward })
//   await grader.grade([{ gold, response, finished }])    → [{ ...verdict, formatted, reward }]
//
// Extraction: 'boxed' reads the final \boxed{} only (the RL default); 'any' follows Math-Verify's
// priorities (box, "final answer is", "answer:", LaTeX environments, bare numbers). Equivalence:
// exact rationals first, Math-Verify's 6-decimal rounding when a side is written as a decimal,
// sampled evaluation (real, or complex when i appears) for symbolic answers, and structure for
// sets, tuples, intervals, matrices, equations and inequalities. The reward table and its knobs
// are documented in rules.ts.

export { type ExtractMode, extractAnswer } from './extract.ts';
export { type CustomReward, type Graded, type GradeItem, gradeItem } from './grade-item.ts';
export { Grader, type GraderOptions, TIMEOUT_REASON } from './grader.ts';
export {
  isFormatted,
  ORIGINAL_REWARD_RULES,
  type RewardRules,
  resolveRules,
  rewardOf,
  ZOO_REWARD_RULES,
} from './rules.ts';
export {
  answersEquivalent,
  goldAnswer,
  goldAnswers,
  type Verdict,
  type VerifyOptions,
  verify,
} from './verify.ts';
