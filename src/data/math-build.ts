/**
 * The SimpleRL-Zero training set from the MATH dataset (`simplerl data math`).
 *
 * Input, either layout:
 *   original     DIR/{train,test}/<subject>/<n>.json, one problem per file: problem, level, type, solution
 *   parquet      *.parquet files anywhere under DIR (the Hugging Face layout: columns problem, level,
 *                type, solution); a file's split is `train` or `test` from the first path part that names one
 * Rows kept: levels 3-5 (`Level 3`..`Level 5`; `Level ?` is dropped), from train and test, minus every
 * MATH500 problem (by its unique_id, e.g. `test/precalculus/807.json`, and by its normalised text, so
 * the Parquet layout, which has no ids, is decontaminated too), with an answer (the final `\boxed{}` of
 * the solution as the verifier reads it: src/reward/boxed.ts), and not a duplicate (normalised problem
 * text, `normaliseProblemText`: NFKC, lower case, whitespace collapsed; the first in order is kept).
 * Order: train before test, then subject folder (or Parquet file), then problem number (or row).
 * Output: JSONL rows {problem, answer, level, subject, source}; the same input gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { lastBoxed } from '../reward/boxed.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { normaliseProblemText } from './problems.ts';

export const MATH_SOURCE_NOT_FOUND = 'MATH source not found';
export const BAD_MATH_RECORD = 'bad MATH record';
export const BAD_EXCLUDE_FILE = 'bad MATH500 list';
export const SPLITS = ['train', 'test'] as const;
export const DEFAULT_LEVELS = [3, 4, 5];
/** The shipped MATH500 list (Qwen2.5-Math's / SimpleRL's math500/test.jsonl: unique_id and problem). */
const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const DEFAULT_MATH500_FILE = join(REPO_ROOT, 'data', 'bench', 'math500', 'test.jsonl');
/** Where configs/zero.yaml and configs/warmup.yaml read the training set. */
export const DEFAULT_MATH_OUT = 'data/math-level3to5.jsonl';

export interface MathRow {
  problem: string;
  answer: string;
  level: number;
  subject: string;
  source: string;
}

/** One source problem before filtering; `source` is its path (`train/algebra/1.json`) or `FILE:row N`. */
export interface MathRecord {
  source: string;
  problem: string;
  level: string;
  subject: string;
  solution: string;
}

export interface MathBuildCounts {
  numRecords: number;
  numOtherLevel: number;
  numMath500: number;
  numNoAnswer: number;
  numDuplicates: number;
  numRows: number;
}

export interface MathBuild {
  rows: MathRow[];
  counts: MathBuildCounts;
  /** MATH500 members met in the source (500 when the source holds all of MATH's test split). */
  numMath500Found: number;
}

/** The set to leave out: ids (`test/algebra/1.json`) and normalised-text hashes. */
export interface ExcludeSet {
  ids: Set<string>;
  hashes: Set<string>;
}

export function textHash(problem: string): string {
  return sha256Hex(normaliseProblemText(problem));
}

function field(row: Record<string, unknown>, name: string, where: string): string {
  const value = row[name];
  if (typeof value !== 'string')
    throw new Error(`${BAD_MATH_RECORD}: ${where}: field "${name}" must be a string`);
  return value;
}

export function toRecord(row: unknown, source: string): MathRecord {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new Error(`${BAD_MATH_RECORD}: ${source}: expected a JSON object`);
  const r = row as Record<string, unknown>;
  const [problem, level, subject, solution] = ['problem', 'level', 'type', 'solution'].map((n) =>
    field(r, n, source),
  );
  return { source, problem, level, subject, solution };
}

const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function listDir(dir: string): string[] {
  return readdirSync(dir).sort(byNumber);
}

/** Records of the original layout, in build order. */
export function readOriginalLayout(dir: string): MathRecord[] {
  const out: MathRecord[] = [];
  for (const split of SPLITS) {
    const splitDir = join(dir, split);
    if (!existsSync(splitDir)) throw new Error(`${MATH_SOURCE_NOT_FOUND}: ${splitDir} does not exist`);
    for (const subject of listDir(splitDir).filter((s) => statSync(join(splitDir, s)).isDirectory()))
      for (const file of listDir(join(splitDir, subject)).filter((f) => f.endsWith('.json')))
        out.push(readJsonRecord(join(splitDir, subject, file), `${split}/${subject}/${file}`));
  }
  return out;
}

