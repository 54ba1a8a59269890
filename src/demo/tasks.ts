/**
 * Procedural math problems with exact answers for the CPU demo (`simplerl data synth`).
 *
 * Two skills: arithmetic chains ("Compute 17 - 5 + 6 + 3.") and linear equations ("Solve 3x + 8 = 35.").
 * Levels 1-3 are the RL training distribution; level 4 is the `hard` split: chains of 6-7 operands (RL
 * trains on 3-5) and equations with larger constants (b in 31-60, RL trains on ≤ 30), to show that what
 * RL teaches carries past what it trained on. The base model's corpus covers level 4 too (train buckets
 * only; see `CORPUS_LEVELS` in corpus.ts for why).
 *
 * Splits are decided by the problem text alone: a problem is held out when `fnv1a(text) % 5 == 0`.
 * `train` keeps the other four buckets of levels 1-3; `test` keeps bucket 0 of levels 1-3; `hard`
 * keeps bucket 0 of level 4. So test and hard never share a text with train (nor with the corpus,
 * which is written from train problems only), whatever the seeds.
 */
import { fnv1a, makeRng, type Rng } from './rng.ts';

export type Split = 'train' | 'test' | 'hard';
export const SPLITS: readonly Split[] = ['train', 'test', 'hard'];
export type Skill = 'chain' | 'equation';
export type Op = '+' | '-';

export interface ChainSpec {
  kind: 'chain';
  operands: number[];
  /** ops[i] joins operands[i] and operands[i + 1] */
  ops: Op[];
}

export interface EquationSpec {
  kind: 'equation';
  /** a·x ± b = c */
  a: number;
  sign: Op;
  b: number;
  c: number;
  x: number;
}

export type TaskSpec = ChainSpec | EquationSpec;

/** One line of the JSONL files `simplerl data synth` writes. */
export interface TaskRecord {
  id: string;
  problem: string;
  /** exact answer, LaTeX */
  answer: string;
  level: number;
  skill: Skill;
}

export interface Task extends TaskRecord {
  spec: TaskSpec;
}

export const NUM_BUCKETS = 5;
export const HELD_OUT_BUCKET = 0;
const MAX_TRIES_PER_PROBLEM = 200;

/** Share of chains among problems; the rest are equations (the prototype's 60/40 mixture). */
export const CHAIN_SHARE = 0.6;

interface ChainLevel {
  minOperands: number;
  maxOperands: number;
  /** every operand and every running total stays within [0, maxValue] */
  maxValue: number;
}

interface EquationLevel {
  maxA: number;
  minX: number;
  maxX: number;
  minB: number;
  maxB: number;
  /** whether `a·x - b = c` appears besides `a·x + b = c` */
  isMinusAllowed: boolean;
}

export const CHAIN_LEVELS: Record<number, ChainLevel> = {
  1: { minOperands: 3, maxOperands: 3, maxValue: 20 },
  2: { minOperands: 4, maxOperands: 4, maxValue: 40 },
  3: { minOperands: 5, maxOperands: 5, maxValue: 40 },
  4: { minOperands: 6, maxOperands: 7, maxValue: 40 },
};

export const EQUATION_LEVELS: Record<number, EquationLevel> = {
  1: { maxA: 5, minX: 1, maxX: 9, minB: 1, maxB: 15, isMinusAllowed: false },
  2: { maxA: 9, minX: 1, maxX: 12, minB: 1, maxB: 30, isMinusAllowed: true },
  3: { maxA: 9, minX: 1, maxX: 12, minB: 1, maxB: 30, isMinusAllowed: true },
  4: { maxA: 9, minX: 1, maxX: 12, minB: 31, maxB: 60, isMinusAllowed: false },
};

export const TRAIN_LEVELS = [1, 2, 3];
export const HARD_LEVEL = 4;

export function splitOfText(text: string): 'train' | 'held-out' {
  return fnv1a(text) % NUM_BUCKETS === HELD_OUT_BUCKET ? 'held-out' : 'train';
}

export function chainValue(spec: ChainSpec): number {
  let total = spec.operands[0]!;
  for (let i = 0; i < spec.ops.length; i++) total = applyOp(total, spec.ops[i]!, spec.operands[i + 1]!);
  return total;
}

export function applyOp(a: number, op: Op, b: number): number {
  return op === '+' ? a + b : a - b;
}

export function renderProblem(spec: TaskSpec): string {
  if (spec.kind === 'chain') {
    let text = `${spec.operands[0]}`;
    for (let i = 0; i < spec.ops.length; i++) text += ` ${spec.ops[i]} ${spec.operands[i + 1]}`;
    return `Compute ${text}.`;
  }
  return `Solve ${spec.a}x ${spec.sign} ${spec.b} = ${spec.c}.`;
}

export function answerOf(spec: TaskSpec): string {
  return String(spec.kind === 'chain' ? chainValue(spec) : spec.x);
}

