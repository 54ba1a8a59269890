// verify(gold, response): extraction + equivalence, in-thread, never throws.
import { parseAnswer } from './answer.ts';
import { type ExtractMode, extractAnswer } from './extract.ts';
import { equivalent } from './math/equivalence.ts';
import { normalizeAnswer } from './normalize.ts';

export interface Verdict {
  correct: boolean;
  /** The answer read from the response (normalised LaTeX), or null when none was found. */
  extracted: string | null;
  /** 'equal' | 'not-equal' | 'no-answer' | 'no-gold' | 'timeout' | 'error: <message>' */
  reason: string;
}

export interface VerifyOptions {
  /** 'boxed' (default): only the final \boxed{} counts. 'any': Math-Verify's lenient priorities. */
  extract?: ExtractMode;
}

/**
 * The gold's answer: a gold may be a bare answer (`\frac12`), LaTeX in `$…$`, or a worked solution
 * ending in a box. A bare gold is read whole when it parses, so `\sqrt{2}` is not mistaken for `2`.
 */
export function goldAnswer(gold: string): string | null {
  const g = gold.trim();
  if (g === '') return null;
  const boxed = extractAnswer(g, 'boxed');
  if (boxed !== null) return boxed;
  if (!/[$]|\\\(|\\\[/.test(g)) {
    // A bare "1,22" or "0,5" is a decimal comma (as Math-Verify reads bare numbers); "1,2" stays a list.
    if (
      /^-?\d+,\d+$/.test(g) &&
      !/^-?[1-9]\d{0,2}(?:,\d{3})+$/.test(g) &&
      (/^-?0,/.test(g) || !/,\d$/.test(g))
    )
      return g.replace(',', '.');
    const whole = normalizeAnswer(g);
    if (whole !== '' && parseAnswer(whole) !== null) return whole;
  }
  return extractAnswer(g, 'any') ?? (normalizeAnswer(g) || null);
}

/** Whether two already-extracted answers are equivalent (the first is read as the reference). */
export function answersEquivalent(a: string, b: string): boolean {
  try {
    const ga = parseAnswer(a);
    const pb = parseAnswer(b);
    if (ga && pb) return equivalent(ga, pb);
    const na = normalizeAnswer(a).replace(/\s+/g, '');
    return na !== '' && na === normalizeAnswer(b).replace(/\s+/g, '');
  } catch {
    return false;
  }
}

export function verify(gold: string, response: string, opts: VerifyOptions = {}): Verdict {
  try {
    const g = goldAnswer(String(gold ?? ''));
    const extracted = extractAnswer(String(response ?? ''), opts.extract ?? 'boxed');
    if (extracted === null) return { correct: false, extracted: null, reason: 'no-answer' };
    if (g === null) return { correct: false, extracted, reason: 'no-gold' };
    const correct = answersEquivalent(g, extracted);
    return { correct, extracted, reason: correct ? 'equal' : 'not-equal' };
  } catch (err) {
    return {
      correct: false,
      extracted: null,
      reason: `error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
