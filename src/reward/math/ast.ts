import type { Rational } from './rational.ts';

/** Relation operators after normalisation (`\leq` → `<=`, `\approx` → `=`). */
export type RelOp = '=' | '<' | '<=' | '>' | '>=' | '!=';

/**
 * The parsed shape of an answer. Arithmetic stays symbolic (no evaluation at parse time) so the
 * comparer can choose exact, rounded or sampled evaluation per pair.
 */
export type Node =
  | { k: 'num'; v: Rational; isFloat: boolean } // isFloat: written with a decimal point or exponent
  | { k: 'sym'; name: string }
  | { k: 'const'; name: 'pi' | 'e' | 'inf' }
  | { k: 'add'; args: Node[] }
  | { k: 'mul'; args: Node[] }
  | { k: 'neg'; arg: Node }
  | { k: 'div'; num: Node; den: Node }
  | { k: 'pow'; base: Node; exp: Node }
  | { k: 'fn'; name: string; args: Node[] }
  | { k: 'pct'; arg: Node } // x% — compared both as x and as x/100, like Math-Verify
  | { k: 'pm'; a: Node; b: Node } // a ± b: the set {a + b, a - b}
  | { k: 'list'; items: Node[] } // bare comma list "1, 2": order-free, like Math-Verify's FiniteSet
  | { k: 'set'; items: Node[] } // \{1, 2\}
  | { k: 'tuple'; items: Node[]; open: '(' | '['; close: ')' | ']' } // (a, b) may also be an open interval
  | { k: 'interval'; lo: Node; hi: Node; loOpen: boolean; hiOpen: boolean }
  | { k: 'setop'; op: 'cup' | 'cap' | 'minus'; args: Node[] }
  | { k: 'matrix'; rows: Node[][] }
  | { k: 'rel'; ops: RelOp[]; terms: Node[] } // a < b <= c: terms.length = ops.length + 1
  | { k: 'in'; elem: Node; set: Node } // x \in S
  | { k: 'text'; s: string };

export const num = (v: Rational, isFloat = false): Node => ({ k: 'num', v, isFloat });

/** Rebuilds a node with `f` applied to each direct child. */
export function mapChildren(n: Node, f: (c: Node) => Node): Node {
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'fn':
    case 'setop':
      return { ...n, args: n.args.map(f) };
    case 'neg':
    case 'pct':
      return { ...n, arg: f(n.arg) };
    case 'div':
      return { ...n, num: f(n.num), den: f(n.den) };
    case 'pow':
      return { ...n, base: f(n.base), exp: f(n.exp) };
    case 'pm':
      return { ...n, a: f(n.a), b: f(n.b) };
    case 'list':
    case 'set':
    case 'tuple':
      return { ...n, items: n.items.map(f) } as Node;
    case 'interval':
      return { ...n, lo: f(n.lo), hi: f(n.hi) };
    case 'matrix':
      return { ...n, rows: n.rows.map((r) => r.map(f)) };
    case 'rel':
      return { ...n, terms: n.terms.map(f) };
    case 'in':
      return { ...n, elem: f(n.elem), set: f(n.set) };
    default:
      return n;
  }
}

/**
 * `1 ± √2` inside an expression or an equation → its two readings. Only the first ± is expanded
 * (answers with several are vanishingly rare); collections keep their own ± items.
 */
export function expandPm(n: Node): Node[] {
  let found = false;
  const pick = (sign: 1 | -1) => {
    let done = false;
    const visit = (c: Node): Node => {
      if (done) return c;
      if (c.k === 'pm') {
        done = true;
        found = true;
        return { k: 'add', args: [c.a, sign > 0 ? c.b : { k: 'neg', arg: c.b }] };
      }
      if (c.k === 'list' || c.k === 'set' || c.k === 'tuple' || c.k === 'interval' || c.k === 'matrix')
        return c;
      return mapChildren(c, visit);
    };
    return visit(n);
  };
  const plus = pick(1);
  if (!found) return [n];
  return [plus, pick(-1)];
}
