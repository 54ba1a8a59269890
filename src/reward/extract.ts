// Answer extraction from a whole response. `boxed`: the final box only (the RL default: the model
// is asked to box its answer). `any`: Math-Verify's priorities — the final box, then "final answer
// is …", "answer: …", LaTeX environments and bare numbers/expressions, rightmost match first, the
// first candidate that parses wins. The regular expressions follow Math-Verify's parser.py so both
// read the same text the same way.
import { parseAnswer } from './answer.ts';
import { lastBoxed } from './boxed.ts';
import { normalizeAnswer } from './normalize.ts';

export type ExtractMode = 'boxed' | 'any';

/**
 * `any` mode scans only the last MAX_SCAN_CHARS characters with its regular expressions: answers
 * sit at the end, and a few of Math-Verify's patterns are quadratic on hostile text without a
 * closing delimiter (`\\[` repeated), so the cap also bounds their time (~0.1 s at worst here).
 * Box search is linear and looks at the whole response (up to MAX_RESPONSE_CHARS).
 */
export const MAX_SCAN_CHARS = 30_000;
export const MAX_RESPONSE_CHARS = 2_000_000;
const STOP_WORDS = ['<|im_end|>', '<|endoftext|>', '</s>'];

/** Case-insensitive literal for engines without inline `(?i:)` groups (Node 20). */
function ci(word: string): string {
  return [...word]
    .map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c === ' ' ? ' ' : `\\${c}`))
    .join('');
}

function latexEnvPattern(prefix: string, context: 'boxed' | 'plain'): string {
  const percent = `(?<${prefix}percent>(?:\\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct))`;
  let dd = '(?:[^$]|\\$(?!\\$))';
  let db = '(?:[^\\\\]|\\\\(?!\\]))';
  let id = '(?:\\\\[$]|[^\\n$])';
  let ip = '(?:[^\\\\\\n]|\\\\(?!\\)))';
  let ib = '[^\\n\\]\\[]';
  if (context === 'boxed') {
    const wrap = (c: string) => `${c}*?\\\\boxed\\{${c}+?\\}${c}*?`;
    [dd, db, id, ip, ib] = [wrap(dd), wrap(db), wrap(id), wrap(ip), wrap(ib)];
  } else {
    [dd, db, id, ip, ib] = [`${dd}+?`, `${db}+?`, `${id}+?`, `${ip}+?`, `${ib}+?`];
  }
  const patterns = [
    `(?<!\\\\)\\$\\$(?<${prefix}latexDisplayDollar>${dd})(?<!\\\\)\\$\\$`,
    `(?<!\\\\)\\\\\\[(?<${prefix}latexDisplayBracket>${db})(?<!\\\\)\\\\\\]`,
    `(?<!\\\\|\\d)\\$(?<${prefix}latexInlineDollar>${id})(?<!\\\\)\\$`,
    `(?<!\\\\)\\\\\\((?<${prefix}latexInlineParenthesis>${ip})(?<!\\\\)\\\\\\)`,
    `\\s\\[(?<${prefix}latexInlineBracket>${ib})\\]\\s`,
  ];
  if (context === 'plain') {
    const simple = '-?\\d+(?:[.,]\\d+)?';
    patterns.push(`(?<${prefix}latexFraction>-?\\\\frac\\{${simple}\\}\\{${simple}\\})`);
  }
  return `(?:(?:${patterns.join('|')})\\s*${percent}?)`;
}

interface Pattern {
  re: RegExp;
  priority: number;
  kind: 'latex' | 'expr';
}

