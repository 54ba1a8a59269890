// Matrix arithmetic on parsed answers, so `A + B` or `A B` written with explicit matrices compares
// with the resulting matrix. Cells stay symbolic nodes; the comparer evaluates them.
import type { Node } from './ast.ts';
import { exactValue } from './evaluate.ts';

type Matrix = Node[][];
const MAX_POWER = 16;

export function containsMatrix(n: Node): boolean {
  switch (n.k) {
    case 'matrix':
      return true;
    case 'add':
    case 'mul':
      return n.args.some(containsMatrix);
    case 'neg':
      return containsMatrix(n.arg);
    case 'pow':
      return containsMatrix(n.base);
    default:
      return false;
  }
}

/** The matrix an expression of explicit matrices evaluates to, or null when it is not one. */
export function reduceMatrix(n: Node): Node | null {
  const m = reduce(n);
  return m && m !== 'scalar' ? { k: 'matrix', rows: m } : null;
}

function reduce(n: Node): Matrix | 'scalar' | null {
  switch (n.k) {
    case 'matrix':
      return n.rows;
    case 'neg': {
      const a = reduce(n.arg);
      return a === null || a === 'scalar' ? a : map(a, (c) => ({ k: 'neg', arg: c }));
    }
    case 'add': {
      const parts = n.args.map(reduce);
      if (parts.some((p) => p === null)) return null;
      const mats = parts.filter((p): p is Matrix => p !== 'scalar');
      if (mats.length === 0) return 'scalar';
      if (mats.length !== parts.length || !mats.every((m) => sameShape(m, mats[0]))) return null;
      return mats[0].map((row, i) => row.map((_, j) => ({ k: 'add', args: mats.map((m) => m[i][j]) })));
    }
    case 'mul': {
      let acc: Matrix | null = null;
      const scalars: Node[] = [];
      for (const a of n.args) {
        const r = reduce(a);
        if (r === null) return null;
        if (r === 'scalar') scalars.push(a);
        else if (acc === null) acc = r;
        else {
          const prod = multiply(acc, r);
          if (!prod) return null;
          acc = prod;
        }
      }
      if (acc === null) return 'scalar';
      return scalars.length ? map(acc, (c) => ({ k: 'mul', args: [...scalars, c] })) : acc;
    }
    case 'pow': {
      const base = reduce(n.base);
      if (base === null || base === 'scalar') return base;
      const e = exactValue(n.exp);
      if (e?.d !== 1n || e.n < 1n || e.n > BigInt(MAX_POWER)) return null;
      let acc: Matrix | null = base;
      for (let i = 1n; i < e.n && acc; i++) acc = multiply(acc, base);
      return acc;
    }
    case 'num':
    case 'sym':
    case 'const':
    case 'div':
    case 'fn':
    case 'pct':
      return 'scalar';
    default:
      return null;
  }
}

function map(m: Matrix, f: (c: Node) => Node): Matrix {
  return m.map((r) => r.map(f));
}

function sameShape(a: Matrix, b: Matrix): boolean {
  return a.length === b.length && a.every((r, i) => r.length === b[i].length);
}

function multiply(a: Matrix, b: Matrix): Matrix | null {
  const inner = a[0].length;
  if (inner !== b.length) return null;
  return a.map((row) =>
    b[0].map((_, j) => ({ k: 'add', args: row.map((c, k) => ({ k: 'mul', args: [c, b[k][j]] }) as Node) })),
  );
}
