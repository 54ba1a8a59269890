// The reward table: a verdict plus the response's form → one scalar reward.
import { countBoxes, lastBoxed } from './boxed.ts';
import type { Verdict } from './verify.ts';

export interface RewardRules {
  /** Reward of a well-formatted, correct answer. Original work: +1. */
  correct: number;
  /** Reward of a well-formatted answer that is wrong, timed out or errored. Original work: -0.5. */
  wrong: number;
  /** Reward when the response is not well formatted (no final box under 'strict'/'original', no answer at all under 'none'). Original: -1. */
  noAnswer: number;
  /** Reward when the response hit the length limit (finished=false). Ignored under 'original', which never looked at it. Original: -1. */
  truncated: number;
  /**
   * What "well formatted" means.
   * - 'strict' (default): exactly one \boxed{...} that closes, and the response ended by itself (finished).
   * - 'original': the substring `boxed` appears (SimpleRL v0's rule; truncation is not checked).
   * - 'none': no format check, correctness only (SimpleRL-Zoo / v1 used 1 / 0).
   */
  format: 'strict' | 'original' | 'none';
}

/** SimpleRL v0's table (+1 / -0.5 / -1, and -1 for a truncated response) with the strict format rule. */
export const ORIGINAL_REWARD_RULES: RewardRules = Object.freeze({
  correct: 1,
  wrong: -0.5,
  noAnswer: -1,
  truncated: -1,
  format: 'strict',
});

/** SimpleRL-Zoo's correctness-only reward: 1 when correct, else 0. */
export const ZOO_REWARD_RULES: RewardRules = Object.freeze({
  correct: 1,
  wrong: 0,
  noAnswer: 0,
  truncated: 0,
  format: 'none',
});

export const REWARD_FORMATS = ['strict', 'original', 'none'] as const;

export function resolveRules(rules: Partial<RewardRules> = {}): RewardRules {
  const r = { ...ORIGINAL_REWARD_RULES, ...rules };
  for (const key of ['correct', 'wrong', 'noAnswer', 'truncated'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key]))
      throw new Error(`reward rules: ${key} must be a finite number, got ${String(r[key])}`);
  }
  if (!REWARD_FORMATS.includes(r.format))
    throw new Error(
      `reward rules: format must be one of ${REWARD_FORMATS.join(', ')}, got ${String(r.format)}`,
    );
  return r;
}

/** Whether the response is well formatted under the rule (the response is cut at the first stop word first). */
export function isFormatted(response: string, finished: boolean, format: RewardRules['format']): boolean {
  const text = cutAtStop(response);
  if (format === 'none') return true;
  if (format === 'original') return text.includes('boxed');
  if (!finished || countBoxes(text) !== 1) return false;
  const box = lastBoxed(text);
  return box !== null && box.content.trim() !== '' && /\\(?:boxed|fbox)\s*\{/.test(text) && closes(text);
}

function closes(text: string): boolean {
  const i = text.search(/\\(?:boxed|fbox)\s*\{/);
  const open = text.indexOf('{', i);
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return true;
  }
  return false;
}

function cutAtStop(text: string): string {
  let end = text.length;
  for (const w of ['<|im_end|>', '<|endoftext|>', '</s>']) {
    const i = text.indexOf(w);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}

/**
 * The scalar reward. Order: a truncated response gets `truncated` (except under 'original');
 * then an unformatted one (or, under 'none', one with no answer) gets `noAnswer`; then
 * `correct` or `wrong` from the verdict.
 */
export function rewardOf(
  verdict: Verdict,
  formatted: boolean,
  finished: boolean,
  rules: RewardRules,
): number {
  if (!finished && rules.format !== 'original') return rules.truncated;
  if (!formatted) return rules.noAnswer;
  if (rules.format === 'none' && verdict.extracted === null) return rules.noAnswer;
  return verdict.correct ? rules.correct : rules.wrong;
}
