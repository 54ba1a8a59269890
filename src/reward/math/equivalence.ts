// Structural equivalence of two parsed answers, gold first (the comparison is not symmetric, as in
// Math-Verify: the gold decides whether `x = 3` must match as an equation or as its value).
import { expandPm as expandPmDeep, type Node, type RelOp } from './ast.ts';
import { complexValue } from './complex.ts';
import { exactValue, freeSymbols, hasFloat, numericValue } from './evaluate.ts';
import { containsMatrix, reduceMatrix } from './matrix.ts';
import { relationMatchesSet } from './membership.ts';
import { onlySymbols } from './parse.ts';
import * as Q from './rational.ts';

/** Decimal places both sides are rounded to when one of them is written as a decimal (Math-Verify's float_rounding). */
export const FLOAT_ROUNDING = 6;
/** Relative tolerance of sampled (non-exact) comparison. */
export const REL_TOL = 1e-9;
const NUM_SAMPLES = 5;

export function equivalent(gold: Node, pred: Node): boolean {
  return compare(gold, pred, 0);
}

const isRel = (n: Node): n is Node & { k: 'rel' } => n.k === 'rel';
const isEquation = (n: Node) => isRel(n) && n.ops.every((o) => o === '=');

/** `x = 3` or `f x = ...`: an equation whose left side only names things. */
function isAssignment(n: Node): n is Node & { k: 'rel' } {
  return isRel(n) && isEquation(n) && onlySymbols(n.terms[0]);
}

function lastTerm(n: Node & { k: 'rel' }): Node {
  return n.terms[n.terms.length - 1];
}

