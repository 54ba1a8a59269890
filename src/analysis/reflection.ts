/**
 * Reflection-phrase counting: how often a response says "wait", "let me check", "re-evaluate", …
 *
 * The SimpleRL-Zoo (v1) analysis counted its keywords with a plain substring search, so "awaits"
 * counted as "wait" and "nowhere" could count a keyword hidden in it. Here a phrase counts only as
 * whole words:
 * - case-insensitive; the characters around a match must not be letters, digits or `_` (Unicode-aware,
 *   so "réwait" or "wait2" do not count "wait");
 * - whitespace inside a phrase matches any run of whitespace ("try  again", "try\nagain");
 * - a hyphen inside a phrase also matches a space or nothing ("double-check", "double check" and
 *   "doublecheck" all count "double-check");
 * - a trailing `*` makes the last word a prefix ("recheck*" counts "rechecking"); without it,
 *   inflections do not count ("waiting" is not "wait");
 * - matches do not overlap: the text is scanned left to right and, at each position, the longest
 *   phrase wins, so "let me verify" counts once, for "let me verify", not also for "verify".
 *   Hence `total` is the sum of `byPhrase`.
 */

/** The v1 (SimpleRL-Zoo) keywords. */
export const V1_REFLECTION_PHRASES: readonly string[] = [
  'recheck',
  'rethink',
  'try again',
  'wait',
  'alternatively',
  'retry',
  'however',
];

/** Our default list: the v1 keywords plus the phrases named in issue 6. */
export const DEFAULT_REFLECTION_PHRASES: readonly string[] = [
  ...V1_REFLECTION_PHRASES,
  'let me check',
  'let me verify',
  're-evaluate',
  'verify',
  'double-check',
];

export const REFLECTION_ERROR = 'reflection phrases:';

export interface ReflectionCount {
  /** Number of non-overlapping phrase matches (= sum of byPhrase). */
  total: number;
  /** Matches per phrase, keyed by the phrase as given (every phrase present, 0 when absent). */
  byPhrase: Record<string, number>;
}

interface CompiledPhrases {
  phrases: readonly string[];
  regex: RegExp;
  /** lower-cased phrase → index in `phrases`, by capture group order. */
  groupToPhrase: number[];
}

const WORD_CHAR = '[\\p{L}\\p{N}_]';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function phraseToPattern(phrase: string): string {
  let body = phrase.trim();
  const isPrefix = body.endsWith('*');
  if (isPrefix) body = body.slice(0, -1).trimEnd();
  const words = body.split(/\s+/).map((word) => word.split('-').map(escapeRegex).join('[-\\s]?'));
  return words.join('\\s+') + (isPrefix ? `${WORD_CHAR}*` : '');
}

function validatePhrases(phrases: readonly string[]): void {
  if (phrases.length === 0) throw new Error(`${REFLECTION_ERROR} the list is empty`);
  const seen = new Set<string>();
  for (const [i, phrase] of phrases.entries()) {
    if (typeof phrase !== 'string' || phrase.replace(/[*\s-]/g, '') === '') {
      throw new Error(`${REFLECTION_ERROR} entry ${i} (${JSON.stringify(phrase)}) has no letters`);
    }
    const key = phrase.trim().toLowerCase();
    if (seen.has(key))
      throw new Error(`${REFLECTION_ERROR} entry ${i} (${JSON.stringify(phrase)}) is repeated`);
    seen.add(key);
  }
}

const cache = new Map<string, CompiledPhrases>();

function compile(phrases: readonly string[]): CompiledPhrases {
  const key = JSON.stringify(phrases);
  const hit = cache.get(key);
  if (hit) return hit;
  validatePhrases(phrases);
  // Longest pattern first so that an alternation tries "let me verify" before "verify".
  const order = phrases.map((_, i) => i).sort((a, b) => phrases[b].length - phrases[a].length || a - b);
  const alternation = order.map((i) => `(${phraseToPattern(phrases[i])})`).join('|');
  const regex = new RegExp(`(?<!${WORD_CHAR})(?:${alternation})(?!${WORD_CHAR})`, 'giu');
  const compiled = { phrases, regex, groupToPhrase: order };
  if (cache.size > 64) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** Counts reflection phrases in `text` (rules in the file comment). */
export function countReflections(
  text: string,
  phrases: readonly string[] = DEFAULT_REFLECTION_PHRASES,
): ReflectionCount {
  const { regex, groupToPhrase } = compile(phrases);
  const byPhrase: Record<string, number> = {};
  for (const phrase of phrases) byPhrase[phrase] = 0;
  let total = 0;
  for (const match of text.matchAll(regex)) {
    const group = match.findIndex((g, i) => i > 0 && g !== undefined);
    byPhrase[phrases[groupToPhrase[group - 1]]] += 1;
    total += 1;
  }
  return { total, byPhrase };
}

/** True when `text` contains at least one reflection phrase. */
export function hasReflection(
  text: string,
  phrases: readonly string[] = DEFAULT_REFLECTION_PHRASES,
): boolean {
  const { regex } = compile(phrases);
  regex.lastIndex = 0;
  const found = regex.test(text);
  regex.lastIndex = 0;
  return found;
}

/**
 * The per-step reflection metrics of a training run: the share of responses that reflect, and the
 * accuracy of those that do and of those that do not. RL raises the rate only while reflecting
 * responses are the more often right, so the two accuracies explain the curve. An accuracy over no
 * responses is left out (metrics rows hold finite numbers only).
 */
export function reflectionMetrics(
  responses: readonly string[],
  correct: readonly boolean[],
  phrases: readonly string[] = DEFAULT_REFLECTION_PHRASES,
): Record<string, number> {
  const acc = (idx: number[]) => idx.filter((i) => correct[i]).length / idx.length;
  const withIdx: number[] = [];
  const withoutIdx: number[] = [];
  for (const [i, r] of responses.entries()) (hasReflection(r, phrases) ? withIdx : withoutIdx).push(i);
  return {
    'reflection/rate': responses.length ? withIdx.length / responses.length : 0,
    ...(withIdx.length ? { 'reflection/acc_with': acc(withIdx) } : {}),
    ...(withoutIdx.length ? { 'reflection/acc_without': acc(withoutIdx) } : {}),
  };
}

export type { ResponseItem, ResponseStats, SummarizeOptions } from './response-stats.ts';
export { hasBoxed, hasCodeBlock, isRepetitive, summarizeResponses } from './response-stats.ts';
