// A generated corpus of (gold, prediction) pairs for the differential test against Math-Verify.
// Deterministic (seeded): each answer kind renders one value several ways (equal) and near misses
// (not equal), and each prediction is wrapped the ways models write answers.
import { mulberry32 } from '../../src/util/random.ts';

export interface Pair {
  id: number;
  category: string;
  gold: string;
  pred: string;
}

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));

/** One answer kind: the gold's LaTeX, renderings of the same value, and near misses. */
interface Case {
  category: string;
  gold: string;
  same: string[];
  different: string[];
  /** Plain-text (non-LaTeX) predictions are allowed (numbers a model may write without $). */
  plain?: string[];
}

const withCommas = (n: number) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

const KINDS: ((r: Rng) => Case)[] = [
  (r) => {
    const n = int(r, -50, 999);
    return {
      category: 'integer',
      gold: `${n}`,
      same: [`${n}`, `${n}.0`, `{${n}}`],
      different: [`${n + 1}`, `${-n - 1}`, `${n * 10 + 1}`],
      plain: [`${n}`],
    };
  },
  (r) => {
    const n = int(r, 1000, 9_999_999);
    return {
      category: 'thousands',
      gold: `${n}`,
      same: [withCommas(n), `${n}`],
      different: [withCommas(n + 1000), `${n - 1}`],
      plain: [withCommas(n), `${n}`],
    };
  },
  (r) => {
    let a = int(r, 1, 30);
    let b = int(r, 2, 31);
    const g = gcd(a, b);
    a /= g;
    b /= g;
    if (b === 1) b = 7;
    const k = int(r, 2, 4);
    const same = [`\\frac{${a}}{${b}}`, `\\dfrac{${a}}{${b}}`, `${a}/${b}`, `\\frac{${k * a}}{${k * b}}`];
    if (a < 10 && b < 10) same.push(`\\frac${a}${b}`);
    const dec = a / b;
    if (Number.isInteger(dec * 1e4)) same.push(`${dec}`);
    else same.push(dec.toFixed(8));
    return {
      category: 'fraction',
      gold: `\\frac{${a}}{${b}}`,
      same,
      different: [`\\frac{${b}}{${a}}`, `\\frac{${a + 1}}{${b}}`, dec.toFixed(2)],
      plain: [`${a}/${b}`],
    };
  },
  (r) => {
    const a = int(r, 1, 20);
    const b = int(r, 2, 21);
    return {
      category: 'negative-fraction',
      gold: `-\\frac{${a}}{${b}}`,
      same: [`-\\frac{${a}}{${b}}`, `\\frac{-${a}}{${b}}`, `-${a}/${b}`],
      different: [`\\frac{${a}}{${b}}`, `-\\frac{${a}}{${b + 1}}`],
    };
  },
  (r) => {
    const k = int(r, 2, 9);
    const m = pick(r, [2, 3, 5, 6, 7, 10, 11, 13]);
    return {
      category: 'sqrt',
      gold: `${k}\\sqrt{${m}}`,
      same: [
        `${k}\\sqrt{${m}}`,
        `\\sqrt{${k * k * m}}`,
        `${k} \\sqrt ${m < 10 ? m : `{${m}}`}`,
        (k * Math.sqrt(m)).toFixed(9),
      ],
      different: [
        `${k}\\sqrt{${m + 1}}`,
        `\\sqrt{${k * m}}`,
        `${k + 1}\\sqrt{${m}}`,
        (k * Math.sqrt(m)).toFixed(2),
      ],
    };
  },
  (r) => {
    const k = int(r, 1, 9);
    const m = int(r, 2, 12);
    return {
      category: 'pi',
      gold: `\\frac{${k}\\pi}{${m}}`,
      same: [`\\frac{${k}}{${m}}\\pi`, `${k}\\pi/${m}`, `\\frac{${2 * k}\\pi}{${2 * m}}`],
      different: [`\\frac{${k}}{${m}}`, `\\frac{${k + 1}\\pi}{${m}}`, `\\frac{${m}\\pi}{${k}}`],
    };
  },
  (r) => {
    const p = int(r, 1, 99);
    return {
      category: 'percent',
      gold: `${p}\\%`,
      same: [`${p}\\%`, `${p}`, `${p} \\%`, `${(p / 100).toFixed(2)}`],
      different: [`${p + 1}\\%`, `${p + 1}`],
      plain: [`${p}%`, `${p} percent`],
    };
  },
  (r) => {
    const v = int(r, 1, 9999) / 100;
    return {
      category: 'decimal',
      gold: `${v}`,
      same: [`${v}`, `${v.toFixed(3)}`],
      different: [
        `${(v + 0.01).toFixed(2)}`,
        `${Math.round(v)}`.replace(/^(\d+)$/, (s) => (Number(s) === v ? `${v + 1}` : s)),
      ],
      plain: [`${v}`],
    };
  },
  (r) => {
    const a = int(r, 1, 6);
    const b = int(r, 1, 6);
    const v = pick(r, ['x', 'n', 't']);
    return {
      category: 'polynomial',
      gold: `${v}^2+${a + b}${v}+${a * b}`,
      same: [`(${v}+${a})(${v}+${b})`, `${a * b}+${a + b}${v}+${v}^2`, `${v}^{2} + ${a + b} ${v} + ${a * b}`],
      different: [`(${v}-${a})(${v}-${b})`, `${v}^2+${a + b}${v}+${a * b + 1}`, `(${v}+${a})(${v}+${b + 1})`],
    };
  },
  (r) => {
    const a = int(r, 2, 9);
    const b = int(r, 1, 9);
    return {
      category: 'line-equation',
      gold: `y = ${a}x + ${b}`,
      same: [`y=${a}x+${b}`, `y = ${b} + ${a}x`, `${a}x + ${b}`, `${a}x - y + ${b} = 0`],
      different: [`y = ${a}x - ${b}`, `y = ${b}x + ${a}`, `x = ${a}y + ${b}`],
    };
  },
  (r) => {
    const v = int(r, -9, 30);
    const n = pick(r, ['x', 'k', 'a']);
    return {
      category: 'assignment',
      gold: `${n} = ${v}`,
      same: [`${n}=${v}`, `${v}`, `${n} = ${v - 3} + 3 = ${v}`],
      different: [`${n} = ${v + 1}`, `${v + 2}`],
    };
  },
  (r) => {
    const a = int(r, -9, 9);
    return {
      category: 'inequality',
      gold: `x > ${a}`,
      same: [`x>${a}`, `${a} < x`, `(${a}, \\infty)`, `x \\gt ${a}`],
      different: [`x < ${a}`, `x \\geq ${a}`, `[${a}, \\infty)`, `(${a + 1}, \\infty)`],
    };
  },
  (r) => {
    const a = int(r, -9, 5);
    const b = a + int(r, 1, 9);
    const lo = pick(r, ['(', '[']);
    const hi = pick(r, [')', ']']);
    const flip = (c: string) => ({ '(': '[', '[': '(', ')': ']', ']': ')' })[c]!;
    return {
      category: 'interval',
      gold: `${lo}${a}, ${b}${hi}`,
      same: [`${lo}${a},${b}${hi}`, `\\left${lo}${a}, ${b}\\right${hi}`],
      different: [`${flip(lo)}${a}, ${b}${hi}`, `${lo}${a}, ${b + 1}${hi}`],
    };
  },
  (r) => {
    const a = int(r, -9, 0);
    const b = a + int(r, 1, 5);
    const c = b + int(r, 1, 5);
    return {
      category: 'union',
      gold: `(-\\infty, ${a}) \\cup (${b}, ${c}]`,
      same: [
        `(-\\infty,${a})\\cup(${b},${c}]`,
        `\\left(-\\infty, ${a}\\right) \\cup \\left(${b}, ${c}\\right]`,
      ],
      different: [`(-\\infty, ${a}] \\cup (${b}, ${c}]`, `(-\\infty, ${a}) \\cup (${b}, ${c})`],
    };
  },
  (r) => {
    const xs = [int(r, -9, -1), int(r, 0, 4), int(r, 5, 12)];
    const perm = [xs[2], xs[0], xs[1]];
    return {
      category: 'set',
      gold: `\\{${xs.join(', ')}\\}`,
      same: [`\\{${perm.join(',')}\\}`, `\\{${xs.join(', ')}\\}`],
      different: [`\\{${xs.slice(0, 2).join(', ')}\\}`, `\\{${xs[0]}, ${xs[1]}, ${xs[2] + 1}\\}`],
    };
  },
  (r) => {
    const a = int(r, -9, -1);
    const b = int(r, 1, 9);
    return {
      category: 'roots-list',
      gold: `${a}, ${b}`,
      same: [`${b}, ${a}`, `${a},${b}`],
      different: [`${a}`, `${a}, ${b + 1}`, `${-a}, ${b}`],
    };
  },
  (r) => {
    const a = int(r, -9, 9);
    const b = int(r, -9, 9) || 1;
    const c = int(r, -9, 9);
    return {
      category: 'tuple',
      gold: `(${a}, ${b}, ${c})`,
      same: [`(${a},${b},${c})`, `\\left(${a}, ${b}, ${c}\\right)`],
      different: [`(${b}, ${a}, ${c})`.replace(`(${a}, ${a}`, `(${a + 1}, ${a}`), `(${a}, ${b}, ${c + 1})`],
    };
  },
  (r) => {
    const a = int(r, 1, 9);
    const b = int(r, 10, 20);
    return {
      category: 'point',
      gold: `(${a}, ${b})`,
      same: [`(${a},${b})`, `\\left( ${a}, ${b} \\right)`],
      different: [`(${b}, ${a})`, `(${a}, ${b + 1})`],
    };
  },
  (r) => {
    const m = [int(r, -9, 9), int(r, -9, 9), int(r, -9, 9), int(r, -9, 9)];
    const mat = (env: string, v: number[]) =>
      `\\begin{${env}} ${v[0]} & ${v[1]} \\\\ ${v[2]} & ${v[3]} \\end{${env}}`;
    return {
      category: 'matrix',
      gold: mat('pmatrix', m),
      same: [mat('bmatrix', m), mat('pmatrix', m)],
      different: [mat('pmatrix', [m[0], m[2], m[1] + 1, m[3]]), mat('pmatrix', [m[0] + 1, m[1], m[2], m[3]])],
    };
  },
  (r) => {
    const v = [int(r, -9, 9), int(r, -9, 9), int(r, -9, 9)];
    const col = (x: number[]) => `\\begin{pmatrix} ${x.join(' \\\\ ')} \\end{pmatrix}`;
    return { category: 'vector', gold: col(v), same: [col(v)], different: [col([v[0], v[1], v[2] + 1])] };
  },
  (r) => {
    const name = pick(r, ['Evelyn', 'Bob', 'Alice', 'Tuesday', 'Carla', 'Hexagon']);
    const other = pick(r, ['Debra', 'Angela', 'Monday', 'Pentagon']);
    return {
      category: 'text',
      gold: `\\text{${name}}`,
      same: [`\\text{${name}}`, `\\text{${name.toLowerCase()}}`, `\\textbf{${name}}`],
      different: [`\\text{${other}}`],
    };
  },
  (r) => {
    const c = pick(r, ['A', 'B', 'C', 'D', 'E']);
    const o = c === 'A' ? 'C' : 'A';
    return {
      category: 'choice',
      gold: c,
      same: [c, `(${c})`, `\\text{${c}}`, `\\text{(${c})}`],
      different: [o, `(${o})`],
    };
  },
  (r) => {
    const d = pick(r, [30, 45, 60, 90, 120, 135, 150]);
    return {
      category: 'degrees',
      gold: `${d}^\\circ`,
      same: [`${d}^\\circ`, `${d}^{\\circ}`, `${d}`, `${d}°`],
      different: [`${d + 5}^\\circ`, `${180 - d === d ? d + 1 : 180 - d}^\\circ`],
    };
  },
  (r) => {
    const v = int(r, 2, 500);
    const unit = pick(r, ['cm', 'meters', 'inches', 'dollars', 'units', 'square feet']);
    return {
      category: 'units',
      gold: `${v}`,
      same: [`${v}\\text{ ${unit}}`, `${v} \\text{${unit}}`, `${v}\\mbox{ ${unit}}`],
      different: [`${v + 1}\\text{ ${unit}}`],
    };
  },
  (r) => {
    const a = int(r, 1, 9);
    const m = pick(r, [2, 3, 5, 7, 19]);
    return {
      category: 'plus-minus',
      gold: `${a} \\pm \\sqrt{${m}}`,
      same: [`${a}\\pm\\sqrt{${m}}`, `${a} + \\sqrt{${m}}, ${a} - \\sqrt{${m}}`],
      different: [`${a} + \\sqrt{${m}}`, `${a} \\pm \\sqrt{${m + 1}}`],
    };
  },
  (r) => {
    const b = pick(r, [2, 3, 5, 10]);
    const e = int(r, 2, 12);
    return {
      category: 'power',
      gold: `${b}^{${e}}`,
      same: [`${b ** e}`, `${b}^{${e}}`, `${b}^${e < 10 ? e : `{${e}}`}`],
      different: [`${b ** e + 1}`, `${e}^{${b}}`.replace(`${b}^{${e}}`, 'x')],
    };
  },
  (r) => {
    const m = int(r, 11, 99) / 10;
    const e = int(r, 2, 6);
    return {
      category: 'scientific',
      gold: `${m} \\times 10^{${e}}`,
      same: [`${Math.round(m * 10 ** e)}`, `${m}\\cdot 10^{${e}}`],
      different: [`${m} \\times 10^{${e + 1}}`, `${Math.round(m * 10 ** e) + 1}`],
    };
  },
  (r) => {
    const a = int(r, -9, 9);
    const b = int(r, 1, 9);
    const s = (x: number, y: number) => `${x} ${y < 0 ? '-' : '+'} ${Math.abs(y)}i`;
    return {
      category: 'complex',
      gold: s(a, b),
      same: [`${s(a, b).replace(/ /g, '')}`, `${b}i + ${a}`],
      different: [s(a, -b), s(a + 1, b)],
    };
  },
  (r) => {
    const a = int(r, 2, 6);
    const b = int(r, 2, 3);
    return {
      category: 'trig-identity',
      gold: `\\sin^2 x + \\cos^2 x`,
      same: ['1', `\\cos^2x+\\sin^2x`],
      different: [`${a}`, `\\sin^${b} x`],
    };
  },
  (r) => {
    const b = pick(r, [2, 3, 4, 5]);
    const e = int(r, 2, 5);
    return {
      category: 'logarithm',
      gold: `\\log_{${b}} ${b ** e}`,
      same: [`${e}`],
      different: [`${e + 1}`, `${b ** e}`],
    };
  },
  (r) => {
    const d = int(r, 100, 444);
    const s = d.toString(5);
    return {
      category: 'base',
      gold: `${s}_5`,
      same: [`${s}_5`, `${s}_{5}`],
      different: [`${`${s}`.replace(/\d$/, (c) => `${(Number(c) + 1) % 5}`)}_5`],
    };
  },
  (r) => {
    const w = int(r, 1, 9);
    const d = int(r, 2, 9);
    const n = int(r, 1, d - 1);
    return {
      category: 'mixed-number',
      gold: `\\frac{${w * d + n}}{${d}}`,
      same: [`${w}\\frac{${n}}{${d}}`, `\\frac{${w * d + n}}{${d}}`],
      different: [`${w}\\frac{${n + 1}}{${d}}`, `\\frac{${w * d + n}}{${d + 1}}`],
    };
  },
  (r) => {
    const m = pick(r, [2, 3, 5, 6, 7]);
    const k = int(r, 1, 5);
    return {
      category: 'rationalised',
      gold: `\\frac{${k}}{\\sqrt{${m}}}`,
      same: [`\\frac{${k}\\sqrt{${m}}}{${m}}`, `\\frac{${k}}{\\sqrt{${m}}}`],
      different: [`\\frac{${k}\\sqrt{${m}}}{${m + 1}}`, `\\frac{\\sqrt{${m}}}{${k + 1}}`],
    };
  },
  (r) => {
    const a = int(r, 1, 9);
    const b = int(r, 1, 9);
    return {
      category: 'two-variables',
      gold: `${a}x + ${b}y`,
      same: [`${b}y + ${a}x`, `${a} x+${b} y`],
      different: [`${b}x + ${a}y`.replace(`${a}x + ${b}y`, `${a}x - ${b}y`), `${a}x + ${b + 1}y`],
    };
  },
  (r) => {
    const a = int(r, -9, 9);
    const b = a + int(r, 1, 9);
    return {
      category: 'closed-inequality',
      gold: `${a} \\le x \\le ${b}`,
      same: [`[${a}, ${b}]`, `${a} \\leq x \\leq ${b}`, `${b} \\ge x \\ge ${a}`],
      different: [`(${a}, ${b}]`, `[${a}, ${b + 1}]`, `${a} < x \\le ${b}`],
    };
  },
  (r) => {
    const a = int(r, 1, 9);
    const b = int(r, 1, 9);
    return {
      category: 'ratio',
      gold: `${a}:${b}`,
      same: [`${a}:${b}`, `${2 * a}:${2 * b}`],
      different: [`${b + (a === b ? 1 : 0)}:${a}`, `${a}:${b + 1}`],
    };
  },
  (r) => {
    const e = int(r, 1, 4);
    const b = pick(r, [2, 3, 10]);
    return {
      category: 'negative-exponent',
      gold: `\\frac{1}{${b ** e}}`,
      same: [`${b}^{-${e}}`, `\\frac{1}{${b}^{${e}}}`],
      different: [`${b}^{${e}}`, `-${b ** e}`],
    };
  },
  (r) => {
    const k = int(r, 2, 9);
    return {
      category: 'e-constant',
      gold: `${k}e`,
      same: [`${k}e`, `e \\cdot ${k}`],
      different: [`${k}`, `e^{${k}}`],
    };
  },
];