/** Structural identity: an answer always equals itself, even one with no numeric value (-[0, 1)). */
function sameTree(a: Node, b: Node): boolean {
  const key = (n: Node) => JSON.stringify(n, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return key(a) === key(b);
}

function compare(g: Node, p: Node, depth: number): boolean {
  if (depth > 20) return false;
  if (depth === 0 && sameTree(g, p)) return true;
  if (g.k === 'in') return compare(g.set, p, depth + 1);
  if (p.k === 'in') return compare(g, p.set, depth + 1);
  if (depth === 0) {
    g = withPmExpanded(g);
    p = withPmExpanded(p);
  }

  // Assignment chains keep only their first name and last value: x = 5 + 5 + 1 = 11 → x = 11.
  if (isAssignment(g) && g.terms.length > 2) g = { k: 'rel', ops: ['='], terms: [g.terms[0], lastTerm(g)] };
  if (isAssignment(p) && p.terms.length > 2) p = { k: 'rel', ops: ['='], terms: [p.terms[0], lastTerm(p)] };
  // The gold's form decides: a bare gold accepts `x = v` by its value; an assignment gold accepts the bare value.
  if (isEquation(p) && !isRel(g)) return compare(g, lastTerm(p as Node & { k: 'rel' }), depth + 1);
  if (isAssignment(g) && !isEquation(p)) return compare(lastTerm(g), p, depth + 1);
  if (isAssignmentList(g) && !isAssignmentList(p)) return compare(assignmentValues(g), p, depth + 1);

  if (isRel(g) && isRel(p)) return relationsEqual(g, p);
  if (isRel(g) && isSetLike(p)) {
    const s = relationToSet(g);
    if (s !== null) return compare(s, p, depth + 1);
    return relationMatchesSet(g, p) === true;
  }
  // Inequalities against a set, either side: "x ≤ -3 or x ≥ 3" is (-∞, -3] ∪ [3, ∞).
  if (isSetLike(g) && isInequalities(p)) {
    const s = inequalitiesToSet(p);
    if (s !== null) return compare(g, s, depth + 1);
    return isRel(p) && relationMatchesSet(p, g) === true;
  }
  if (isInequalities(g) && g.k === 'list' && isSetLike(p)) {
    const s = inequalitiesToSet(g);
    return s !== null && compare(s, p, depth + 1);
  }
  if (isRel(g) || isRel(p)) return false;

  const choice = choiceWithValue(g);
  if (choice) return choice.some((c) => compare(c, p, depth + 1));
  if (g.k === 'text' || p.k === 'text') return textEqual(g, p);
  if (g.k === 'pm') return compare({ k: 'set', items: expandPm(g) }, p, depth + 1);
  if (p.k === 'pm') return compare(g, { k: 'set', items: expandPm(p) }, depth + 1);

  if (isCollection(g) || isCollection(p)) return collectionsEqual(g, p, depth);
  if (g.k !== 'matrix' && containsMatrix(g)) g = reduceMatrix(g) ?? g;
  if (p.k !== 'matrix' && containsMatrix(p)) p = reduceMatrix(p) ?? p;
  if (g.k === 'matrix' || p.k === 'matrix') return matricesEqual(g, p, depth);
  if (symbolWord(g) !== null && symbolWord(p) !== null && (g.k === 'sym' || p.k === 'sym'))
    return symbolsEqual(g, p);
  return scalarsEqual(g, p);
}

/** Top-level ± (also inside equations and list items) becomes a set of both readings. */
function withPmExpanded(n: Node): Node {
  if (n.k === 'list' || n.k === 'set') {
    const items = n.items.flatMap(expandPmDeep);
    return items.length === n.items.length ? n : { ...n, items };
  }
  if (n.k === 'pm') return n;
  const both = expandPmDeep(n);
  return both.length === 1 ? n : { k: 'set', items: both };
}

/** A relation or list of relations, none of them an equation. */
function isInequalities(n: Node): boolean {
  const rels = n.k === 'list' ? n.items : [n];
  return rels.every((r) => isRel(r) && !r.ops.includes('='));
}

function inequalitiesToSet(n: Node): Node | null {
  const rels = (n.k === 'list' ? n.items : [n]) as (Node & { k: 'rel' })[];
  const sets = rels.map(relationToSet);
  if (sets.some((x) => x === null)) return null;
  return sets.length === 1 ? sets[0] : { k: 'setop', op: 'cup', args: sets as Node[] };
}

/** A gold such as "\text{(C) } 12" names a choice and its value: either answers it. */
function choiceWithValue(n: Node): Node[] | null {
  const letterOf = (t: Node) => (t.k === 'text' ? /^\s*\(?([A-Ea-e])\)\s*$/.exec(t.s)?.[1] : undefined);
  if (n.k === 'mul' && n.args.length >= 2) {
    const letter = letterOf(n.args[0]);
    if (letter) {
      const rest = n.args.slice(1);
      return [{ k: 'sym', name: letter }, rest.length === 1 ? rest[0] : { k: 'mul', args: rest }];
    }
  }
  return null;
}

function isAssignmentList(n: Node): n is Node & { k: 'list' } {
  return n.k === 'list' && n.items.length > 1 && n.items.every(isAssignment);
}

/**
 * `p = 5, q = 2` reads as the tuple (5, 2), so a gold written as assignments accepts `(5, 2)`;
 * `x = 2, x = -3` (one name) reads as the set of roots {2, -3}.
 */
function assignmentValues(n: Node & { k: 'list' }): Node {
  const rels = n.items as (Node & { k: 'rel' })[];
  const items = rels.map(lastTerm);
  // x = 2, x = -3 and x_1 = 3, x_2 = -1 name roots (a set); p = 5, q = 2 names coordinates (a tuple).
  const base = (r: Node & { k: 'rel' }) => {
    const lhs = r.terms[0];
    return lhs.k === 'sym' ? lhs.name.split('_')[0] : JSON.stringify(lhs);
  };
  const bases = new Set(rels.map(base));
  return bases.size === 1 ? { k: 'set', items } : { k: 'tuple', items, open: '(', close: ')' };
}

function expandPm(n: Node & { k: 'pm' }): Node[] {
  return [
    { k: 'add', args: [n.a, n.b] },
    { k: 'add', args: [n.a, { k: 'neg', arg: n.b }] },
  ];
}

const isCollection = (n: Node) =>
  n.k === 'list' || n.k === 'set' || n.k === 'tuple' || n.k === 'interval' || n.k === 'setop';
const isSetLike = (n: Node) =>
  n.k === 'interval' || n.k === 'setop' || n.k === 'set' || (n.k === 'tuple' && n.items.length === 2);

function collectionsEqual(g: Node, p: Node, depth: number): boolean {
  // (a, b) written with round brackets is both a point and an open interval.
  if (g.k === 'tuple' && p.k === 'interval')
    return tupleAsInterval(g) !== null && compare(tupleAsInterval(g)!, p, depth + 1);
  if (p.k === 'tuple' && g.k === 'interval')
    return tupleAsInterval(p) !== null && compare(g, tupleAsInterval(p)!, depth + 1);
  if (g.k === 'interval' && p.k === 'interval') {
    return (
      g.loOpen === p.loOpen &&
      g.hiOpen === p.hiOpen &&
      compare(g.lo, p.lo, depth + 1) &&
      compare(g.hi, p.hi, depth + 1)
    );
  }
  if (g.k === 'setop' || p.k === 'setop') {
    if (g.k !== 'setop' || p.k !== 'setop' || g.op !== p.op) return false;
    return matchUnordered(g.args, p.args, depth);
  }
  if (g.k === 'interval' || p.k === 'interval') return false;
  const gi = itemsOf(g);
  const pi = itemsOf(p);
  if (g.k === 'tuple' && p.k === 'tuple') {
    return gi.length === pi.length && gi.every((x, i) => compare(x, pi[i], depth + 1));
  }
  // A tuple gold compared with a bare list keeps its order ((3, π/2) vs "3, π/2").
  if (g.k === 'tuple' && p.k === 'list')
    return gi.length === pi.length && gi.every((x, i) => compare(x, pi[i], depth + 1));
  return matchUnordered(gi, pi, depth);
}

function itemsOf(n: Node): Node[] {
  if (n.k === 'list' || n.k === 'set' || n.k === 'tuple')
    return n.items.flatMap((i) => (i.k === 'pm' ? expandPm(i) : [i]));
  if (n.k === 'pm') return expandPm(n);
  return [n];
}

function tupleAsInterval(t: Node & { k: 'tuple' }): Node | null {
  if (t.items.length !== 2) return null;
  return { k: 'interval', lo: t.items[0], hi: t.items[1], loOpen: t.open === '(', hiOpen: t.close === ')' };
}

/** Set equality: every gold item has an equal pred item and vice versa (duplicates collapse, as in a set). */
function matchUnordered(gi: Node[], pi: Node[], depth: number): boolean {
  if (gi.length === 0 || pi.length === 0) return gi.length === pi.length;
  return (
    gi.every((x) => pi.some((y) => compare(x, y, depth + 1))) &&
    pi.every((y) => gi.some((x) => compare(x, y, depth + 1)))
  );
}

function matricesEqual(g: Node, p: Node, depth: number): boolean {
  const rows = (n: Node): Node[][] | null => {
    if (n.k === 'matrix') return n.rows;
    if (n.k === 'tuple') return n.items.map((i) => [i]); // a tuple reads as a column vector
    return null;
  };
  const a = rows(g);
  const b = rows(p);
  if (!a || !b || a.length !== b.length) return false;
  return a.every((r, i) => r.length === b[i].length && r.every((c, j) => compare(c, b[i][j], depth + 1)));
}

// ---- relations

const FLIP: Record<RelOp, RelOp> = { '=': '=', '!=': '!=', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };

function relationsEqual(g: Node & { k: 'rel' }, p: Node & { k: 'rel' }): boolean {
  if (g.ops.length !== p.ops.length) return false;
  const links = (r: Node & { k: 'rel' }) => r.ops.map((op, i) => ({ op, l: r.terms[i], r: r.terms[i + 1] }));
  const gl = links(g);
  const pl = links(p);
  // (p, q) = (3, 2): sides without a numeric value compare structurally, side by side.
  if (g.ops.every((o, i) => o === p.ops[i]) && g.terms.every((t, i) => compare(t, p.terms[i], 1)))
    return true;
  const same = gl.every((x, i) => linkEqual(x.op, x.l, x.r, pl[i].op, pl[i].l, pl[i].r));
  if (same) return true;
  // a < x < b written as b > x > a
  const rev = [...pl].reverse();
  return gl.every((x, i) => linkEqual(x.op, x.l, x.r, FLIP[rev[i].op], rev[i].r, rev[i].l));
}

/** l1 op1 r1 ≡ l2 op2 r2 when (l1 - r1) = c (l2 - r2) for a constant c (c > 0 keeps the direction, c < 0 flips it). */
function linkEqual(op1: RelOp, l1: Node, r1: Node, op2: RelOp, l2: Node, r2: Node): boolean {
  const sameDir = op1 === op2;
  const flipped = FLIP[op1] === op2 && op1 !== op2;
  if (!sameDir && !flipped) return false;
  const d1: Node = { k: 'add', args: [l1, { k: 'neg', arg: r1 }] };
  const d2: Node = { k: 'add', args: [l2, { k: 'neg', arg: r2 }] };
  const ratio = constantRatio(d1, d2);
  if (ratio === null) return false;
  if (op1 === '=' || op1 === '!=') return ratio !== 0;
  return sameDir ? ratio > 0 : ratio < 0;
}

/** c such that a = c·b at every sampled point (NaN-free), or null. 0/0 everywhere counts as c = 1. */
function constantRatio(a: Node, b: Node): number | null {
  const syms = [...new Set([...freeSymbols(a), ...freeSymbols(b)])];
  let ratio: number | null = null;
  let valid = 0;
  for (let s = 0; s < NUM_SAMPLES; s++) {
    const env = sampleEnv(syms, s);
    const x = numericValue(a, env);
    const y = numericValue(b, env);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    valid++;
    if (Math.abs(y) < 1e-12) {
      if (Math.abs(x) > 1e-9) return null;
      continue;
    }
    const r = x / y;
    if (ratio === null) ratio = r;
    else if (Math.abs(r - ratio) > 1e-7 * Math.max(1, Math.abs(ratio))) return null;
  }
  if (valid === 0) return null;
  return ratio ?? 1;
}

function relationToSet(r: Node & { k: 'rel' }): Node | null {
  const inf: Node = { k: 'const', name: 'inf' };
  const ninf: Node = { k: 'neg', arg: inf };
  // A bare name, or a product of names like f(x) read as f·x; x² or |z| go to relationMatchesSet.
  const isVar = (n: Node) => n.k === 'sym' || (n.k === 'mul' && n.args.every((a) => a.k === 'sym'));
  const isConst = (n: Node) => freeSymbols(n).size === 0;
  const ray = (op: RelOp, c: Node): Node | null => {
    // x op c
    switch (op) {
      case '<':
        return { k: 'interval', lo: ninf, hi: c, loOpen: true, hiOpen: true };
      case '<=':
        return { k: 'interval', lo: ninf, hi: c, loOpen: true, hiOpen: false };
      case '>':
        return { k: 'interval', lo: c, hi: inf, loOpen: true, hiOpen: true };
      case '>=':
        return { k: 'interval', lo: c, hi: inf, loOpen: false, hiOpen: true };
      case '!=':
        return {
          k: 'setop',
          op: 'cup',
          args: [
            { k: 'interval', lo: ninf, hi: c, loOpen: true, hiOpen: true },
            { k: 'interval', lo: c, hi: inf, loOpen: true, hiOpen: true },
          ],
        };
      default:
        return { k: 'set', items: [c] };
    }
  };
  if (r.ops.length === 1) {
    const [l, rr] = r.terms;
    if (isVar(l) && isConst(rr)) return ray(r.ops[0], rr);
    if (isVar(rr) && isConst(l)) return ray(FLIP[r.ops[0]], l);
    return null;
  }
  if (r.ops.length === 2 && isVar(r.terms[1]) && isConst(r.terms[0]) && isConst(r.terms[2])) {
    const [o1, o2] = r.ops;
    if ((o1 === '<' || o1 === '<=') && (o2 === '<' || o2 === '<=')) {
      return { k: 'interval', lo: r.terms[0], hi: r.terms[2], loOpen: o1 === '<', hiOpen: o2 === '<' };
    }
    if ((o1 === '>' || o1 === '>=') && (o2 === '>' || o2 === '>=')) {
      return { k: 'interval', lo: r.terms[2], hi: r.terms[0], loOpen: o2 === '>', hiOpen: o1 === '>' };
    }
  }
  return null;
}

// ---- text and symbols

/** Letters of a product of symbols (`Evelyn` parses as E·v·e·l·y·n), or null when not such a product. */
function symbolWord(n: Node): string | null {
  if (n.k === 'sym') return n.name;
  if (n.k === 'const' && n.name === 'e') return 'e';
  if (n.k === 'mul') {
    let s = '';
    for (const a of n.args) {
      const w = symbolWord(a);
      if (w === null) return null;
      s += w;
    }
    return s;
  }
  return null;
}

function symbolsEqual(g: Node, p: Node): boolean {
  const a = symbolWord(g)!;
  const b = symbolWord(p)!;
  // Single letters are case-sensitive (x ≠ X); words are not (Evelyn = evelyn).
  if (a.length === 1 && b.length === 1) return a === b;
  return a.toLowerCase() === b.toLowerCase();
}

function textKey(n: Node): string | null {
  if (n.k === 'text') return n.s;
  const w = symbolWord(n);
  if (w !== null) return w;
  if (n.k === 'num') return Q.ratToString(n.v);
  return null;
}

function textEqual(g: Node, p: Node): boolean {
  const a = textKey(g);
  const b = textKey(p);
  if (a === null || b === null) return false;
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/\\[a-z]+/g, '')
      .replace(/[\s(){}.,:;$]/g, '');
  const ca = clean(a);
  return ca.length > 0 && ca === clean(b);
}

