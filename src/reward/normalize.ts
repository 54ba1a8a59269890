// String-level clean-up of an extracted answer before parsing: the normalisation steps of
// Math-Verify's `normalize_latex` (basic LaTeX, units, malformed operators, nits), reimplemented
// with the same regular expressions where they matter for agreement, plus a few of our own.

const R_LEFT =
  /\\m?left(\\\{|\{|\\\||\||\[|\(|\\rbracl|\\lgroup|\\lbrace|\\lbrack|\\vert|\\lvert|\\lceil|\\lfloor|\\langle|\\llcorner|\\ulcorner|\.)/g;
const R_RIGHT =
  /\\m?right(\\\}|\}|\\\||\||\]|\)|\\rbrack|\\rgroup|\\rbrace|\\vert|\\rvert|\\rceil|\\rfloor|\\rangle|\\lrcorner|\\urcorner|\.)/g;
const TO_REMOVE = /\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle|\\textstyle/g;

/** Unit words Math-Verify strips from the end of an answer (its list, longest first so "percent" beats "cent"). */
const UNITS = [
  'integerpoint',
  'feet',
  'sue',
  'digit',
  'pound',
  'meal',
  'edge',
  'student',
  'children ticket',
  'multiple',
  'east',
  'degree',
  'mph',
  'kmph',
  'ft',
  'm square',
  ' m east',
  'sq m',
  'deg',
  'mile',
  'q .',
  'monkey',
  'prime',
  'ratio',
  'profit of rs',
  'rd',
  'o',
  'gm',
  'p . m',
  'lb',
  'tile',
  'per',
  'dm',
  'lt',
  'gain',
  'ab',
  'way',
  'west',
  'a .',
  'b .',
  'c .',
  'd .',
  'e .',
  'f .',
  'g .',
  'h .',
  't',
  'h',
  'no change',
  'men',
  'soldier',
  'pie',
  'bc',
  'excess',
  'st',
  'inches',
  'noon',
  'cent',
  'by',
  'gal',
  'kmh',
  'c',
  'acre',
  'rise',
  'a . m',
  'th',
  'π r 2',
  'sq',
  'mark',
  'l',
  'toy',
  'coin',
  'sq . m',
  'gallon',
  '° f',
  'profit',
  'minw',
  'yr',
  'women',
  'am',
  'pm',
  'hr',
  'cu cm',
  'square',
  'v â € ™',
  'are',
  'rupee',
  'rounds',
  'cubic',
  'cc',
  'mtr',
  's',
  'ohm',
  'number',
  'day',
  'hour',
  'minute',
  'min',
  'second',
  'man',
  'woman',
  'sec',
  'cube',
  'mt',
  'sq inch',
  'mp',
  '∏ cm ³',
  'hectare',
  'more',
  'unit',
  'cu . m',
  'cm 2',
  'rs .',
  'rs',
  'kg',
  'g',
  'month',
  'km',
  'm',
  'cm',
  'mm',
  'apple',
  'liter',
  'loss',
  'yard',
  'pure',
  'year',
  'increase',
  'decrease',
  'd',
  'less',
  'Surface',
  'litre',
  'pi sq m',
  's .',
  'metre',
  'meter',
  'inch',
];
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const UNITS_RE = new RegExp(`(\\d|\\}|\\s)(\\s*)(${UNITS.map(escapeRe).join('|')})(?:s|es)?\\s*$`);
/** Short unit words that count as units even when glued to the number (5cm); other short ones (2ab, 3t) are variables. */
const GLUED_UNITS = new Set([
  'cm',
  'mm',
  'km',
  'kg',
  'ft',
  'lb',
  'hr',
  'yr',
  'gm',
  'dm',
  'mt',
  'cc',
  'sq',
  'rs',
  'mph',
]);
const UNIT_TEXT_RE = /(\\(?:text|mbox)\{[^{}]*?\})(\^\d|\{\^\d\})?$/;