function readJsonRecord(path: string, source: string): MathRecord {
  let row: unknown;
  try {
    row = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${BAD_MATH_RECORD}: ${path}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return toRecord(row, source);
}

function walkFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of listDir(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walkFiles(path, ext));
    else if (name.endsWith(ext)) out.push(path);
  }
  return out;
}

/** The split a Parquet file belongs to: the first part of its path (below DIR) that names one. */
export function parquetSplit(dir: string, path: string): (typeof SPLITS)[number] {
  const parts = relative(dir, path).split(sep);
  for (const part of parts) {
    const split = SPLITS.find((s) => part === s || part.startsWith(`${s}-`) || part.startsWith(`${s}.`));
    if (split) return split;
  }
  throw new Error(
    `${MATH_SOURCE_NOT_FOUND}: ${path}: cannot tell train from test (name a folder or file train* / test*)`,
  );
}

async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  try {
    return await parquetReadObjects({ file: await asyncBufferFromFile(path), compressors });
  } catch (err) {
    throw new Error(`${BAD_MATH_RECORD}: ${path}: cannot read Parquet: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Records of the Parquet layout, in build order (train files, then test files, rows in file order). */
export async function readParquetLayout(dir: string): Promise<MathRecord[]> {
  const files = walkFiles(dir, '.parquet');
  const out: MathRecord[] = [];
  for (const split of SPLITS) {
    for (const path of files.filter((f) => parquetSplit(dir, f) === split)) {
      const name = relative(dir, path).split(sep).join('/');
      for (const [i, row] of (await readParquetRows(path)).entries())
        out.push(toRecord(row, `${name}:row ${i + 1}`));
    }
  }
  return out;
}

/** Reads whichever layout DIR holds (train/ and test/ folders of JSON files, else Parquet files). */
export async function readMathSource(dir: string): Promise<MathRecord[]> {
  if (!existsSync(dir)) throw new Error(`${MATH_SOURCE_NOT_FOUND}: ${dir} does not exist`);
  if (
    SPLITS.every(
      (s) => existsSync(join(dir, s)) && readdirSync(join(dir, s)).some((n) => !n.endsWith('.parquet')),
    )
  )
    return readOriginalLayout(dir);
  if (walkFiles(dir, '.parquet').length > 0) return readParquetLayout(dir);
  throw new Error(`${MATH_SOURCE_NOT_FOUND}: ${dir} has neither train/ and test/ folders nor .parquet files`);
}

/** The MATH500 list: a JSONL file with `unique_id` and `problem` per line (HF's / Qwen's math500/test.jsonl). */
export function readExcludeFile(path: string): ExcludeSet {
  if (!existsSync(path)) throw new Error(`${BAD_EXCLUDE_FILE}: ${path} does not exist`);
  const set: ExcludeSet = { ids: new Set(), hashes: new Set() };
  for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { unique_id?: unknown; problem?: unknown };
    if (typeof row.problem !== 'string')
      throw new Error(`${BAD_EXCLUDE_FILE}: ${path}:${i + 1}: field "problem" must be a string`);
    if (typeof row.unique_id === 'string') set.ids.add(row.unique_id);
    set.hashes.add(textHash(row.problem));
  }
  return set;
}

/** `Level 3` → 3; anything else (`Level ?`) → undefined. */
export function mathLevel(level: string): number | undefined {
  const m = /^Level (\d)$/.exec(level.trim());
  return m ? Number(m[1]) : undefined;
}

/** The answer as the verifier reads a response: the final box(es), or undefined when none or empty. */
export function boxedAnswer(solution: string): string | undefined {
  const box = lastBoxed(solution);
  const answer = box?.content.trim();
  return answer ? answer : undefined;
}

export function buildMathSet(records: MathRecord[], exclude: ExcludeSet, levels = DEFAULT_LEVELS): MathBuild {
  const counts: MathBuildCounts = {
    numRecords: records.length,
    numOtherLevel: 0,
    numMath500: 0,
    numNoAnswer: 0,
    numDuplicates: 0,
    numRows: 0,
  };
  const rows: MathRow[] = [];
  const seen = new Set<string>();
  const found = new Set<string>();
  for (const rec of records) {
    const hash = textHash(rec.problem);
    const isMath500 = exclude.ids.has(rec.source) || exclude.hashes.has(hash);
    if (isMath500) found.add(hash);
    const level = mathLevel(rec.level);
    if (level === undefined || !levels.includes(level)) {
      counts.numOtherLevel++;
      continue;
    }
    if (isMath500) {
      counts.numMath500++;
      continue;
    }
    const answer = boxedAnswer(rec.solution);
    if (answer === undefined) {
      counts.numNoAnswer++;
      continue;
    }
    if (seen.has(hash)) {
      counts.numDuplicates++;
      continue;
    }
    seen.add(hash);
    rows.push({ problem: rec.problem, answer, level, subject: rec.subject, source: rec.source });
  }
  counts.numRows = rows.length;
  return { rows, counts, numMath500Found: found.size };
}

/** The file's bytes: one JSON object per line, keys in a fixed order, `\n` line ends. */
export function serialiseRows(rows: MathRow[]): string {
  return rows
    .map((r) =>
      JSON.stringify({
        problem: r.problem,
        answer: r.answer,
        level: r.level,
        subject: r.subject,
        source: r.source,
      }),
    )
    .map((l) => `${l}\n`)
    .join('');
}

export interface MathManifest {
  file: string;
  count: number;
  bytes: number;
  sha256: string;
  levels: number[];
  source: { layout: 'original' | 'parquet'; repo: string | null; commit: string | null; path: string | null };
  math500: { file: string; sha256: string; numMembers: number; numFoundInSource: number; match: string };
  counts: MathBuildCounts;
  dedup: string;
  answer: string;
  buildCommand: string;
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export interface WriteMathOptions {
  source: string;
  out: string;
  exclude: string;
  levels?: number[];
  sourceRepo?: string;
  sourceCommit?: string;
  sourcePath?: string;
  buildCommand: string;
}

/** A path as the manifest records it: relative to the repository when inside it (machine-independent). */
function repoPath(path: string): string {
  const rel = relative(REPO_ROOT, resolve(path));
  return rel.startsWith('..') || isAbsolute(rel) ? basename(path) : rel.split(sep).join('/');
}

/** The manifest beside a built file: `x.jsonl` → `x.manifest.json`. */
export function manifestPath(out: string): string {
  return `${out.replace(/\.jsonl$/, '')}.manifest.json`;
}

/** Builds the set from `source`, writes it and its manifest (each atomically); returns the manifest. */
export async function writeMathSet(opts: WriteMathOptions): Promise<MathManifest> {
  const records = await readMathSource(opts.source);
  const levels = opts.levels ?? DEFAULT_LEVELS;
  const exclude = readExcludeFile(opts.exclude);
  const build = buildMathSet(records, exclude, levels);
  const text = serialiseRows(build.rows);
  const manifest: MathManifest = {
    file: repoPath(opts.out),
    count: build.rows.length,
    bytes: Buffer.byteLength(text),
    sha256: sha256Hex(text),
    levels,
    source: {
      layout: records[0]?.source.includes(':row ') ? 'parquet' : 'original',
      repo: opts.sourceRepo ?? null,
      commit: opts.sourceCommit ?? null,
      path: opts.sourcePath ?? null,
    },
    math500: {
      file: repoPath(opts.exclude),
      sha256: sha256Hex(readFileSync(opts.exclude)),
      numMembers: exclude.hashes.size,
      numFoundInSource: build.numMath500Found,
      match: 'unique_id equals the source path, or sha256 of the normalised problem text is equal',
    },
    counts: build.counts,
    dedup:
      'sha256 of the problem text after NFKC, lower case and whitespace collapsing; the first in order is kept',
    answer:
      'the final \\boxed{} of the solution as src/reward/boxed.ts reads it (trimmed); none or empty: dropped',
    buildCommand: opts.buildCommand,
  };
  await writeAtomic(opts.out, text);
  await writeAtomic(manifestPath(opts.out), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  writeFileAtomic(path, text);
}
