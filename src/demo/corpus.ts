/**
 * The imperfect pre-training corpus of the demo's tiny base model: the way a base model sees maths on
 * the web. Each document is a prompt (the problem in the demo template) and a response in one style:
 *
 * - `terse`: `The answer is \boxed{21}.` with no work (the model cannot compute a chain in one token,
 *   so this mode answers noisily: the base accuracy is moderate because the base often picks it);
 * - `worked`: step-by-step, ending in a box. Its first pass carries a slip (one step off by a little,
 *   carried forward to a wrong box) with probability `slipRate`, and, independently of the slip, it
 *   ends with a recheck with probability `recheckRate`: "Let me recheck:" verifies the answer by a
 *   different computation (a chain is undone from its answer back to its first operand; an equation
 *   gets its x substituted back); after a clean pass it says "It is right.", after a slip "Wait, that
 *   is wrong." and solves again (see `recheck` for why verify-then-redo);
 * - `unboxed`: worked, but ends "So it is 21." with no box;
 * - `ramble`: restates steps with filler and only boxes past the response length limit.
 *
 * Why the recheck is independent of the slip: the model cannot see in advance whether its pass will
 * slip, so in the corpus a check must not be triggered by the slip either; then the base's
 * P(check) is the same after clean and slipped passes, and what RL learns about checking comes only
 * from the reward (checked samples are more often correct while slips happen).
 */
import { makeRng, pickWeighted, type Rng } from './rng.ts';
import {
  applyOp,
  type ChainSpec,
  type EquationSpec,
  HARD_LEVEL,
  type Op,
  synthTasks,
  type Task,
  TRAIN_LEVELS,
} from './tasks.ts';

export type DocStyle = 'terse' | 'worked' | 'unboxed' | 'ramble';
export const DOC_STYLES: readonly DocStyle[] = ['terse', 'worked', 'unboxed', 'ramble'];

export interface CorpusMix {
  /** share of each style (normalised) */
  styles: Record<DocStyle, number>;
  /** probability that a worked / unboxed / rambling first pass carries a slip */
  slipRate: number;
  /** probability that a worked solution ends with a recheck, independent of the slip */
  recheckRate: number;
}

/**
 * 55% terse, 37% worked, 4% unboxed, 4% rambling; half of the worked first passes slip, a third of the
 * worked solutions recheck (independently of the slip). Terse answers are the most common single mode,
 * so a greedy base answers many problems tersely (and often wrongly) — the base's greedy accuracy has
 * room to rise when RL moves it to worked solutions, as in the original work. (The prototype's 40%
 * terse made greedy decoding pick worked solutions nearly always: greedy was 92-96% before RL and
 * could only fall.)
 */
export const DEFAULT_MIX: CorpusMix = {
  styles: { terse: 0.55, worked: 0.37, unboxed: 0.04, ramble: 0.04 },
  slipRate: 0.5,
  recheckRate: 1 / 3,
};

export interface CorpusDoc {
  /** the problem text (the prompt is the demo template around it) */
  problem: string;
  response: string;
  style: DocStyle;
  isSlip: boolean;
  isRecheck: boolean;
  /** whether the response's box holds the right answer */
  isCorrect: boolean;
}

export const RECHECK_PHRASE = 'Let me recheck:';
export const WRONG_PHRASE = 'Wait, that is wrong.';
export const RIGHT_PHRASE = 'It is right.';
const FILLER = 'Hmm, let me see.';

function boxed(answer: number | string): string {
  return `The answer is \\boxed{${answer}}.`;
}

/**
 * A slip: off by 1-2 (sometimes 10). `floor` is the smallest value the slipped number is carried
 * into (itself for a last step): a downward slip is taken only when that stays ≥ 0.
 */
function slipOf(rng: Rng, value: number, floor = value): number {
  const delta = rng.chance(0.2) ? 10 : rng.int(1, 2);
  if (floor - delta < 0) return value + delta;
  return rng.chance(0.5) ? value + delta : value - delta;
}

