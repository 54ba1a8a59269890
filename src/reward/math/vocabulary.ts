// Names the LaTeX parser knows: Greek letters, functions, relation and multiplication commands.
import type { RelOp } from './ast.ts';

const words = (list: string) => new Set(list.split(' '));

export const GREEK = words(
  'alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi Omega ell imath jmath',
);
export const FUNCTIONS = words(
  'sin cos tan cot sec csc arcsin arccos arctan arccot arcsec arccsc sinh cosh tanh coth log ln lg exp det gcd lcm max min deg arg',
);
/** Function names models write without a backslash (sin x, sqrt(2)); longest first so arcsin beats sin. */
export const WORD_FUNCTIONS =
  'arcsin arccos arctan sinh cosh tanh sqrt sin cos tan cot sec csc log ln exp'.split(' ');
export const REL: Record<string, RelOp> = {
  '=': '=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
  '!=': '!=',
  le: '<=',
  leq: '<=',
  leqslant: '<=',
  ge: '>=',
  geq: '>=',
  geqslant: '>=',
  lt: '<',
  gt: '>',
  ne: '!=',
  neq: '!=',
  equiv: '=',
  cong: '=',
};
/** x ≈ 3.14 names a value; "1/3 ≈ 0.33" keeps the exact side. */
export const APPROX = words('approx simeq sim');
export const MUL_CMDS = words('cdot times ast star bullet cross');
export const NUMBER_WORDS =
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty'.split(
    ' ',
  );
