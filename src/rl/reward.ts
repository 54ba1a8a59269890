// The reward section of the config → a Grader (verifier + reward table on worker threads).
import type { Config } from '../config/schema.ts';
import {
  type Graded,
  Grader,
  ORIGINAL_REWARD_RULES,
  type RewardRules,
  ZOO_REWARD_RULES,
} from '../reward/index.ts';

export type GradeResult = Graded;

export interface RewardGrader {
  grade(items: { gold: string; response: string; finished: boolean }[]): Promise<Graded[]>;
  close(): Promise<void>;
}

/** The reward table of a config: the preset with the non-null entries of reward.rules on top. */
export function rewardRulesOf(reward: Config['reward']): RewardRules {
  const base = reward.preset === 'zoo' ? ZOO_REWARD_RULES : ORIGINAL_REWARD_RULES;
  const r = reward.rules;
  return {
    correct: r.correct ?? base.correct,
    wrong: r.wrong ?? base.wrong,
    noAnswer: r.no_answer ?? base.noAnswer,
    truncated: r.truncated ?? base.truncated,
    format: r.format ?? base.format,
  };
}

export async function createGrader(cfg: Config): Promise<RewardGrader> {
  return Grader.create({
    extract: cfg.reward.extract,
    rules: rewardRulesOf(cfg.reward),
    timeoutMs: cfg.reward.timeout_ms,
    ...(cfg.reward.threads !== null ? { threads: cfg.reward.threads } : {}),
    ...(cfg.reward.custom !== null ? { customReward: cfg.reward.custom } : {}),
  });
}