// ---- scalars

function percentForms(n: Node): Node[] {
  if (n.k !== 'pct') return [n];
  return [n.arg, { k: 'div', num: n.arg, den: { k: 'num', v: { n: 100n, d: 1n }, isFloat: false } }];
}

function scalarsEqual(g: Node, p: Node): boolean {
  for (const a of percentForms(g)) for (const b of percentForms(p)) if (valuesEqual(a, b)) return true;
  return false;
}

function valuesEqual(g: Node, p: Node): boolean {
  const rounded = hasFloat(g) || hasFloat(p);
  const a = exactValue(g);
  const b = exactValue(p);
  if (a && b) {
    if (Q.equals(a, b)) return true;
    return rounded && Q.equals(Q.roundTo(a, FLOAT_ROUNDING), Q.roundTo(b, FLOAT_ROUNDING));
  }
  const all = new Set([...freeSymbols(g), ...freeSymbols(p)]);
  const isComplex = all.delete('i');
  const syms = [...all];
  let valid = 0;
  for (let s = 0; s < NUM_SAMPLES; s++) {
    const env = sampleEnv(syms, s);
    const exact = rounded && syms.length === 0;
    if (isComplex) {
      const x = complexValue(g, env);
      const y = complexValue(p, env);
      if (Number.isNaN(x.re) && Number.isNaN(y.re)) continue;
      const scale = Math.max(Math.hypot(x.re, x.im), Math.hypot(y.re, y.im));
      if (!numbersClose(x.re, y.re, exact, scale) || !numbersClose(x.im, y.im, exact, scale)) return false;
    } else {
      const x = numericValue(g, env);
      const y = numericValue(p, env);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      // Overflow is not infinity: 2^{10^5} and 3^{10^5} both evaluate to Infinity in doubles.
      if ((!Number.isFinite(x) || !Number.isFinite(y)) && !(mentionsInfinity(g) && mentionsInfinity(p)))
        return false;
      if (!numbersClose(x, y, exact)) return false;
    }
    valid++;
    if (syms.length === 0) break; // a constant needs one evaluation
  }
  return valid > 0;
}

function mentionsInfinity(n: Node): boolean {
  return JSON.stringify(n, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).includes('"inf"');
}

function numbersClose(x: number, y: number, rounded: boolean, scaleHint = 0): boolean {
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const scale = Math.max(Math.abs(x), Math.abs(y), scaleHint);
  if (rounded) {
    const f = 10 ** FLOAT_ROUNDING;
    if (Math.round(x * f) === Math.round(y * f)) return true;
  }
  return Math.abs(x - y) <= REL_TOL * Math.max(scale, 1e-12);
}

/** Deterministic sample point s: each symbol gets a distinct value in [0.35, 2.85]. */
function sampleEnv(syms: string[], s: number): Map<string, number> {
  const env = new Map<string, number>();
  syms.forEach((name, i) => {
    // Knuth multiplicative hash keeps points reproducible and spread without a PRNG state.
    const h = (Math.imul(s * 7919 + i * 104729 + 12345, 2654435761) >>> 0) / 2 ** 32;
    env.set(name, 0.35 + 2.5 * h);
  });
  return env;
}