function drawChain(rng: Rng, level: ChainLevel): ChainSpec {
  const numOperands = rng.int(level.minOperands, level.maxOperands);
  const operands = [rng.int(1, level.maxValue)];
  const ops: Op[] = [];
  let total = operands[0]!;
  for (let i = 1; i < numOperands; i++) {
    // choose the operator first, then an operand that keeps the running total in range
    const canAdd = total < level.maxValue;
    const canSub = total > 0;
    const op: Op = canAdd && (!canSub || rng.chance(0.5)) ? '+' : '-';
    const maxOperand = op === '+' ? level.maxValue - total : total;
    const b = rng.int(1, Math.max(1, Math.min(maxOperand, level.maxValue)));
    ops.push(op);
    operands.push(b);
    total = applyOp(total, op, b);
  }
  return { kind: 'chain', operands, ops };
}

function drawEquation(rng: Rng, level: EquationLevel): EquationSpec {
  const a = rng.int(2, level.maxA);
  const x = rng.int(level.minX, level.maxX);
  const sign: Op = level.isMinusAllowed && rng.chance(0.4) ? '-' : '+';
  // a·x - b must stay positive so that every number in the problem is a plain natural number
  const maxB = sign === '-' ? Math.min(level.maxB, a * x - 1) : level.maxB;
  const b = rng.int(Math.min(level.minB, maxB), Math.max(1, maxB));
  const c = sign === '+' ? a * x + b : a * x - b;
  return { kind: 'equation', a, sign, b, c, x };
}

export function drawSpec(rng: Rng, skill: Skill, level: number): TaskSpec {
  if (skill === 'chain') {
    const params = CHAIN_LEVELS[level];
    if (!params) throw new Error(`no chain level ${level}; valid: ${Object.keys(CHAIN_LEVELS).join(', ')}`);
    return drawChain(rng, params);
  }
  const params = EQUATION_LEVELS[level];
  if (!params)
    throw new Error(`no equation level ${level}; valid: ${Object.keys(EQUATION_LEVELS).join(', ')}`);
  return drawEquation(rng, params);
}

export function makeTask(spec: TaskSpec, level: number): Task {
  const problem = renderProblem(spec);
  return {
    id: `${spec.kind}-${fnv1a(problem).toString(16).padStart(8, '0')}`,
    problem,
    answer: answerOf(spec),
    level,
    skill: spec.kind,
    spec,
  };
}

export interface SynthOptions {
  split: Split;
  count: number;
  seed: number;
  /** levels to draw from; default 1-3 for train/test, 4 for hard */
  levels?: number[];
  chainShare?: number;
}

export const ERR_SYNTH_EXHAUSTED = 'synth: could not find enough distinct problems';

/**
 * `count` distinct problems of one split. Deterministic in (split, count, seed, levels). Skill and
 * level are drawn per problem; a draw whose text falls in the wrong bucket or repeats is redrawn.
 */
export function synthTasks(opts: SynthOptions): Task[] {
  const levels = opts.levels ?? (opts.split === 'hard' ? [HARD_LEVEL] : TRAIN_LEVELS);
  const chainShare = opts.chainShare ?? CHAIN_SHARE;
  const wantHeldOut = opts.split !== 'train';
  // distinct streams per split so that `--seed` gives independent-looking sets
  const rng = makeRng((opts.seed * 1000003 + SPLITS.indexOf(opts.split) * 7919) >>> 0);
  const seen = new Set<string>();
  const tasks: Task[] = [];
  let numTries = 0;
  while (tasks.length < opts.count) {
    if (++numTries > opts.count * MAX_TRIES_PER_PROBLEM) {
      throw new Error(
        `${ERR_SYNTH_EXHAUSTED}: ${tasks.length} of ${opts.count} (${opts.split}, levels ${levels})`,
      );
    }
    const skill: Skill = rng.chance(chainShare) ? 'chain' : 'equation';
    const level = rng.pick(levels);
    const task = makeTask(drawSpec(rng, skill, level), level);
    if ((splitOfText(task.problem) === 'held-out') !== wantHeldOut || seen.has(task.problem)) continue;
    seen.add(task.problem);
    tasks.push(task);
  }
  return tasks;
}

export function toRecord(task: Task): TaskRecord {
  return { id: task.id, problem: task.problem, answer: task.answer, level: task.level, skill: task.skill };
}

/** Rebuild a task's spec from its problem text (for JSONL files read back). */
export function parseProblem(problem: string): TaskSpec {
  const chain = /^Compute (\d+(?: [+-] \d+)+)\.$/.exec(problem);
  if (chain) {
    const parts = chain[1]!.split(' ');
    const operands: number[] = [];
    const ops: Op[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 0) operands.push(Number(parts[i]));
      else ops.push(parts[i] as Op);
    }
    return { kind: 'chain', operands, ops };
  }
  const eq = /^Solve (\d+)x ([+-]) (\d+) = (\d+)\.$/.exec(problem);
  if (eq) {
    const a = Number(eq[1]);
    const sign = eq[2] as Op;
    const b = Number(eq[3]);
    const c = Number(eq[4]);
    const x = (sign === '+' ? c - b : c + b) / a;
    return { kind: 'equation', a, sign, b, c, x };
  }
  throw new Error(`not a demo problem: ${JSON.stringify(problem)}`);
}