interface Pass {
  /** the sentences of the pass */
  steps: string[];
  answer: number;
  isSlip: boolean;
}

function chainStep(a: number, op: Op, b: number, result: number): string {
  return `${a} ${op} ${b} = ${result}.`;
}

/** A pass over a chain; with `slipAt` ≥ 0 that step's result is off (drawn from `rng`) and carried forward. */
function chainPass(spec: ChainSpec, slipAt = -1, rng?: Rng): Pass {
  const correct: number[] = [];
  let total = spec.operands[0]!;
  for (let i = 0; i < spec.ops.length; i++) {
    total = applyOp(total, spec.ops[i]!, spec.operands[i + 1]!);
    correct.push(total);
  }
  const steps: string[] = [];
  total = spec.operands[0]!;
  for (let i = 0; i < spec.ops.length; i++) {
    let next = applyOp(total, spec.ops[i]!, spec.operands[i + 1]!);
    if (i === slipAt) next = slipOf(rng!, next, Math.min(spec.operands[0]!, ...correct));
    steps.push(chainStep(total, spec.ops[i]!, spec.operands[i + 1]!, next));
    total = next;
  }
  return { steps, answer: total, isSlip: slipAt >= 0 };
}

function equationSolve(spec: EquationSpec, ax: number, x: number): string[] {
  const inverse = spec.sign === '+' ? '-' : '+';
  return [`${spec.a}x = ${spec.c} ${inverse} ${spec.b} = ${ax}.`, `x = ${ax} / ${spec.a} = ${x}.`];
}

/** First pass over an equation; a slip is either in a·x (carried into x) or in the division. */
function equationPass(rng: Rng, spec: EquationSpec, isSlip: boolean): Pass {
  const ax = spec.a * spec.x;
  if (!isSlip) return { steps: equationSolve(spec, ax, spec.x), answer: spec.x, isSlip };
  if (rng.chance(0.5) && ax > spec.a) {
    // off by a multiple of a so that the division still comes out whole
    const wrongAx = rng.chance(0.5) ? ax + spec.a : ax - spec.a;
    return { steps: equationSolve(spec, wrongAx, wrongAx / spec.a), answer: wrongAx / spec.a, isSlip };
  }
  const wrongX = slipOf(rng, spec.x);
  return { steps: equationSolve(spec, ax, wrongX), answer: wrongX, isSlip };
}

function firstPass(rng: Rng, task: Task, isSlip: boolean): Pass {
  if (task.spec.kind === 'chain') {
    const slipAt = isSlip ? rng.int(0, task.spec.ops.length - 1) : -1;
    return chainPass(task.spec, slipAt, rng);
  }
  return equationPass(rng, task.spec, isSlip);
}

/** The steps of a pass without a slip. */
function cleanSteps(task: Task): string[] {
  const spec = task.spec;
  return spec.kind === 'chain' ? chainPass(spec).steps : equationSolve(spec, spec.a * spec.x, spec.x);
}

/**
 * The recheck after a first pass: a verification that is a different computation from the pass, then,
 * only when it fails, a second solve. A chain is undone from its answer back to its first operand; an
 * equation gets its x substituted back. A verification that passes keeps the first answer, one that
 * fails says "Wait, that is wrong." and solves again; the box holds the right answer either way.
 *
 * Why verify-then-redo and not redo-and-trust: a check that only recomputes and boxes its own result is
 * exactly as reliable as the first pass (it samples the same arithmetic), so checking would never pay
 * off in the model's own samples and RL lets it fade. Verify-then-redo gives a wrong first pass a second
 * chance, so a checked answer stays more often right than an unchecked one while any slip is left.
 */
