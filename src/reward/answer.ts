// An extracted answer string → its parsed form. Parsing is cached because RL grades many
// responses against the same gold (n samples per prompt).
import type { Node } from './math/ast.ts';
import { parseLatex } from './math/parse.ts';
import { normalizeAnswer } from './normalize.ts';

/** Answers longer than this are compared as text only: no real answer is this long. */
export const MAX_ANSWER_CHARS = 2000;
const CACHE_SIZE = 512;
const cache = new Map<string, Node | null>();

/** Parses an answer (normalising it first); null when it is not a readable math expression. */
export function parseAnswer(answer: string): Node | null {
  const hit = cache.get(answer);
  if (hit !== undefined) return hit;
  const node = parseUncached(answer);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(answer, node);
  return node;
}

function parseUncached(answer: string): Node | null {
  if (answer.length > MAX_ANSWER_CHARS) return null;
  const s = normalizeAnswer(answer);
  if (s === '') return null;
  const node = parseLatex(s);
  if (node) return node;
  // "k = 5 + 6 = 11 \approx ..." that does not parse as a whole: keep the last equation side, as Math-Verify does.
  if (!s.includes(',') && !s.includes(';')) {
    const parts = s.split(/(?<![\\<!>])=/);
    if (parts.length > 2) return parseLatex(parts[parts.length - 1]);
  }
  return null;
}
