// The last \boxed{...} / \fbox{...} of a text. Final boxes separated only by a separator
// (`\boxed{-2} and \boxed{1}`) are read together as one list answer, as Math-Verify does.

export interface BoxedAnswer {
  content: string;
  /** How many boxes were joined into the answer (1 for a single final box). */
  numJoined: number;
}

const SEPARATOR_RE = /\b(and|or)\b|,|;/;
/** Words that make a later box a correction of an earlier one rather than a second part of the answer. */
const CORRECTION_RE =
  /\b(?:wait|re-?check|check(?:ing)?|then|so|thus|therefore|hence|actually|mistake|wrong|incorrect|however|but|instead|oops|sorry|no|not|correct(?:ion|ed)?|re-?evaluate|let me)\b/i;

function matchBrace(text: string, open: number, end: number): number {
  let depth = 1;
  for (let i = open + 1; i < end; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function lastCommand(text: string, before: number): [number, number] | null {
  if (before <= 0) return null; // lastIndexOf clamps a negative start to 0 and would find index 0 again
  const b = text.lastIndexOf('\\boxed', before - 1);
  const f = text.lastIndexOf('\\fbox', before - 1);
  if (b < 0 && f < 0) return null;
  return b > f ? [b, b + 6] : [f, f + 5];
}

/** Content of the final box(es), or null when the text has no box. */
export function lastBoxed(text: string): BoxedAnswer | null {
  const results: string[] = [];
  let maxPos = text.length;
  let current = text.length;
  let lastStart: number | null = null;
  for (;;) {
    const cmd = lastCommand(text, current);
    if (!cmd) break;
    const [start, cmdEnd] = cmd;
    let i = cmdEnd;
    while (i < maxPos && /\s/.test(text[i])) i++;
    if (i >= maxPos) {
      current = start;
      if (results.length === 0) {
        maxPos = start;
        continue;
      }
      break;
    }
    if (text[i] !== '{') {
      // `\boxed 5`: the answer runs to the next `$` or line end.
      if (results.length === 0) {
        const rest = /^[^$\n]*/.exec(text.slice(i, i + 1000))![0].trim();
        if (/^[a-zA-Z]/.test(text[i]) && cmdEnd === i) {
          current = start; // \boxedsomething is another command
          continue;
        }
        results.push(rest);
      }
      break;
    }
    const close = matchBrace(text, i, maxPos);
    if (close < 0) {
      if (results.length === 0) results.push(text.slice(i + 1, maxPos));
      break;
    }
    const content = text.slice(i + 1, close).trim();
    if (lastStart !== null) {
      const between = text.slice(close + 1, lastStart);
      // Math-Verify's rule, plus: "\boxed{5}, wait, recheck: \boxed{7}" is a correction, not a list.
      const near =
        !CORRECTION_RE.test(between) &&
        (between.length < 10 ||
          (content !== results[results.length - 1] && between.length < 70 && SEPARATOR_RE.test(between)));
      if (!near) break;
    }
    if (results.length === 0 || results[results.length - 1] !== content) results.push(content);
    lastStart = start;
    maxPos = start;
    current = start;
  }
  if (results.length === 0) return null;
  return { content: results.reverse().join(','), numJoined: results.length };
}

/** Number of \boxed / \fbox commands in the text (for the strict format rule). */
export function countBoxes(text: string): number {
  return (text.match(/\\(?:boxed|fbox)(?![a-zA-Z])/g) ?? []).length;
}
