// Grading one item: verify + format + reward table (+ the user's reward function when given).
// Runs inside a pool worker (see grader.ts) and in-thread for callers without a pool.
import type { ExtractMode } from './extract.ts';
import { isFormatted, type RewardRules, rewardOf } from './rules.ts';
import { type Verdict, verify } from './verify.ts';

export interface GradeItem {
  gold: string;
  response: string;
  /** false when the response hit the length limit; default true. */
  finished?: boolean;
}

export interface Graded extends Verdict {
  formatted: boolean;
  reward: number;
}

/** A user reward: default export of a TS/JS module; its return value replaces the table's reward. */
export type CustomReward = (item: GradeItem & { verdict: Verdict }) => number | Promise<number>;

export interface GradeSettings {
  extract: ExtractMode;
  rules: RewardRules;
}

export function gradeItem(item: GradeItem, settings: GradeSettings): Graded {
  const finished = item.finished ?? true;
  const verdict = verify(item.gold, item.response, { extract: settings.extract });
  const formatted = isFormatted(String(item.response ?? ''), finished, settings.rules.format);
  return { ...verdict, formatted, reward: rewardOf(verdict, formatted, finished, settings.rules) };
}

export async function applyCustomReward(
  item: GradeItem,
  graded: Graded,
  custom: CustomReward,
): Promise<Graded> {
  const { formatted: _f, reward: _r, ...verdict } = graded;
  const value = await custom({ ...item, verdict });
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { ...graded, reward: graded.reward, reason: `error: custom reward returned ${String(value)}` };
  }
  return { ...graded, reward: value };
}
