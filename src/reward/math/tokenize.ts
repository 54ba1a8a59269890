// LaTeX → tokens. Hand-written (not a general TeX engine): answers use a small, known subset of
// math-mode LaTeX, and a linear scanner with no backtracking keeps hostile input cheap.

export type Token =
  | { t: 'num'; s: string }
  | { t: 'id'; s: string } // single letter, greek name, or a subscripted name like x_1
  | { t: 'cmd'; s: string } // backslash command without the backslash: frac, sqrt, sin, cdot, ...
  | { t: 'op'; s: string } // + - * / ^ _ ! = < > <= >= != , ; | & \\ : % '
  | { t: 'open'; s: '(' | '[' | '{' | '\\{' }
  | { t: 'close'; s: ')' | ']' | '}' | '\\}' }
  | { t: 'text'; s: string } // content of \text{...} and friends
  | { t: 'env'; s: string; begin: boolean }; // \begin{pmatrix} / \end{pmatrix}

const TEXT_COMMANDS = new Set([
  'text',
  'textbf',
  'textit',
  'textrm',
  'textnormal',
  'mbox',
  'mathrm',
  'mathit',
  'mathbf',
  'operatorname',
  'textsf',
  'texttt',
  'hbox',
]);
const SPACING = new Set([
  ',',
  ';',
  ':',
  '!',
  ' ',
  'quad',
  'qquad',
  'enspace',
  'thinspace',
  'medspace',
  'thickspace',
  'displaystyle',
  'textstyle',
  'left',
  'right',
  'big',
  'Big',
  'bigg',
  'Bigg',
  'bigl',
  'bigr',
  'Bigl',
  'Bigr',
  'limits',
  'nolimits',
  'hline',
  'boldsymbol',
  'mathbf',
  'bf',
  'it',
  'rm',
  'cr',
  'noindent',
  'ldots',
  'cdots',
  'dots',
  'dotsc',
  'dotsb',
  'vdots',
  'ddots',
  'phantom',
  'mathstrut',
  'strut',
  'Large',
  'large',
  'small',
  'normalsize',
  'tiny',
  'huge',
]);

/** Reads `{...}` starting at `i` (which must be `{`); returns the inner text and the index after `}`. */
export function readBraced(src: string, i: number): [string, number] | null {
  if (src[i] !== '{') return null;
  let depth = 0;
  for (let j = i; j < src.length; j++) {
    const c = src[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return [src.slice(i + 1, j), j + 1];
  }
  return null;
}

export function tokenize(src: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '~') {
      i++;
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+(?![a-zA-Z]))?/.exec(src.slice(i, i + 400));
      if (!m) return null;
      // "1e5" is read as a number only when it looks like scientific notation (digits on both sides).
      let s = m[0];
      if (/[eE]/.test(s) && !/^\d+(?:\.\d+)?[eE][+-]?\d+$/.test(s)) s = s.replace(/[eE].*$/, '');
      out.push({ t: 'num', s });
      i += s.length;
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      out.push({ t: 'id', s: c });
      i++;
      continue;
    }
    if (c === '\\') {
      const next = src[i + 1];
      if (next === undefined) return null;
      if (next === '\\') {
        out.push({ t: 'op', s: '\\\\' });
        i += 2;
        continue;
      }
      if (next === '{' || next === '}') {
        out.push(next === '{' ? { t: 'open', s: '\\{' } : { t: 'close', s: '\\}' });
        i += 2;
        continue;
      }
      if (next === '%' || next === '$' || next === '#' || next === '&') {
        if (next === '%') out.push({ t: 'op', s: '%' });
        i += 2;
        continue;
      }
      const m = /^[a-zA-Z]+/.exec(src.slice(i + 1, i + 40));
      if (!m) {
        // \, \; \! \: and other one-character spacing commands.
        i += 2;
        continue;
      }
      const name = m[0];
      i += 1 + name.length;
      if (TEXT_COMMANDS.has(name)) {
        while (src[i] === ' ') i++;
        const b = readBraced(src, i);
        if (!b) {
          if (name === 'mathbf' || name === 'bf' || name === 'rm' || name === 'it') continue;
          return null;
        }
        i = b[1];
        // \operatorname{lcm} is a function name, not text.
        if (
          name === 'operatorname' &&
          /^(?:lcm|gcd|sgn|arcsin|arccos|arctan|sinh|cosh|tanh|cot|sec|csc)$/.test(b[0].trim())
        ) {
          out.push({ t: 'cmd', s: b[0].trim() });
          continue;
        }
        out.push({ t: 'text', s: b[0] });
        continue;
      }
      if (name === 'begin' || name === 'end') {
        const b = readBraced(src, i);
        if (!b) return null;
        i = b[1];
        out.push({ t: 'env', s: b[0].replace(/\*$/, ''), begin: name === 'begin' });
        // array column spec: \begin{array}{cc}
        if (name === 'begin' && b[0] === 'array' && src[i] === '{') {
          const spec = readBraced(src, i);
          if (spec) i = spec[1];
        }
        continue;
      }
      if (SPACING.has(name)) continue;
      out.push({ t: 'cmd', s: name });
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      out.push({ t: 'open', s: c });
      i++;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      out.push({ t: 'close', s: c });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '=<' || two === '=>') {
      out.push({ t: 'op', s: two === '=<' ? '<=' : two === '=>' ? '>=' : two });
      i += 2;
      continue;
    }
    if (two === '**') {
      out.push({ t: 'op', s: '^' });
      i += 2;
      continue;
    }
    if ("+-*/^_!=<>,;|&:%'".includes(c)) {
      out.push({ t: 'op', s: c });
      i++;
      continue;
    }
    if (c === '−' || c === '–') {
      out.push({ t: 'op', s: '-' });
      i++;
      continue;
    }
    if (c === '×' || c === '·' || c === '⋅') {
      out.push({ t: 'op', s: '*' });
      i++;
      continue;
    }
    if (c === '÷') {
      out.push({ t: 'op', s: '/' });
      i++;
      continue;
    }
    if (c === '≤' || c === '≥' || c === '≠') {
      out.push({ t: 'op', s: c === '≤' ? '<=' : c === '≥' ? '>=' : '!=' });
      i++;
      continue;
    }
    if (c === 'π') {
      out.push({ t: 'cmd', s: 'pi' });
      i++;
      continue;
    }
    if (c === '∞') {
      out.push({ t: 'cmd', s: 'infty' });
      i++;
      continue;
    }
    if (c === '√') {
      out.push({ t: 'cmd', s: 'sqrt' });
      i++;
      continue;
    }
    if (c === '°' || c === '"' || c === '$' || c === '?' || c === '.' || c === '`') {
      // degree signs, quotes, stray dollars and full stops carry no value in an answer
      i++;
      continue;
    }
    return null; // a character we do not understand: let the caller fall back to text comparison
  }
  return out;
}