function buildPatterns(): Pattern[] {
  const out: Pattern[] = [];
  const answer = ci('answer');
  const finalIs = ci('final answer is');
  const finalAnswer = ci('final answer');
  // LaTeX targets.
  const next = (i: number) => `(?:\\s*(?:,?and|,?or|,)\\s*${latexEnvPattern(`next${i}_`, 'plain')})?`;
  const latexRe = `(?:${latexEnvPattern('first_', 'plain')}${[1, 2, 3, 4, 5].map(next).join('')})`;
  const latex = (src: string, priority: number) =>
    out.push({ re: new RegExp(src, 'gs'), priority, kind: 'latex' });
  latex(`${finalIs}:?\\s*${latexRe}\\.?\\s?I hope`, 0);
  latex(`${finalAnswer}.{0,100}?\\s+is:?\\s*${latexRe}`, 50);
  latex(`${answer}:.{0,50}?${latexRe}`, 100);
  latex(`${answer}.{0,50}?${latexRe}`, 200);
  latex(latexRe, 300);
  // Expression / number targets.
  const numberRe =
    '(?<!\\d)(?:(?<integer1>-?[1-9]\\d{0,2}(?:[ ,]\\d{3})+)(?<decimal1>\\.\\d+)?|(?<integer2>-?\\d+)(?<decimal2>[.,]\\d+)|(?<decimal3>\\.\\d+)|(?<integer3>-?\\d+))(?<percent>\\s*(?:%|[Pp]ercent|\\s*[Pp]ercentage|\\s*[Pp]ct))?';
  const ops = '\\+\\-\\*\\×\\/\\^\\(\\)\\÷';
  const allChars = `[\\d\\.\\s${ops}]`;
  const exprRe = `(?<expr>-?\\(?-?\\d${allChars}*[${ops}]${allChars}+\\)?)`;
  const currency = '$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿'.replace(/[$]/g, '\\$');
  const prefix = '(?:^|\\s|=)(?:\\*\\*)?';
  const suffix = '(?:\\*\\*)?(?:\\.|,|:|\\s|\\)|\\$|$)';
  const exprWithAnchors = `(?:${prefix}${exprRe}${suffix})`;
  const numberWithAnchors = `(?:${prefix}[${currency}]?${numberRe})`;
  const exprOrNumber = `(?:${exprWithAnchors}|${numberWithAnchors})`;
  const expr = (src: string, priority: number) =>
    out.push({ re: new RegExp(src, 'g'), priority, kind: 'expr' });
  expr(`${finalIs}:?\\s*${exprOrNumber}\\.?\\s?I hope`, 0);
  expr(`${finalAnswer}.{0,100}?\\s+is:?${exprOrNumber}`, 50);
  expr(`${answer}:(?:.{0,100}=\\s*|.{0,50}?)${exprOrNumber}(?!\\s*=)`, 100);
  expr(`${answer}(?:.{0,100}=\\s*|.{0,50}?)${exprOrNumber}(?!\\s*=)`, 200);
  // Beyond Math-Verify: a plain-text point or tuple after the answer word ("The answer is (2, 3).");
  // the number patterns alone would read only its last number.
  const tupleRe = '(?<tuple>[([]\\s*-?[\\d./]+(?:\\s*,\\s*-?[\\d./]+)+\\s*[)\\]])';
  expr(`${answer}:.{0,50}?${tupleRe}`, 100);
  expr(`${answer}.{0,50}?${tupleRe}`, 200);
  expr(exprWithAnchors, 300);
  expr(numberWithAnchors, 300);
  return out.sort((a, b) => a.priority - b.priority);
}

let patterns: Pattern[] | null = null;

function fromLatexMatch(m: RegExpMatchArray): string | null {
  const groups = m.groups ?? {};
  const parts: string[] = [];
  for (const prefix of ['first_', 'next1_', 'next2_', 'next3_', 'next4_', 'next5_']) {
    const entry = Object.entries(groups).find(([k, v]) => k.startsWith(`${prefix}latex`) && v !== undefined);
    if (!entry) continue;
    let latex = entry[1]!;
    // Boxes inside a LaTeX environment: all of them are read ("$\boxed{1}, \boxed{2}$").
    const box = lastBoxed(latex);
    if (box) latex = boxedAll(latex);
    let s = normalizeAnswer(latex);
    if (groups[`${prefix}percent`]) s = `${s}\\%`;
    parts.push(s);
  }
  if (parts.length === 0) return null;
  if (parts.length > 1 && parts.every((p) => parseAnswer(p) !== null)) return parts.join(',');
  return parseAnswer(parts[0]) !== null ? parts[0] : null;
}

/** Every box's content joined by commas (Math-Verify's boxed="all" inside an environment). */
function boxedAll(text: string): string {
  const results: string[] = [];
  let end = text.length;
  for (;;) {
    const box = lastBoxed(text.slice(0, end));
    if (!box) break;
    results.push(box.content);
    const idx = Math.max(text.lastIndexOf('\\boxed', end - 1), text.lastIndexOf('\\fbox', end - 1));
    if (idx < 0) break;
    end = idx;
  }
  return results.length ? results.reverse().join(',') : text;
}

function fromExprMatch(m: RegExpMatchArray): string | null {
  const g = m.groups ?? {};
  let integer = g.integer1 ?? g.integer2 ?? g.integer3 ?? '';
  let decimal = g.decimal1 ?? g.decimal2 ?? g.decimal3 ?? '';
  if (integer || decimal) {
    const negative = integer.startsWith('-');
    integer = integer.replace(/[, ]/g, '').replace(/^-/, '').replace(/^0+/, '') || '0';
    decimal = decimal.replace(',', '.');
    const s = `${negative ? '-' : ''}${integer}${decimal}`;
    return g.percent ? `${s}\\%` : s;
  }
  if (g.tuple) return parseAnswer(g.tuple) !== null ? g.tuple : null;
  if (g.expr) {
    const s = g.expr.replace(/\n/g, ' ').trim();
    return parseAnswer(s) !== null ? s : null;
  }
  return null;
}

