// Tokens → Node: a recursive-descent parser for answer-sized LaTeX. Depth and size are bounded so
// deeply nested or enormous input fails fast with null instead of overflowing the stack.
import { type Node, num, type RelOp } from './ast.ts';
import { parseDecimal } from './rational.ts';
import { type Token, tokenize } from './tokenize.ts';
import { APPROX, FUNCTIONS, GREEK, MUL_CMDS, NUMBER_WORDS, REL, WORD_FUNCTIONS } from './vocabulary.ts';

const MAX_DEPTH = 200;
const MAX_TOKENS = 4000;

class ParseError extends Error {}

/** An expression made of names only (`x`, `AB`, `|AB|`, `(p, q)`, `NO/BO`): its equation assigns a value. */
export function onlySymbols(n: Node): boolean {
  switch (n.k) {
    case 'sym':
      return true;
    case 'mul':
    case 'add':
    case 'fn':
      return n.args.length > 0 && n.args.every(onlySymbols);
    case 'div':
      return onlySymbols(n.num) && onlySymbols(n.den);
    case 'tuple':
      return n.items.every(onlySymbols);
    default:
      return false;
  }
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(o = 0): Token | undefined {
    return this.toks[this.pos + o];
  }
  private isOp(s: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && t.t === 'op' && t.s === s;
  }
  private isCmd(s: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && t.t === 'cmd' && t.s === s;
  }
  private expectClose(s: string): void {
    const t = this.peek();
    if (t?.t !== 'close' || t.s !== s) throw new ParseError(`expected ${s}`);
    this.pos++;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError('too deep');
  }

  parseAll(): Node {
    const node = this.parseList();
    if (this.pos !== this.toks.length) throw new ParseError('trailing tokens');
    return node;
  }

  /**
   * `a, b` at the top level or inside brackets. Semicolons group like Math-Verify: `1, 2; 3, 4` is
   * the set of tuples {(1, 2), (3, 4)}; `1; 2` alone is the list 1, 2.
   */
  private parseList(): Node {
    const groups: Node[][] = [[this.parseRelation()]];
    while (this.isOp(',') || this.isOp(';')) {
      const semicolon = this.isOp(';');
      this.pos++;
      if (this.atEnd()) break; // trailing comma
      if (semicolon) groups.push([]);
      groups[groups.length - 1].push(this.parseRelation());
    }
    if (groups.length === 1) return groups[0].length === 1 ? groups[0][0] : { k: 'list', items: groups[0] };
    if (groups.every((g) => g.length === 1)) return { k: 'list', items: groups.map((g) => g[0]) };
    return {
      k: 'list',
      items: groups.map((g) => (g.length === 1 ? g[0] : { k: 'tuple', items: g, open: '(', close: ')' })),
    };
  }

  private atEnd(): boolean {
    const t = this.peek();
    return t === undefined || t.t === 'close' || (t.t === 'env' && !t.begin);
  }

  private relOp(): RelOp | null {
    const t = this.peek();
    if (!t) return null;
    if (t.t === 'op' && REL[t.s]) return REL[t.s];
    if (t.t === 'cmd' && REL[t.s]) return REL[t.s];
    return null;
  }

  private parseRelation(): Node {
    const first = this.parseRatio();
    if (this.isCmd('in')) {
      this.pos++;
      return { k: 'in', elem: first, set: this.parseRatio() };
    }
    const ops: RelOp[] = [];
    const terms = [first];
    for (;;) {
      const t = this.peek();
      if (t?.t === 'cmd' && APPROX.has(t.s)) {
        // x ≈ 3.14 names a value; "1/3 ≈ 0.33" keeps the exact side, as Math-Verify does.
        this.pos++;
        const rhs = this.parseRatio();
        if (ops.length === 0 && onlySymbols(first)) {
          ops.push('=');
          terms.push(rhs);
        }
        continue;
      }
      const op = this.relOp();
      if (!op) break;
      this.pos++;
      ops.push(op);
      terms.push(this.parseRatio());
    }
    return ops.length ? { k: 'rel', ops, terms } : first;
  }

  /** `7 : 32` is a ratio. */
  private parseRatio(): Node {
    let left = this.parseSetExpr();
    while (this.isOp(':') && !this.atEndAt(1)) {
      this.pos++;
      left = { k: 'div', num: left, den: this.parseSetExpr() };
    }
    return left;
  }

  private atEndAt(o: number): boolean {
    const t = this.peek(o);
    return t === undefined || t.t === 'close';
  }

  private parseSetExpr(): Node {
    let left = this.parseSum();
    for (;;) {
      const t = this.peek();
      const op =
        t?.t === 'cmd'
          ? ({ cup: 'cup', cap: 'cap', setminus: 'minus', backslash: 'minus' } as const)[t.s as 'cup']
          : undefined;
      if (!op) return left;
      this.pos++;
      const right = this.parseSum();
      left =
        left.k === 'setop' && left.op === op
          ? { ...left, args: [...left.args, right] }
          : { k: 'setop', op, args: [left, right] };
    }
  }

  private parseSum(): Node {
    this.enter();
    let args: Node[] = [this.parseTerm()];
    let pm: Node | null = null;
    for (;;) {
      if (this.isOp('+')) {
        this.pos++;
        args.push(this.parseTerm());
      } else if (this.isOp('-')) {
        this.pos++;
        args.push({ k: 'neg', arg: this.parseTerm() });
      } else if ((this.isCmd('pm') || this.isCmd('mp')) && pm === null) {
        const sign = this.isCmd('mp') ? -1 : 1;
        this.pos++;
        const a: Node = args.length === 1 ? args[0] : { k: 'add', args };
        const rest = this.parseSum();
        pm = { k: 'pm', a, b: sign > 0 ? rest : { k: 'neg', arg: rest } };
        args = [];
        break;
      } else break;
    }
    this.depth--;
    if (pm) return pm;
    return args.length === 1 ? args[0] : { k: 'add', args };
  }

  private startsFactor(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === 'num' || t.t === 'id' || t.t === 'text') return true;
    if (t.t === 'open') return t.s === '(' || t.s === '{' || t.s === '\\{';
    if (t.t === 'env') return t.begin;
    if (t.t === 'cmd')
      return (
        !REL[t.s] &&
        !APPROX.has(t.s) &&
        !MUL_CMDS.has(t.s) &&
        ![
          'pm',
          'mp',
          'div',
          'cup',
          'cap',
          'setminus',
          'in',
          'circ',
          'to',
          'rightarrow',
          'Rightarrow',
          'implies',
          'mid',
          'colon',
          'rangle',
          'rfloor',
          'rceil',
          'rvert',
          'vert',
          'circ',
          'prime',
        ].includes(t.s)
      );
    return false;
  }

  private parseTerm(): Node {
    this.enter();
    const factors: Node[] = [this.parseUnary()];
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if ((t.t === 'op' && t.s === '*') || (t.t === 'cmd' && MUL_CMDS.has(t.s))) {
        this.pos++;
        factors.push(this.parseUnary());
      } else if ((t.t === 'op' && t.s === '/') || (t.t === 'cmd' && t.s === 'div')) {
        this.pos++;
        const den = this.parseUnary();
        const numer: Node = factors.length === 1 ? factors[0] : { k: 'mul', args: factors.splice(0) };
        factors.length = 0;
        factors.push({ k: 'div', num: numer, den });
      } else if (t.t === 'op' && t.s === '%') {
        this.pos++;
        const last = factors.pop()!;
        factors.push({ k: 'pct', arg: last });
      } else if (t.t === 'text' && this.pos > 0) {
        // A \text{...} after a value is a unit ("5 \text{ cm}"): it carries no value.
        this.pos++;
        this.skipUnitPower();
      } else if (this.isMixedNumber(factors)) {
        // 2\frac{1}{2} is two and a half, not two halves.
        const whole = factors.pop()!;
        factors.push({ k: 'add', args: [whole, this.parsePower()] });
      } else if (this.startsFactor()) {
        factors.push(this.parsePower());
      } else break;
    }
    this.depth--;
    return factors.length === 1 ? factors[0] : { k: 'mul', args: factors };
  }

  private isMixedNumber(factors: Node[]): boolean {
    const last = factors[factors.length - 1];
    if (factors.length !== 1 || last.k !== 'num' || last.isFloat || last.v.d !== 1n || !this.isCmd('frac'))
      return false;
    const a = this.peek(1);
    const b = this.peek(2);
    const c = this.peek(3);
    // \frac{1}{2} as tokens: { num } { num } ; or \frac12 as one num token of two digits
    if (a?.t === 'open' && b?.t === 'num' && c?.t === 'close') {
      const d = this.peek(5);
      return (
        this.peek(4)?.t === 'open' &&
        d?.t === 'num' &&
        /^\d+$/.test(b.s) &&
        /^\d+$/.test(d.s) &&
        this.peek(6)?.t === 'close'
      );
    }
    return a?.t === 'num' && /^\d\d$/.test(a.s);
  }

  private skipUnitPower(): void {
    if (this.isOp('^')) {
      this.pos++;
      const t = this.peek();
      if (t?.t === 'num') this.pos++;
      else if (t?.t === 'open' && t.s === '{') this.parseGroup();
    }
  }

  private parseUnary(): Node {
    if (this.isOp('-')) {
      this.pos++;
      this.enter();
      const r: Node = { k: 'neg', arg: this.parseUnary() };
      this.depth--;
      return r;
    }
    if (this.isOp('+')) {
      this.pos++;
      return this.parseUnary();
    }
    if (this.isCmd('pm') || this.isCmd('mp')) {
      // A leading ± (x = ±2) reads as 0 ± 2.
      this.pos++;
      return { k: 'pm', a: num({ n: 0n, d: 1n }), b: this.parseUnary() };
    }
    return this.parsePower();
  }

  private parsePower(): Node {
    this.enter();
    let base = this.parsePostfix();
    if (this.isOp('^')) {
      this.pos++;
      if (this.isCmd('circ')) {
        this.pos++; // degrees are read as plain numbers, as Math-Verify does
      } else if (
        this.peek()?.t === 'open' &&
        this.peek()?.s === '{' &&
        this.peek(1)?.t === 'cmd' &&
        this.peek(1)?.s === 'circ' &&
        this.peek(2)?.t === 'close'
      ) {
        this.pos += 3;
      } else {
        const exp = this.parseExponent();
        const counting = base.k === 'sym' ? /^([CA])_(\d+)$/.exec(base.name) : null;
        // C_n^k (combinations) and A_n^k (arrangements), as written in Chinese textbooks.
        base = counting ? this.countingNode(counting[1], BigInt(counting[2]), exp) : { k: 'pow', base, exp };
        base = this.parsePostfixOps(base);
      }
    }
    this.depth--;
    return base;
  }

  private countingNode(kind: string, n: bigint, k: Node): Node {
    const nNode = num({ n, d: 1n });
    const binom: Node = { k: 'fn', name: 'binom', args: [nNode, k] };
    if (kind === 'C') return binom;
    return { k: 'mul', args: [binom, { k: 'fn', name: 'factorial', args: [k] }] };
  }

  private parseExponent(): Node {
    const t = this.peek();
    if (t?.t === 'open' && t.s === '{') return this.parseGroup();
    if (this.isOp('-')) {
      this.pos++;
      return { k: 'neg', arg: this.parseExponent() };
    }
    if (t?.t === 'num' || t?.t === 'id') {
      this.pos++;
      return t.t === 'num' ? this.numberNode(t.s) : this.symbolNode(t.s);
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Node {
    return this.parsePostfixOps(this.parsePrimary());
  }

  private parsePostfixOps(node: Node): Node {
    for (;;) {
      if (this.isOp('!')) {
        this.pos++;
        node = { k: 'fn', name: 'factorial', args: [node] };
      } else if (this.isOp("'") || this.isCmd('prime')) {
        this.pos++;
        node = node.k === 'sym' ? { k: 'sym', name: `${node.name}'` } : node;
      } else if (this.isOp('_')) {
        this.pos++;
        const sub = this.parseSubscript();
        // x_1 is a name; 204_5 is a number in base 5.
        if (node.k === 'sym') node = { k: 'sym', name: `${node.name}_${sub}` };
        else if (node.k === 'num' && /^\d+$/.test(sub)) node = this.baseNumber(node, Number(sub));
      } else return node;
    }
  }

  private baseNumber(node: Node & { k: 'num' }, base: number): Node {
    const digits = node.v.n.toString();
    if (base < 2 || base > 36 || node.v.d !== 1n) return node;
    let v = 0n;
    for (const ch of digits) {
      const d = Number.parseInt(ch, 36);
      if (d >= base) return node;
      v = v * BigInt(base) + BigInt(d);
    }
    return num({ n: v, d: 1n });
  }

  private parseSubscript(): string {
    const t = this.peek();
    if (!t) throw new ParseError('dangling _');
    this.pos++;
    if (t.t === 'num' || t.t === 'id' || t.t === 'text') return t.s;
    if (t.t === 'cmd') return t.s;
    if (t.t === 'open' && t.s === '{') {
      let s = '';
      let depth = 1;
      while (this.pos < this.toks.length) {
        const u = this.toks[this.pos++];
        if (u.t === 'open') depth++;
        if (u.t === 'close' && --depth === 0) return s;
        s += u.s;
      }
    }
    throw new ParseError('bad subscript');
  }

  private numberNode(s: string): Node {
    const v = parseDecimal(s);
    if (!v) throw new ParseError(`number ${s}`);
    return num(v, /[.eE]/.test(s));
  }

  private symbolNode(name: string): Node {
    if (name === 'e') return { k: 'const', name: 'e' };
    return { k: 'sym', name };
  }

  /** `{ ... }` as a group. */
  private parseGroup(): Node {
    const t = this.peek();
    if (t?.t !== 'open' || t.s !== '{') throw new ParseError('expected {');
    this.pos++;
    if (this.peek()?.t === 'close' && this.peek()?.s === '}') throw new ParseError('empty group');
    const inner = this.parseList();
    this.expectClose('}');
    return inner;
  }

  /** An argument of \frac, \sqrt: a braced group or a single token (\frac12). */
  private parseArg(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('missing argument');
    if (t.t === 'open' && t.s === '{') return this.parseGroup();
    if (t.t === 'num') {
      // \frac12 → 1/2: a bare digit argument takes one digit only, as TeX does.
      this.pos++;
      if (t.s.length > 1 && /^\d+$/.test(t.s)) {
        this.toks.splice(this.pos, 0, { t: 'num', s: t.s.slice(1) });
        return this.numberNode(t.s[0]);
      }
      return this.numberNode(t.s);
    }
    if (t.t === 'id') {
      this.pos++;
      return this.symbolNode(t.s);
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Node {
    this.enter();
    const node = this.parsePrimaryInner();
    this.depth--;
    return node;
  }

  private parsePrimaryInner(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('unexpected end');
    switch (t.t) {
      case 'num':
        this.pos++;
        return this.numberNode(t.s);
      case 'id':
        return this.parseIdentifier();
      case 'text': {
        this.pos++;
        // \text{13} or \text{\infty} hold a value, not a word.
        const inner = t.s.trim();
        const value = /^(-?\d+(?:\.\d+)?)(?:\s+[a-zA-Z][a-zA-Z ]*)?$/.exec(inner); // "5 units"
        if (value) return this.numberNode(value[1]);
        if (inner === '\\infty') return { k: 'const', name: 'inf' };
        if (/^[A-Za-z]$/.test(inner)) return this.symbolNode(inner); // \mathrm{C}
        const word = NUMBER_WORDS.indexOf(inner.toLowerCase());
        if (word >= 0) return num({ n: BigInt(word), d: 1n });
        return { k: 'text', s: t.s };
      }
      case 'env':
        if (!t.begin) throw new ParseError('unexpected \\end');
        return this.parseEnvironment(t.s);
      case 'open':
        return this.parseBracketed(t.s);
      case 'op':
        if (t.s === '|') return this.parseAbs();
        throw new ParseError(`unexpected ${t.s}`);
      case 'cmd':
        return this.parseCommand(t.s);
      default:
        throw new ParseError('unexpected token');
    }
  }

  private parseIdentifier(): Node {
    // Function names written without a backslash (sin x, sqrt(2), log 3).
    let word = '';
    for (let o = 0; o < 6; o++) {
      const t = this.peek(o);
      if (t?.t !== 'id') break;
      word += t.s;
    }
    for (const f of WORD_FUNCTIONS) {
      if (word.startsWith(f)) {
        const after = this.peek(f.length);
        if (
          after &&
          (after.t === 'open' ||
            after.t === 'num' ||
            after.t === 'id' ||
            after.t === 'cmd' ||
            (after.t === 'op' && after.s === '^'))
        ) {
          this.pos += f.length;
          return f === 'sqrt' ? { k: 'fn', name: 'sqrt', args: [this.parseArg()] } : this.parseFunction(f);
        }
      }
    }
    const t = this.peek()!;
    this.pos++;
    return this.symbolNode(t.s);
  }

  private parseAbs(): Node {
    this.pos++;
    const inner = this.parseSum();
    if (!this.isOp('|')) throw new ParseError('unclosed |');
    this.pos++;
    return { k: 'fn', name: 'abs', args: [inner] };
  }

  private parseBracketed(open: string): Node {
    this.pos++;
    if (open === '{') {
      if (this.peek()?.t === 'close') throw new ParseError('empty group');
      const inner = this.parseList();
      this.expectClose('}');
      return inner;
    }
    if (open === '\\{') {
      if (this.peek()?.t === 'close' && this.peek()?.s === '\\}') {
        this.pos++;
        return { k: 'set', items: [] };
      }
      const inner = this.parseList();
      if (this.isOp('|') || this.isCmd('mid') || this.isOp(':')) {
        // Set-builder {x | -2 < x < 3}: the set is its condition.
        this.pos++;
        const condition = this.parseList();
        this.expectClose('\\}');
        return condition;
      }
      this.expectClose('\\}');
      return { k: 'set', items: inner.k === 'list' ? inner.items : [inner] };
    }
    const inner = this.parseList();
    const close = this.peek();
    if (close?.t !== 'close' || (close.s !== ')' && close.s !== ']'))
      throw new ParseError('unclosed bracket');
    this.pos++;
    const o = open as '(' | '[';
    const c = close.s as ')' | ']';
    if (inner.k === 'list') {
      if (inner.items.length === 2 && (o !== '(' || c !== ')')) {
        return {
          k: 'interval',
          lo: inner.items[0],
          hi: inner.items[1],
          loOpen: o === '(',
          hiOpen: c === ')',
        };
      }
      return { k: 'tuple', items: inner.items, open: o, close: c };
    }
    return inner;
  }

  private parseEnvironment(name: string): Node {
    this.pos++;
    if (!/matrix$|^array$/.test(name)) {
      // align, cases, ...: read the body as a list and drop the wrapper.
      const body = this.parseList();
      this.expectEnd(name);
      return body;
    }
    const rows: Node[][] = [[]];
    for (;;) {
      const t = this.peek();
      if (!t) throw new ParseError('unclosed matrix');
      if (t.t === 'env' && !t.begin) break;
      if (t.t === 'op' && t.s === '&') {
        this.pos++;
        continue;
      }
      if (t.t === 'op' && t.s === '\\\\') {
        this.pos++;
        rows.push([]);
        continue;
      }
      rows[rows.length - 1].push(this.parseRelation());
    }
    this.expectEnd(name);
    const kept = rows.filter((r) => r.length > 0);
    if (kept.length === 0 || kept.some((r) => r.length !== kept[0].length))
      throw new ParseError('ragged matrix');
    const matrix: Node = { k: 'matrix', rows: kept };
    return name === 'vmatrix' ? { k: 'fn', name: 'det', args: [matrix] } : matrix;
  }

  private expectEnd(name: string): void {
    const t = this.peek();
    if (t?.t !== 'env' || t.begin || t.s !== name) throw new ParseError(`expected \\end{${name}}`);
    this.pos++;
  }

  private parseFunction(name: string): Node {
    let power: Node | null = null;
    let base: Node | null = null;
    for (let i = 0; i < 2; i++) {
      if (this.isOp('^')) {
        this.pos++;
        power = this.parseExponent();
      } else if (this.isOp('_')) {
        this.pos++;
        base = this.parseArg();
      }
    }
    let arg: Node;
    const t = this.peek();
    if (t?.t === 'open' && t.s === '(') {
      arg = this.parseBracketed('(');
    } else {
      // \sin 2x means sin(2x): the argument runs over juxtaposed factors.
      const factors = [this.parsePower()];
      while (this.peek() && (this.peek()!.t === 'num' || this.peek()!.t === 'id'))
        factors.push(this.parsePower());
      arg = factors.length === 1 ? factors[0] : { k: 'mul', args: factors };
    }
    // Like Math-Verify, \log without a base is base 10; \ln is natural.
    let fname = name === 'lg' || (name === 'log' && !base) ? 'log10' : name;
    let args = arg.k === 'list' || arg.k === 'tuple' ? arg.items : [arg];
    if (name === 'log' && base) args = [args[0], base];
    if (
      power &&
      power.k === 'neg' &&
      power.arg.k === 'num' &&
      power.arg.v.n === 1n &&
      power.arg.v.d === 1n &&
      /^(sin|cos|tan)$/.test(name)
    ) {
      fname = `arc${name}`;
      power = null;
    }
    if (fname === 'ln') fname = 'log';
    const call: Node = { k: 'fn', name: fname, args };
    return power ? { k: 'pow', base: call, exp: power } : call;
  }

  private parseCommand(name: string): Node {
    this.pos++;
    if (name === 'frac' || name === 'dfrac' || name === 'tfrac' || name === 'cfrac') {
      const n = this.parseArg();
      const d = this.parseArg();
      return { k: 'div', num: n, den: d };
    }
    if (name === 'binom' || name === 'dbinom' || name === 'tbinom' || name === 'choose') {
      return { k: 'fn', name: 'binom', args: [this.parseArg(), this.parseArg()] };
    }
    if (name === 'sqrt') {
      let index: Node | null = null;
      if (this.peek()?.t === 'open' && this.peek()?.s === '[') {
        this.pos++;
        index = this.parseSum();
        this.expectClose(']');
      }
      const arg = this.parseArg();
      return index
        ? { k: 'pow', base: arg, exp: { k: 'div', num: num({ n: 1n, d: 1n }), den: index } }
        : { k: 'fn', name: 'sqrt', args: [arg] };
    }
    if (FUNCTIONS.has(name)) return this.parseFunction(name);
    if (name === 'pi') return { k: 'const', name: 'pi' };
    if (name === 'infty' || name === 'infinity') return { k: 'const', name: 'inf' };
    if (name === 'emptyset' || name === 'varnothing') return { k: 'set', items: [] };
    if (GREEK.has(name)) return { k: 'sym', name };
    if (name === 'mathbb' || name === 'mathcal' || name === 'mathfrak' || name === 'mathscr') {
      const t = this.peek();
      let letter = '';
      if (t?.t === 'open' && t.s === '{') {
        this.pos++;
        while (this.peek() && this.peek()!.t !== 'close') letter += this.toks[this.pos++].s;
        this.expectClose('}');
      } else if (t?.t === 'id') {
        this.pos++;
        letter = t.s;
      }
      if (name === 'mathbb' && letter === 'R')
        return {
          k: 'interval',
          lo: { k: 'neg', arg: { k: 'const', name: 'inf' } },
          hi: { k: 'const', name: 'inf' },
          loOpen: true,
          hiOpen: true,
        };
      return { k: 'sym', name: `${name}_${letter}` };
    }
    if (name === 'lfloor' || name === 'lceil') {
      const inner = this.parseSum();
      const close = this.peek();
      if (close?.t !== 'cmd' || (close.s !== 'rfloor' && close.s !== 'rceil'))
        throw new ParseError('unclosed floor');
      this.pos++;
      return { k: 'fn', name: name === 'lfloor' ? 'floor' : 'ceil', args: [inner] };
    }
    if (name === 'langle') {
      const inner = this.parseList();
      if (!this.isCmd('rangle')) throw new ParseError('unclosed langle');
      this.pos++;
      return { k: 'tuple', items: inner.k === 'list' ? inner.items : [inner], open: '(', close: ')' };
    }
    if (name === 'vert' || name === 'lvert' || name === 'mid') {
      const inner = this.parseSum();
      if (!this.isCmd('vert') && !this.isCmd('rvert') && !this.isCmd('mid'))
        throw new ParseError('unclosed vert');
      this.pos++;
      return { k: 'fn', name: 'abs', args: [inner] };
    }
    if (
      name === 'overline' ||
      name === 'bar' ||
      name === 'hat' ||
      name === 'vec' ||
      name === 'tilde' ||
      name === 'widehat' ||
      name === 'overrightarrow'
    ) {
      const inner = this.parseArg();
      return inner.k === 'sym'
        ? { k: 'sym', name: `${name}_${inner.name}` }
        : { k: 'fn', name, args: [inner] };
    }
    // Anything else (\angle, \triangle, \%...) is kept as an opaque name.
    return { k: 'sym', name: `\\${name}` };
  }
}

/** Parses a normalised LaTeX answer; null when it is not a well-formed expression. */
export function parseLatex(src: string): Node | null {
  const toks = tokenize(src);
  if (!toks || toks.length === 0 || toks.length > MAX_TOKENS) return null;
  try {
    return new Parser(toks).parseAll();
  } catch (err) {
    if (err instanceof ParseError || err instanceof RangeError) return null;
    throw err;
  }
}
