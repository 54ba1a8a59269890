// Comparing a condition on one variable with a set by membership (1 ≤ |z| ≤ 3/2 against
// [-3/2, -1] ∪ [1, 3/2], or x² < 4 against (-2, 2)) when the condition is not a plain bound:
// both must agree at every endpoint of the set, just beside each endpoint, between endpoints
// and far out. Sampled, not solved — enough to tell answers apart, never a proof.
import type { Node, RelOp } from './ast.ts';
import { freeSymbols, numericValue } from './evaluate.ts';

const EPS = 1e-7;

function holds(op: RelOp, d: number): boolean {
  const zero = Math.abs(d) < 1e-9;
  switch (op) {
    case '=':
      return zero;
    case '!=':
      return !zero;
    case '<':
      return d < 0 && !zero;
    case '<=':
      return d < 0 || zero;
    case '>':
      return d > 0 && !zero;
    case '>=':
      return d > 0 || zero;
  }
}

function relationHolds(rel: Node & { k: 'rel' }, name: string, x: number): boolean | null {
  const env = new Map([[name, x]]);
  for (let i = 0; i < rel.ops.length; i++) {
    const d = numericValue(rel.terms[i], env) - numericValue(rel.terms[i + 1], env);
    if (Number.isNaN(d)) return null;
    if (!holds(rel.ops[i], d)) return false;
  }
  return true;
}

/** (a, b) written with round brackets is read as the open interval here. */
function asInterval(n: Node): Node {
  if (n.k === 'tuple' && n.items.length === 2)
    return { k: 'interval', lo: n.items[0], hi: n.items[1], loOpen: n.open === '(', hiOpen: n.close === ')' };
  return n;
}

function inSet(node: Node, x: number): boolean | null {
  const env = new Map<string, number>();
  const set = asInterval(node);
  switch (set.k) {
    case 'interval': {
      const lo = numericValue(set.lo, env);
      const hi = numericValue(set.hi, env);
      if (Number.isNaN(lo) || Number.isNaN(hi)) return null;
      return (set.loOpen ? x > lo : x >= lo) && (set.hiOpen ? x < hi : x <= hi);
    }
    case 'setop': {
      const parts = set.args.map((a) => inSet(a, x));
      if (parts.some((p) => p === null)) return null;
      if (set.op === 'cup') return parts.some(Boolean);
      if (set.op === 'cap') return parts.every(Boolean);
      return parts[0]! && !parts.slice(1).some(Boolean);
    }
    case 'set':
    case 'list':
      return set.items.some((i) => Math.abs(numericValue(i, env) - x) < 1e-9);
    default:
      return null;
  }
}

function endpoints(node: Node, out: number[]): void {
  const env = new Map<string, number>();
  const set = asInterval(node);
  if (set.k === 'interval') out.push(numericValue(set.lo, env), numericValue(set.hi, env));
  else if (set.k === 'setop') for (const a of set.args) endpoints(a, out);
  else if (set.k === 'set' || set.k === 'list') for (const i of set.items) out.push(numericValue(i, env));
}

/** Whether a one-variable relation describes the set; null when it cannot be decided this way. */
export function relationMatchesSet(rel: Node & { k: 'rel' }, set: Node): boolean | null {
  const vars = new Set<string>();
  for (const t of rel.terms) freeSymbols(t, vars);
  if (vars.size !== 1) return null;
  const [name] = vars;
  const ends = [] as number[];
  endpoints(set, ends);
  const finite = [...new Set(ends.filter(Number.isFinite))].sort((a, b) => a - b);
  if (finite.length === 0 || finite.length > 64) return null;
  const points = [
    finite[0] - 1e6,
    finite[finite.length - 1] + 1e6,
    finite[0] - 1.5,
    finite[finite.length - 1] + 1.5,
  ];
  finite.forEach((e, i) => {
    points.push(e, e - EPS, e + EPS);
    if (i + 1 < finite.length) points.push((e + finite[i + 1]) / 2);
  });
  for (const x of points) {
    const a = relationHolds(rel, name, x);
    const b = inSet(set, x);
    if (a === null || b === null) return null;
    if (a !== b) return false;
  }
  return true;
}