function recheck(task: Task, pass: Pass): string[] {
  const out = [RECHECK_PHRASE];
  const spec = task.spec;
  let isVerified: boolean;
  if (spec.kind === 'chain') {
    let total = pass.answer;
    for (let i = spec.ops.length - 1; i >= 0; i--) {
      const undo: Op = spec.ops[i] === '+' ? '-' : '+';
      const prev = applyOp(total, undo, spec.operands[i + 1]!);
      out.push(chainStep(total, undo, spec.operands[i + 1]!, prev));
      total = prev;
    }
    isVerified = total === spec.operands[0];
  } else {
    const ax = spec.a * pass.answer;
    const lhs = applyOp(ax, spec.sign, spec.b);
    out.push(`${spec.a} × ${pass.answer} = ${ax}.`, `${ax} ${spec.sign} ${spec.b} = ${lhs}.`);
    isVerified = lhs === spec.c;
  }
  if (isVerified) out.push(RIGHT_PHRASE);
  else out.push(WRONG_PHRASE, ...cleanSteps(task));
  out.push(boxed(task.answer));
  return out;
}

export interface DocOptions {
  mix?: CorpusMix;
  /** a rambling response boxes only after this many tokens (the rollout length limit + margin) */
  rambleTokens: number;
  countTokens: (text: string) => number;
}

export function writeDoc(rng: Rng, task: Task, style: DocStyle, opts: DocOptions): CorpusDoc {
  const mix = opts.mix ?? DEFAULT_MIX;
  const doc = (response: string, isSlip: boolean, isRecheck: boolean, isCorrect: boolean): CorpusDoc => ({
    problem: task.problem,
    response,
    style,
    isSlip,
    isRecheck,
    isCorrect,
  });
  if (style === 'terse') return doc(boxed(task.answer), false, false, true);
  const pass = firstPass(rng, task, rng.chance(mix.slipRate));
  const isRight = String(pass.answer) === task.answer;
  if (style === 'unboxed')
    return doc([...pass.steps, `So it is ${pass.answer}.`].join(' '), pass.isSlip, false, false);
  if (style === 'ramble') {
    const parts: string[] = [];
    while (opts.countTokens(parts.join(' ')) < opts.rambleTokens) {
      for (const step of pass.steps) parts.push(step, FILLER);
    }
    parts.push(boxed(pass.answer));
    return doc(parts.join(' '), pass.isSlip, false, isRight);
  }
  if (rng.chance(mix.recheckRate))
    return doc([...pass.steps, ...recheck(task, pass)].join(' '), pass.isSlip, true, true);
  return doc([...pass.steps, boxed(pass.answer)].join(' '), pass.isSlip, false, isRight);
}

export interface CorpusOptions extends DocOptions {
  numDocs: number;
  seed: number;
  /** distinct training problems drawn for the corpus (a problem may appear in several documents) */
  numProblems?: number;
}

/**
 * The levels the corpus is written over: the RL levels and the hard level. As in the original work, where
 * the base model had seen competition-style maths on the web but RL trained on MATH problems only, the
 * base has seen long chains and large constants (never a held-out problem: only the train buckets), RL
 * sees levels 1-3 only, and the hard split asks whether what RL taught carries over to what it never
 * trained on. A level the base has never seen at all cannot improve: RL only re-weights what the base does.
 */
export const CORPUS_LEVELS = [...TRAIN_LEVELS, HARD_LEVEL];

/** Documents over training problems only (the held-out splits never appear). Deterministic in the options. */
export function writeCorpus(opts: CorpusOptions): CorpusDoc[] {
  const mix = opts.mix ?? DEFAULT_MIX;
  const tasks = synthTasks({
    split: 'train',
    levels: CORPUS_LEVELS,
    count: opts.numProblems ?? Math.min(opts.numDocs, 20000),
    seed: opts.seed,
  });
  const rng = makeRng((opts.seed ^ 0x5eed) >>> 0);
  const weights = DOC_STYLES.map((s) => mix.styles[s]);
  const docs: CorpusDoc[] = [];
  for (let i = 0; i < opts.numDocs; i++) {
    const task = tasks[i % tasks.length]!;
    docs.push(writeDoc(rng, task, DOC_STYLES[pickWeighted(rng, weights)]!, opts));
  }
  return docs;
}
