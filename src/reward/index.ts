// Public API of the math verifier and the rule reward. See rules.ts for the reward table's knobs.
export { answersEquivalent, goldAnswer, type Verdict, type VerifyOptions, verify } from './verify.ts';
export { type ExtractMode, extractAnswer } from './extract.ts';
export { type CustomReward, type GradeItem, type Graded, gradeItem } from './grade-item.ts';
export { isFormatted, ORIGINAL_REWARD_RULES, type RewardRules, resolveRules, rewardOf, ZOO_REWARD_RULES } from './rules.ts';
export { Grader, type GraderOptions, TIMEOUT_REASON } from './grader.ts';
