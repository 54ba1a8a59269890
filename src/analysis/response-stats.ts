/**
 * Response-level statistics of a set of model outputs: lengths, truncation, reflection, code blocks,
 * boxed answers, repetition and accuracy. Used by `simplerl analyze`, `simplerl eval` and the trainer's
 * per-step metrics. Every rate is a share in [0, 1] over the items where it is defined, or null when
 * no item defines it (e.g. `truncationRate` when no item says whether it finished).
 */
import { countReflections, DEFAULT_REFLECTION_PHRASES } from './reflection.ts';

export interface ResponseItem {
  response: string;
  /** Response length in tokens (from the engine); items without it are left out of token stats. */
  numTokens?: number;
  /** false = hit the length limit (engine finish "length"). */
  finished?: boolean;
  correct?: boolean;
}

export interface SummarizeOptions {
  /** Reflection phrases (default DEFAULT_REFLECTION_PHRASES). */
  phrases?: readonly string[];
  /** Repetition detector: an n-gram of this many words ... (default 20) */
  repetitionNgram?: number;
  /** ... occurring at least this many times makes a response repetitive (default 3). */
  repetitionMinRepeats?: number;
}

export interface ResponseStats {
  count: number;
  /** Items that carry numTokens. */
  numWithTokens: number;
  meanTokens: number | null;
  minTokens: number | null;
  /** Nearest-rank percentiles: the smallest value with at least p% of the values ≤ it. */
  p50Tokens: number | null;
  p90Tokens: number | null;
  maxTokens: number | null;
  meanChars: number | null;
  /** Share of items with finished === false among those that say. */
  truncationRate: number | null;
  /** Share of responses with at least one reflection phrase. */
  reflectionRate: number | null;
  /** Mean number of reflection phrases per response. */
  meanReflections: number | null;
  /** Sum over responses of the matches of each phrase. */
  reflectionsByPhrase: Record<string, number>;
  /** Share of responses with a fenced code block (a line starting with ```). */
  codeBlockRate: number | null;
  /** Share of responses containing `\boxed`. */
  boxedRate: number | null;
  /** Share of responses judged repetitive by isRepetitive. */
  repetitionRate: number | null;
  /** Items that carry `correct`. */
  numGraded: number;
  accuracy: number | null;
  meanTokensCorrect: number | null;
  meanTokensWrong: number | null;
}

const CODE_FENCE = /(^|\n)[ \t]*```/;
const BOXED = /\\boxed(?![A-Za-z])/;

export function hasCodeBlock(text: string): boolean {
  return CODE_FENCE.test(text);
}

export function hasBoxed(text: string): boolean {
  return BOXED.test(text);
}

/**
 * A response is repetitive when some run of `ngram` consecutive whitespace-separated words occurs at
 * least `minRepeats` times (occurrences may overlap, so 22 identical words in a row count with the
 * defaults 20 and 3). This catches the degenerate loops of collapsing policies ("so x = 2. so x = 2.
 * ...") while ordinary derivations, which rarely repeat 20 words verbatim three times, pass.
 */
export function isRepetitive(text: string, ngram = 20, minRepeats = 3): boolean {
  if (!Number.isInteger(ngram) || ngram < 1)
    throw new Error(`repetition n-gram must be a positive integer, got ${ngram}`);
  if (!Number.isInteger(minRepeats) || minRepeats < 2) {
    throw new Error(`repetition min repeats must be an integer >= 2, got ${minRepeats}`);
  }
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length < ngram + minRepeats - 1) return false;
  const counts = new Map<string, number>();
  for (let i = 0; i + ngram <= words.length; i++) {
    const key = words.slice(i, i + ngram).join(' ');
    const c = (counts.get(key) ?? 0) + 1;
    if (c >= minRepeats) return true;
    counts.set(key, c);
  }
  return false;
}

function mean(values: number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Nearest-rank percentile of sorted values (p in (0, 100]). */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function share(flags: boolean[]): number | null {
  if (flags.length === 0) return null;
  return flags.filter(Boolean).length / flags.length;
}

export function summarizeResponses(
  items: readonly ResponseItem[],
  options: SummarizeOptions = {},
): ResponseStats {
  const phrases = options.phrases ?? DEFAULT_REFLECTION_PHRASES;
  const ngram = options.repetitionNgram ?? 20;
  const minRepeats = options.repetitionMinRepeats ?? 3;
  const tokens: number[] = [];
  const tokensCorrect: number[] = [];
  const tokensWrong: number[] = [];
  const finished: boolean[] = [];
  const correct: boolean[] = [];
  const reflectionCounts: number[] = [];
  const reflectionsByPhrase: Record<string, number> = {};
  for (const phrase of phrases) reflectionsByPhrase[phrase] = 0;
  const chars: number[] = [];
  const code: boolean[] = [];
  const boxed: boolean[] = [];
  const repetitive: boolean[] = [];
  for (const item of items) {
    const text = item.response;
    chars.push(text.length);
    const r = countReflections(text, phrases);
    reflectionCounts.push(r.total);
    for (const phrase of phrases) reflectionsByPhrase[phrase] += r.byPhrase[phrase];
    code.push(hasCodeBlock(text));
    boxed.push(hasBoxed(text));
    repetitive.push(isRepetitive(text, ngram, minRepeats));
    if (typeof item.finished === 'boolean') finished.push(item.finished);
    if (typeof item.numTokens === 'number') tokens.push(item.numTokens);
    if (typeof item.correct === 'boolean') {
      correct.push(item.correct);
      if (typeof item.numTokens === 'number')
        (item.correct ? tokensCorrect : tokensWrong).push(item.numTokens);
    }
  }
  const sorted = [...tokens].sort((a, b) => a - b);
  return {
    count: items.length,
    numWithTokens: tokens.length,
    meanTokens: mean(tokens),
    minTokens: sorted.length > 0 ? sorted[0] : null,
    p50Tokens: percentile(sorted, 50),
    p90Tokens: percentile(sorted, 90),
    maxTokens: sorted.length > 0 ? sorted[sorted.length - 1] : null,
    meanChars: mean(chars),
    truncationRate: share(finished.map((f) => !f)),
    reflectionRate: share(reflectionCounts.map((c) => c > 0)),
    meanReflections: mean(reflectionCounts),
    reflectionsByPhrase,
    codeBlockRate: share(code),
    boxedRate: share(boxed),
    repetitionRate: share(repetitive),
    numGraded: correct.length,
    accuracy: share(correct),
    meanTokensCorrect: mean(tokensCorrect),
    meanTokensWrong: mean(tokensWrong),
  };
}
