// Exact rationals over BigInt: integers and fractions compare exactly (1/2^99 ≠ 1/2^98), which a
// float or an absolute tolerance cannot promise. Sizes are capped so `10^{10^{10}}` fails fast
// instead of allocating gigabytes.

export interface Rational {
  readonly n: bigint;
  readonly d: bigint; // always > 0, gcd(n, d) = 1
}

/** Largest numerator/denominator (in bits) an exact computation may produce before giving up. */
export const MAX_EXACT_BITS = 65_536; // 2^65536 is ~20k digits: still microseconds of BigInt work

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function bitLength(a: bigint): number {
  return (a < 0n ? -a : a).toString(16).length * 4;
}

/** Builds n/d in lowest terms; null when d = 0 or the result is too large to keep exact. */
export function rat(n: bigint, d = 1n): Rational | null {
  if (d === 0n) return null;
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  const r = g > 1n ? { n: n / g, d: d / g } : { n, d };
  if (bitLength(r.n) > MAX_EXACT_BITS || bitLength(r.d) > MAX_EXACT_BITS) return null;
  return r;
}

export const ZERO: Rational = { n: 0n, d: 1n };
export const ONE: Rational = { n: 1n, d: 1n };

/** Parses a plain decimal literal ("12", "-0.25", ".5", "1e-3") exactly. */
export function parseDecimal(text: string): Rational | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const digits = `${m[2]}${m[3] ?? ''}` || '0';
  let n = BigInt(digits);
  let d = 10n ** BigInt((m[3] ?? '').length);
  const e = Number(m[4] ?? '0');
  if (Math.abs(e) > 1000) return null;
  if (e > 0) n *= 10n ** BigInt(e);
  else if (e < 0) d *= 10n ** BigInt(-e);
  return rat(m[1] === '-' ? -n : n, d);
}

export const add = (a: Rational, b: Rational) => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rational, b: Rational) => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational) => rat(a.n * b.n, a.d * b.d);
export const div = (a: Rational, b: Rational) => (b.n === 0n ? null : rat(a.n * b.d, a.d * b.n));
export const neg = (a: Rational): Rational => ({ n: -a.n, d: a.d });
export const isInteger = (a: Rational) => a.d === 1n;
export const equals = (a: Rational, b: Rational) => a.n === b.n && a.d === b.d;
export const cmp = (a: Rational, b: Rational) => {
  const x = a.n * b.d - b.n * a.d;
  return x < 0n ? -1 : x > 0n ? 1 : 0;
};

/** a^k for an integer k, refusing results beyond MAX_EXACT_BITS before computing them. */
export function powInt(a: Rational, k: bigint): Rational | null {
  if (k === 0n) return ONE;
  if (a.n === 0n) return k > 0n ? ZERO : null;
  const base = k < 0n ? { n: a.d, d: a.n } : a;
  const e = k < 0n ? -k : k;
  if (base.d === 1n && (base.n === 1n || base.n === -1n)) return e % 2n === 0n ? ONE : base;
  const bits = Math.max(bitLength(base.n), bitLength(base.d));
  if (e > BigInt(MAX_EXACT_BITS) || Number(e) * (bits - 4) > MAX_EXACT_BITS) return null;
  return rat(base.n ** e, base.d ** e);
}

/** Integer k-th root when exact (e.g. sqrt(9/4) = 3/2), else null. */
export function rootExact(a: Rational, k: number): Rational | null {
  if (k < 1 || k > 64) return null;
  if (a.n < 0n && k % 2 === 0) return null;
  const rn = intRoot(a.n < 0n ? -a.n : a.n, k);
  const rd = intRoot(a.d, k);
  if (rn === null || rd === null) return null;
  return rat(a.n < 0n ? -rn : rn, rd);
}

function intRoot(x: bigint, k: number): bigint | null {
  if (x < 2n) return x;
  const approx = BigInt(Math.round(Number(x) ** (1 / k)));
  for (const c of [approx - 1n, approx, approx + 1n]) if (c >= 0n && c ** BigInt(k) === x) return c;
  if (bitLength(x) < 50) return null;
  // Beyond double precision: Newton iteration on BigInt.
  let y = approx > 0n ? approx : 1n;
  const K = BigInt(k);
  for (let i = 0; i < 200; i++) {
    const next = ((K - 1n) * y + x / y ** (K - 1n)) / K;
    if (next === y) break;
    y = next;
  }
  for (const c of [y - 1n, y, y + 1n]) if (c >= 0n && c ** K === x) return c;
  return null;
}

export function toNumber(a: Rational): number {
  const n = Number(a.n);
  const d = Number(a.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale huge values down before converting so the ratio stays finite where it can.
  const shift = BigInt(Math.max(bitLength(a.n), bitLength(a.d)) - 1000);
  return Number(a.n >> shift) / Number(a.d >> shift);
}

/** Rounds to `places` decimals (half away from zero), as sympy's `round` does for our purposes. */
export function roundTo(a: Rational, places: number): Rational {
  const scale = 10n ** BigInt(places);
  const scaled = a.n * scale;
  const q = scaled / a.d;
  const r = scaled % a.d;
  const twice = 2n * (r < 0n ? -r : r);
  const away = twice >= a.d ? (scaled < 0n ? -1n : 1n) : 0n;
  return rat(q + away, scale) ?? a;
}

export function ratToString(a: Rational): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