const REPLACEMENTS: [RegExp, string][] = [
  [/\\math(?:rm|it|bf)(?=\{)/g, '\\text'],
  [/\\text(?:normal|bf|it|rm)/g, '\\text'],
  [/\\(?:d|t|c)frac/g, '\\frac'],
  [/\s\.(?=\d)/g, ' 0.'],
  [/\{\.(?=\d)/g, '{0.'],
  [/~=/g, '\\approx'],
  [/\s*\{\s*,\s*\}/g, ','],
  [/,?\s*\\text\{\s*,?\s*(?:and|or)\s*\}/g, ','],
  [/(?<![a-zA-Z\\])(,?\s*(?:and|or))(?![a-zA-Z])/g, ','],
  [/(?<!\\)\\\s/g, ' '],
  [/infinity/g, '\\infty'],
  [/,?\\[lcv]?dots/g, ' '],
  [/\\text\{percentage\}|\\text\{percent\}|\\text\{pct\}/g, '\\%'],
  [/\s*\b(?:percentage|percent|pct)\b/g, '\\%'],
  [/(?<![\\a-zA-Z])inf(?!inity|ty)/g, '\\infty'],
];

const TRIG_DEGREES_RE =
  /\\(sin|cos|tan|cot|sec|csc)\s*\(?\s*(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)\s*\)?/g;
const THOUSANDS_RE = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const SPACED_THOUSANDS_RE = /^-?\d{1,3}(?:(?:\\[,;:!]|\s|~)\d{3})+(?:\.\d+)?$/;
/** 0.\overline{3} or 0.1\overline{6}: a repeating decimal. */
const REPEATING_RE = /(\d{0,30})\.(\d{0,30})\\overline\{(\d{1,12})\}/g;

function repeatingToFraction(_: string, whole: string, fixed: string, rep: string): string {
  // x = whole.fixed(rep)(rep)... = (whole.fixed·rep - whole.fixed) / (10^|fixed| (10^|rep| - 1))
  const a = BigInt(`${whole || '0'}${fixed}${rep}`);
  const b = BigInt(`${whole || '0'}${fixed}`);
  const den = 10n ** BigInt(fixed.length) * (10n ** BigInt(rep.length) - 1n);
  return `\\frac{${a - b}}{${den}}`;
}

/** Longer text is not an answer; it is returned trimmed, unnormalised (and a few patterns here are quadratic on long runs). */
export const MAX_NORMALIZE_CHARS = 5000;

export function normalizeAnswer(text: string): string {
  if (text.length > MAX_NORMALIZE_CHARS) return text.trim();
  let s = text;
  s = s
    .replace(/\\mathrm\{T\}/g, 'T')
    .replace(/\\mathrm\{d\}/g, 'd')
    .replace(/\{\\rm d\}/g, 'd');
  s = s
    .replace(/\\left\[\\begin\{matrix\}/g, '\\begin{bmatrix}')
    .replace(/\\end\{matrix\}\\right\]/g, '\\end{bmatrix}');
  s = s
    .replace(R_LEFT, (_, b: string) => (b === '.' ? '' : b))
    .replace(R_RIGHT, (_, b: string) => (b === '.' ? '' : b));
  s = s.replace(TO_REMOVE, '');
  for (const [re, rep] of REPLACEMENTS) s = s.replace(re, rep);
  s = s.replace(/[\n\t\r]/g, ' ');
  if (!s.includes('matrix')) s = s.replace(/\\\\(?=[a-zA-Z])/g, '\\');
  // Inside a trig function degrees are converted (\sin 30^\circ = 1/2); elsewhere they carry no
  // value once the answer is read as a number (Math-Verify reads 90^\circ as 90).
  s = s.replace(TRIG_DEGREES_RE, (_, fn: string, deg: string) => `\\${fn}(\\frac{${deg}\\pi}{180})`);
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, '');
  s = stripUnits(s);
  s = s.trim();
  // Trailing punctuation of a sentence is not part of the answer.
  s = s.replace(/(?:\\[,;:!]|\\quad|[\s.,;:])+$/g, '').replace(/^[\s:]+/, '');
  if (s.startsWith('.')) s = `0${s}`;
  s = s.replace(/\^\s?\(([^()]*)\)/g, '^{$1}').replace(/(?<!\\)\bsqrt\s?\(([^()]*)\)/g, '\\sqrt{$1}');
  if (THOUSANDS_RE.test(s)) s = s.replace(/,/g, '');
  // Thin-space or plain-space digit groups: 1\,000 and 10 000 are one number.
  if (SPACED_THOUSANDS_RE.test(s)) s = s.replace(/\\[,;:!]|\s|~/g, '');
  s = s.replace(REPEATING_RE, repeatingToFraction);
  return s;
}

/** A plain number followed by words ("0.06 yuan", "12 apples"): the words are a unit. */
const NUMBER_THEN_WORDS_RE = /^(-?\d[\d,]*(?:\.\d+)?)\s+[a-zA-Z]{3,}(?:\s+[a-zA-Z]+)*$/;

function stripUnits(text: string): string {
  let s = text.replace(NUMBER_THEN_WORDS_RE, '$1');
  const noText = s.replace(UNIT_TEXT_RE, '').trim();
  if (noText !== '' && noText !== s) s = noText;
  for (let i = 0; i < 2; i++) {
    // Only a number loses its unit, and a short word glued to it is a variable: `2ab` stays 2·a·b
    // (Math-Verify strips "ab" and reads 2).
    const next = s.replace(UNITS_RE, (all, before: string, space: string, unit: string) =>
      space === '' && before !== ' ' && unit.length <= 2 && !GLUED_UNITS.has(unit) ? all : before,
    );
    if (next !== '' && next !== s && !/[a-zA-Z]/.test(next.replace(/\\[a-zA-Z]+/g, ''))) s = next;
  }
  return s;
}