function cutAtStopWord(text: string): string {
  let end = text.length;
  for (const w of STOP_WORDS) {
    const i = text.indexOf(w);
    if (i >= 0 && i < end) end = i;
  }
  const cut = text.slice(0, end);
  return cut.length > MAX_RESPONSE_CHARS ? cut.slice(cut.length - MAX_RESPONSE_CHARS) : cut;
}

/** The final boxed answer, normalised; null when there is no box or it is empty. */
export function extractBoxed(text: string): string | null {
  const box = lastBoxed(cutAtStopWord(text));
  if (!box) return null;
  const s = normalizeAnswer(box.content);
  return s === '' ? null : s;
}

interface Candidate {
  start: number;
  end: number;
  read: () => string | null;
}

export function extractAnswer(text: string, mode: ExtractMode): string | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  if (mode === 'boxed') return extractBoxed(text);
  const whole = cutAtStopWord(text);
  const src = whole.length > MAX_SCAN_CHARS ? whole.slice(whole.length - MAX_SCAN_CHARS) : whole;
  patterns ??= buildPatterns();
  // The box competes with "final answer is … I hope" at the top priority, rightmost first. Like
  // Math-Verify's `\boxed{.+}` it spans from the first box to the last closing brace.
  const offset = whole.length - src.length;
  const firstBox = whole.search(/\\(?:boxed|fbox)/);
  const boxStart = Math.max(0, firstBox - offset);
  const boxCandidate: Candidate | null =
    firstBox < 0
      ? null
      : {
          start: boxStart,
          end: Math.max(src.lastIndexOf('}') + 1, boxStart + 1),
          read: () => extractBoxed(whole),
        };
  const exprSrc = src.replace(/\\\$/g, ' $');
  for (let i = 0; i < patterns.length; ) {
    const priority = patterns[i].priority;
    const candidates: Candidate[] = priority === 0 && boxCandidate ? [boxCandidate] : [];
    for (; i < patterns.length && patterns[i].priority === priority; i++) {
      const p = patterns[i];
      // "\$20": an escaped dollar is a currency sign to the number patterns (same length, so positions hold).
      for (const m of (p.kind === 'expr' ? exprSrc : src).matchAll(p.re)) {
        const start = m.index!;
        candidates.push({
          start,
          end: start + m[0].length,
          read: () => (p.kind === 'latex' ? fromLatexMatch(m) : fromExprMatch(m)),
        });
      }
    }
    // Rightmost end first, then leftmost start: the last statement of an answer wins.
    candidates.sort((a, b) => b.end - a.end || a.start - b.start);
    for (const c of candidates) {
      const s = c.read();
      if (s !== null && s !== '') return s;
    }
  }
  return lenientFallback(src);
}

/** "the correct option is (A)" / "answer: B." — a choice letter named after an answer word. */
const CHOICE_RE = /\b(?:answer|option|choice)\b[^\n]{0,30}?(?:\(([A-E])\)|\b([A-E])\s*[.)]?\s*$)/gim;
const ANSWER_PHRASE_RE = /answer(?:\s+is)?\s*[:=]?\s*([^\n]{1,200})/gi;
const WORDS_RE = /(?<!\\)\b[a-zA-Z]{3,}\b/;

/**
 * Beyond Math-Verify: LaTeX written without delimiters after "the answer is" ("the answer is
 * \sqrt{5}."), or a whole response that is only an expression. Prose is never read as math.
 */
function lenientFallback(src: string): string | null {
  const choice = [...src.matchAll(CHOICE_RE)].pop();
  if (choice) return choice[1] ?? choice[2];
  let last: string | null = null;
  for (const m of src.matchAll(ANSWER_PHRASE_RE)) last = m[1];
  const candidates = [last, src.length <= 200 ? src : null];
  for (const c of candidates) {
    if (c === null) continue;
    const s = normalizeAnswer(c.replace(/\*\*/g, '').replace(/[.\s]+$/, ''));
    const letters = s.replace(/\\[a-zA-Z]+/g, ' ');
    if (s === '' || WORDS_RE.test(letters) || /[a-zA-Z]{3,}/.test(letters) || !/[\d\\]/.test(s)) continue;
    if (parseAnswer(s) !== null) return s;
  }
  return null;
}
