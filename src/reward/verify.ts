// verify(gold, response): extraction + equivalence, in-thread, never throws.
import { MAX_ANSWER_CHARS, parseAnswer } from './answer.ts';
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

/** A bare `a,b` that is not a thousands group: a decimal comma ("1,22") or a two-item list ("0,1"). */
const AMBIGUOUS_COMMA_RE = /^-?\d+,\d+$/;
const THOUSANDS_GROUP_RE = /^-?[1-9]\d{0,2}(?:,\d{3})+$/;
/** An unescaped `$`, `\(` or `\[`: the gold holds LaTeX delimiters (`\$5` is a dollar sign, not one). */
const MATH_DELIMITER_RE = /(?<!\\)\$|\\\(|\\\[/;
/** `$a$, $b$` (OlympiadBench's multi-answer golds, outer `$` often stripped: `69$,$84`): comma-separated math pieces. */
const DOLLAR_LIST_SEPARATOR_RE = /(?<!\\)\$\s*,\s*\$|(?<!\\)\$\s*,|,\s*(?<!\\)\$/;

/**
 * The readings of a gold, the preferred first. A gold may be a bare answer (`\frac12`), LaTeX in
 * `$…$`, or a worked solution ending in a box. A bare gold is read whole when it parses, so `\sqrt{2}`
 * is not mistaken for `2`. A bare `a,b` such as "1,22" or "0,1" has two readings, a decimal comma (as
 * Math-Verify reads bare numbers) and a list (as MATH writes two roots, and as `\boxed{0,1}` is read):
 * a response matching either is correct.
 */
export function goldAnswers(gold: string): string[] {
  const g = gold.trim();
  if (g === '') return [];
  const boxed = extractAnswer(g, 'boxed');
  if (boxed !== null) return [boxed];
  const pieces = dollarListPieces(g);
  if (pieces) return [pieces];
  if (!MATH_DELIMITER_RE.test(g)) {
    const whole = normalizeAnswer(g);
    if (AMBIGUOUS_COMMA_RE.test(g) && !THOUSANDS_GROUP_RE.test(g)) return [g.replace(',', '.'), whole];
    if (whole !== '' && parseAnswer(whole) !== null) return [whole];
  }
  const read = extractAnswer(g, 'any') ?? normalizeAnswer(g);
  return read ? [read] : [];
}

/** `69$,$84` / `$f(x)=x$, $f(x)=2-x$` → "69, 84" / "f(x)=x, f(x)=2-x" when every piece parses; else null. */
function dollarListPieces(gold: string): string | null {
  if (gold.length > MAX_ANSWER_CHARS) return null; // a list answer is never this long
  const parts = gold.replace(/^\$+|\$+\.?$/g, '').split(DOLLAR_LIST_SEPARATOR_RE);
  if (parts.length < 2) return null;
  const read: string[] = [];
  for (const part of parts) {
    const r = normalizeAnswer(part);
    if (r === '' || MATH_DELIMITER_RE.test(r) || parseAnswer(r) === null) return null;
    read.push(r);
  }
  return read.join(', ');
}

/** The gold's preferred reading (see goldAnswers), or null when it has none. */
export function goldAnswer(gold: string): string | null {
  return goldAnswers(gold)[0] ?? null;
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
    const golds = goldAnswers(String(gold ?? ''));
    const extracted = extractAnswer(String(response ?? ''), opts.extract ?? 'boxed');
    if (extracted === null) return { correct: false, extracted: null, reason: 'no-answer' };
    if (golds.length === 0) return { correct: false, extracted, reason: 'no-gold' };
    const correct = golds.some((g) => answersEquivalent(g, extracted));
    return { correct, extracted, reason: correct ? 'equal' : 'not-equal' };
  } catch (err) {
    return {
      correct: false,
      extracted: null,
      reason: `error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