/** How a response states its answer. */
const PRED_WRAPPERS: ((a: string, r: Rng) => string)[] = [
  (a) => `Therefore, the answer is $\\boxed{${a}}$.`,
  (a) => `We compute step by step and get $\\boxed{${a}}$`,
  (a, r) =>
    `First, $3 + 4 = 7$ and $${int(r, 2, 9)} \\cdot 2 = ${int(r, 10, 18)}$. Combining everything, the result is \\boxed{${a}}.`,
  (a) => `Final Answer: The final answer is $${a}$. I hope it is correct.`,
  (a) => `Answer: $${a}$`,
  (a) => `So we conclude that the value is \\[ ${a} \\]`,
  (a) => `The solution simplifies to \\(${a}\\).`,
  (a, r) =>
    `Checking an intermediate value \\boxed{${int(r, 100, 200)}} is not final. Thus the final result is \\boxed{${a}}.`,
  (a) => `$$${a}$$`,
  (a) => `The answer is $${a}$.`,
  (a) =>
    `<think>Let me try small cases first: $1$, $2$, $4$. Wait, recheck.</think>\n\n**Final Answer**\n\\[\n\\boxed{${a}}\n\\]`,
  (a) => `So the required value is \\(\\displaystyle ${a}\\). $\\blacksquare$`,
];

const PLAIN_WRAPPERS: ((a: string) => string)[] = [
  (a) => `The answer is ${a}.`,
  (a) => `So the total is ${a}`,
  (a) => `Answer: ${a}`,
];

const GOLD_WRAPPERS: ((a: string) => string)[] = [
  (a) => `$${a}$`,
  (a) => `$${a}$`,
  (a) => `$${a}$`,
  (a) => `The solution works out and the answer is $\\boxed{${a}}$.`,
];

export function generateCorpus(count: number, seed = 20260101): Pair[] {
  const r = mulberry32(seed);
  const out: Pair[] = [];
  while (out.length < count) {
    const kind = KINDS[out.length % KINDS.length];
    const c = kind(r);
    const gold = pick(r, GOLD_WRAPPERS)(c.gold);
    const usePlain = c.plain && r() < 0.25;
    const equal = r() < 0.55;
    const body = equal ? pick(r, usePlain ? c.plain! : c.same) : pick(r, c.different);
    const pred = usePlain && equal ? pick(r, PLAIN_WRAPPERS)(body) : pick(r, PRED_WRAPPERS)(body, r);
    out.push({ id: out.length, category: c.category, gold, pred });
  }
  return out;
}
