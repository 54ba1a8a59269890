// Two evaluators over Node: exact (rationals, or null when the value is irrational or too large)
// and numeric (doubles at given symbol values, NaN when undefined). Both are total and bounded:
// `100000!` or `10^{10^{10}}` return null / Infinity at once instead of computing.
import type { Node } from './ast.ts';
import type { Rational } from './rational.ts';
import * as Q from './rational.ts';

const MAX_EXACT_FACTORIAL = 500;

export function exactValue(node: Node): Rational | null {
  switch (node.k) {
    case 'num':
      return node.v;
    case 'neg': {
      const a = exactValue(node.arg);
      return a && Q.neg(a);
    }
    case 'add': {
      let acc: Rational | null = Q.ZERO;
      for (const a of node.args) {
        const v = exactValue(a);
        if (!v || !acc) return null;
        acc = Q.add(acc, v);
      }
      return acc;
    }
    case 'mul': {
      let acc: Rational | null = Q.ONE;
      for (const a of node.args) {
        const v = exactValue(a);
        if (!v || !acc) return null;
        acc = Q.mul(acc, v);
      }
      return acc;
    }
    case 'div': {
      const n = exactValue(node.num);
      const d = exactValue(node.den);
      return n && d ? Q.div(n, d) : null;
    }
    case 'pow': {
      const b = exactValue(node.base);
      const e = exactValue(node.exp);
      if (!b || !e) return null;
      if (e.d === 1n) return Q.powInt(b, e.n);
      // b^(p/q) is exact when b has an exact q-th root.
      if (e.d <= 64n) {
        const root = Q.rootExact(b, Number(e.d));
        return root && Q.powInt(root, e.n);
      }
      return null;
    }
    case 'fn':
      return exactFunction(node.name, node.args);
    default:
      return null;
  }
}

function exactFunction(name: string, args: Node[]): Rational | null {
  const vals = args.map(exactValue);
  if (vals.some((v) => v === null)) return null;
  const [a, b] = vals as Rational[];
  switch (name) {
    case 'sqrt':
      return args.length === 1 ? Q.rootExact(a, 2) : null;
    case 'abs':
      return a.n < 0n ? Q.neg(a) : a;
    case 'factorial': {
      if (a.d !== 1n || a.n < 0n || a.n > BigInt(MAX_EXACT_FACTORIAL)) return null;
      let r = 1n;
      for (let i = 2n; i <= a.n; i++) r *= i;
      return Q.rat(r);
    }
    case 'binom': {
      if (!b || a.d !== 1n || b.d !== 1n || a.n < 0n || a.n > 100000n || b.n < 0n || b.n > a.n)
        return b && b.d === 1n && (b.n < 0n || b.n > a.n) && a.n >= 0n ? Q.ZERO : null;
      const k = minBig(b.n, a.n - b.n);
      if (k > 2000n) return null;
      let r = 1n;
      for (let i = 0n; i < k; i++) r = (r * (a.n - i)) / (i + 1n);
      return Q.rat(r);
    }
    case 'floor':
    case 'ceil': {
      const q = a.n / a.d;
      const fl = a.n < 0n && a.n % a.d !== 0n ? q - 1n : q;
      return Q.rat(name === 'floor' || a.d === 1n ? fl : fl + 1n);
    }
    default:
      return null;
  }
}

const minBig = (x: bigint, y: bigint) => (x < y ? x : y);

export type Env = Map<string, number>;

function factorial(x: number): number {
  if (!Number.isInteger(x) || x < 0) return Number.NaN;
  if (x > 170) return Number.POSITIVE_INFINITY;
  let r = 1;
  for (let i = 2; i <= x; i++) r *= i;
  return r;
}

