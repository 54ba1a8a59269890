// Complex evaluation for answers that use the imaginary unit i (i^2 = -1, (1+i)^2 = 2i, |3+4i| = 5).
// Used only when an answer mentions i, so real answers keep real-domain semantics (√-1 is undefined).
import type { Node } from './ast.ts';
import { type Env, exactValue, numericValue } from './evaluate.ts';
import { toNumber } from './rational.ts';

export interface C {
  re: number;
  im: number;
}

const c = (re: number, im = 0): C => ({ re, im });
const NAN = c(Number.NaN, Number.NaN);
const add = (a: C, b: C) => c(a.re + b.re, a.im + b.im);
const mul = (a: C, b: C) => c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
const div = (a: C, b: C) => {
  const d = b.re * b.re + b.im * b.im;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
};
const abs = (a: C) => Math.hypot(a.re, a.im);
const exp = (a: C) => c(Math.exp(a.re) * Math.cos(a.im), Math.exp(a.re) * Math.sin(a.im));
const log = (a: C) => c(Math.log(abs(a)), Math.atan2(a.im, a.re));

function pow(b: C, e: C, exactExp: Node): C {
  const q = exactValue(exactExp);
  if (q && q.d === 1n && q.n >= -64n && q.n <= 64n) {
    // Integer powers by repeated multiplication: exact for Gaussian integers.
    let r = c(1);
    const k = Number(q.n < 0n ? -q.n : q.n);
    for (let j = 0; j < k; j++) r = mul(r, b);
    return q.n < 0n ? div(c(1), r) : r;
  }
  if (b.re === 0 && b.im === 0) return e.re > 0 ? c(0) : NAN;
  return exp(mul(e, log(b)));
}

export function complexValue(node: Node, env: Env): C {
  switch (node.k) {
    case 'num':
      return c(toNumber(node.v));
    case 'sym':
      return node.name === 'i' ? c(0, 1) : c(env.get(node.name) ?? Number.NaN);
    case 'neg': {
      const a = complexValue(node.arg, env);
      return c(0 - a.re, 0 - a.im); // 0 - x, not -x: a -0 imaginary part would flip log's branch cut
    }
    case 'add':
      return node.args.reduce((s, a) => add(s, complexValue(a, env)), c(0));
    case 'mul':
      return node.args.reduce((s, a) => mul(s, complexValue(a, env)), c(1));
    case 'div':
      return div(complexValue(node.num, env), complexValue(node.den, env));
    case 'pow':
      return pow(complexValue(node.base, env), complexValue(node.exp, env), node.exp);
    case 'pct': {
      const a = complexValue(node.arg, env);
      return c(a.re / 100, a.im / 100);
    }
    case 'fn': {
      const args = node.args.map((a) => complexValue(a, env));
      const [a] = args;
      if (node.name === 'sqrt' && args.length === 1)
        return a.im === 0 && a.re >= 0 ? c(Math.sqrt(a.re)) : exp(mul(c(0.5), log(a)));
      if (node.name === 'abs') return c(abs(a));
      if (node.name === 'exp') return exp(a);
      if (node.name === 'log' && args.length === 1) return log(a);
      // Other functions are real-only here.
      if (args.some((x) => x.im !== 0)) return NAN;
      return c(numericValue(node, env));
    }
    default:
      return c(numericValue(node, env));
  }
}