export function numericValue(node: Node, env: Env): number {
  switch (node.k) {
    case 'num':
      return Q.toNumber(node.v);
    case 'sym':
      return env.get(node.name) ?? Number.NaN;
    case 'const':
      return node.name === 'pi' ? Math.PI : node.name === 'e' ? Math.E : Number.POSITIVE_INFINITY;
    case 'neg':
      return -numericValue(node.arg, env);
    case 'add':
      return node.args.reduce((s, a) => s + numericValue(a, env), 0);
    case 'mul':
      return node.args.reduce((s, a) => s * numericValue(a, env), 1);
    case 'div':
      return numericValue(node.num, env) / numericValue(node.den, env);
    case 'pow': {
      const b = numericValue(node.base, env);
      const e = numericValue(node.exp, env);
      // Odd roots of negatives are real: (-8)^(1/3) = -2.
      if (b < 0 && !Number.isInteger(e)) {
        const q = exactValue(node.exp);
        if (q && q.d % 2n === 1n) return (q.n % 2n === 0n ? 1 : -1) * Math.abs(b) ** e;
      }
      return b ** e;
    }
    case 'pct':
      return numericValue(node.arg, env) / 100;
    case 'fn':
      return numericFunction(
        node.name,
        node.args.map((a) => numericValue(a, env)),
      );
    default:
      return Number.NaN;
  }
}

function numericFunction(name: string, x: number[]): number {
  const [a, b] = x;
  switch (name) {
    case 'sin':
      return Math.sin(a);
    case 'cos':
      return Math.cos(a);
    case 'tan':
      return Math.tan(a);
    case 'cot':
      return 1 / Math.tan(a);
    case 'sec':
      return 1 / Math.cos(a);
    case 'csc':
      return 1 / Math.sin(a);
    case 'arcsin':
      return Math.asin(a);
    case 'arccos':
      return Math.acos(a);
    case 'arctan':
      return Math.atan(a);
    case 'arccot':
      return Math.atan(1 / a);
    case 'sinh':
      return Math.sinh(a);
    case 'cosh':
      return Math.cosh(a);
    case 'tanh':
      return Math.tanh(a);
    case 'exp':
      return Math.exp(a);
    case 'log':
      return x.length === 2 ? Math.log(a) / Math.log(b) : Math.log(a);
    case 'log10':
      return Math.log10(a);
    case 'sqrt':
      return Math.sqrt(a);
    case 'abs':
      return Math.abs(a);
    case 'factorial':
      return factorial(a);
    case 'floor':
      return Math.floor(a);
    case 'ceil':
      return Math.ceil(a);
    case 'binom':
      return factorial(a) / (factorial(b) * factorial(a - b));
    case 'gcd':
    case 'lcm': {
      if (x.length === 0 || !x.every((v) => Number.isSafeInteger(v))) return Number.NaN;
      const g2 = (p: number, q: number): number => (q === 0 ? Math.abs(p) : g2(q, p % q));
      return x.reduce((acc, v) => (name === 'gcd' ? g2(acc, v) : Math.abs(acc * v) / (g2(acc, v) || 1)));
    }
    case 'max':
      return x.length ? Math.max(...x) : Number.NaN;
    case 'min':
      return x.length ? Math.min(...x) : Number.NaN;
    default:
      return Number.NaN;
  }
}

/** Free symbols of an expression, in first-seen order. */
export function freeSymbols(node: Node, out: Set<string> = new Set()): Set<string> {
  switch (node.k) {
    case 'sym':
      out.add(node.name);
      break;
    case 'neg':
    case 'pct':
      freeSymbols(node.arg, out);
      break;
    case 'add':
    case 'mul':
    case 'fn':
      for (const a of node.args) freeSymbols(a, out);
      break;
    case 'div':
      freeSymbols(node.num, out);
      freeSymbols(node.den, out);
      break;
    case 'pow':
      freeSymbols(node.base, out);
      freeSymbols(node.exp, out);
      break;
    default:
      break;
  }
  return out;
}

/** True when the node (or a part of it) was written as a decimal, which switches on rounded comparison. */
export function hasFloat(node: Node): boolean {
  switch (node.k) {
    case 'num':
      return node.isFloat;
    case 'neg':
    case 'pct':
      return hasFloat(node.arg);
    case 'add':
    case 'mul':
    case 'fn':
      return node.args.some(hasFloat);
    case 'div':
      return hasFloat(node.num) || hasFloat(node.den);
    case 'pow':
      return hasFloat(node.base) || hasFloat(node.exp);
    default:
      return false;
  }
}
